// The MaasMachineTemplate reconciler (CAPI v1beta2 InfraMachineTemplate contract,
// "support cluster autoscaling from zero"): fetch the template and, if it carries the
// cluster-name label, its Cluster; apply the pause rule; then reconcileCapacity over one
// scope whose status changes are written once, when the scope closes. A template owns
// nothing in MAAS (the dry run holds no machine), so there is no finalizer and no
// reconcileDelete.
import { ClusterNameLabel, MAAS_MACHINE_TEMPLATE, type MaasMachineTemplate } from "../../api/v1beta1/index.ts";
import { isPaused, ownerClusterName, pausedCondition, type Cluster } from "../../capi/index.ts";
import {
  isNotFound,
  requestKey,
  type Informer,
  type ReconcileContext,
  type Reconciler,
  type Request,
  type Result,
} from "../../runtime/index.ts";
import type { ControllerDeps } from "../shared/deps.ts";
import { reconcileCapacity } from "./capacity.ts";
import { TemplateScope } from "./scope.ts";

export interface MaasMachineTemplateCaches {
  templates: Informer<MaasMachineTemplate>;
  clusters: Informer<Cluster>;
}

export interface MaasMachineTemplateReconcilerOptions {
  deps: ControllerDeps;
  caches: MaasMachineTemplateCaches;
}

/**
 * What our last status write of a template said about its refresh. Both fields: the
 * refresh time has whole seconds, so a new generation refreshed within the second of
 * the last refresh writes the same time, and only the generation tells the writes apart.
 */
interface WrittenRefresh {
  uid: string | undefined;
  lastRefreshTime: string | undefined;
  observedGeneration: number | undefined;
}

export class MaasMachineTemplateReconciler implements Reconciler {
  readonly deps: ControllerDeps;
  readonly caches: MaasMachineTemplateCaches;
  /** By request key; see {@link MaasMachineTemplateReconciler.current}. */
  private readonly written = new Map<string, WrittenRefresh>();

  constructor(options: MaasMachineTemplateReconcilerOptions) {
    this.deps = options.deps;
    this.caches = options.caches;
  }

  async reconcile(request: Request, ctx: ReconcileContext): Promise<Result | void> {
    const key = requestKey(request);
    const template = await this.current(request, key);
    if (template === undefined) {
      this.written.delete(key);
      return;
    }
    // Nothing of ours to clean up, and a status write would only race the deletion.
    if (template.metadata.deletionTimestamp !== undefined) return;
    const cluster = this.clusterOf(template);

    const scope = new TemplateScope({ template, cluster, deps: this.deps, log: ctx.log, signal: ctx.signal });
    try {
      scope.setCondition(pausedCondition(cluster, { ...template, kind: MAAS_MACHINE_TEMPLATE.kind }));
      if (isPaused(cluster, template)) {
        ctx.log.debug("paused; capacity not refreshed");
        return;
      }
      return await reconcileCapacity(scope);
    } finally {
      await scope.close();
      // Recorded only once the write succeeded.
      if (scope.refreshRecorded) {
        this.written.set(key, { uid: template.metadata.uid, lastRefreshTime: scope.status.lastRefreshTime, observedGeneration: scope.status.observedGeneration });
      }
    }
  }

  /**
   * The template from the cache, unless the cache has not yet seen our last status
   * write (a reconcile queued while the previous one ran starts right after it, often
   * before the watch brings that write back). Acting on such a copy would ask MAAS
   * again within the interval and write its stale conditions list back over ours, so
   * the object is read from the API server instead. Rare: once per such race.
   */
  private async current(request: Request, key: string): Promise<MaasMachineTemplate | undefined> {
    const cached = this.caches.templates.get(request.namespace, request.name);
    const written = this.written.get(key);
    if (cached === undefined || written === undefined || written.uid !== cached.metadata.uid) return cached;
    if (cached.status?.lastRefreshTime === written.lastRefreshTime && cached.status?.observedGeneration === written.observedGeneration) return cached;
    this.written.delete(key);
    try {
      return await this.deps.client.get(MAAS_MACHINE_TEMPLATE, request);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * The Cluster a template belongs to: the one its cluster-name label names, else the
   * Cluster that owns it (CAPI v1.14 puts a Cluster owner reference on the templates its
   * MachineDeployments and MachineSets use: reconcileExternalTemplateReference). A
   * template shared by several clusters (a ClusterClass's) has neither, so no single
   * Cluster's pause is its own: it is paused only by its own annotation.
   */
  private clusterOf(template: MaasMachineTemplate): Cluster | undefined {
    const name = template.metadata.labels?.[ClusterNameLabel] ?? ownerClusterName(template);
    return name === undefined ? undefined : this.caches.clusters.get(template.metadata.namespace, name);
  }
}
