// The MaasMachine reconciler (CAPI v1beta2 InfraMachine contract): fetch the MaasMachine,
// its owner Machine and Cluster, apply the contract's skip rules, then run
// reconcileNormal (wait → check → allocate → deploy → report) or reconcileDelete
// over one scope whose changes are written once, when the scope closes.
import {
  ClusterNameLabel,
  MAAS_MACHINE,
  ReadyCondition,
  WaitingForOwnerMachineReason,
  type MaasMachine,
} from "../../api/v1beta1/index.ts";
import {
  isExternallyManaged,
  isPaused,
  ownerMachineName,
  pausedCondition,
  type Cluster,
  type Machine,
  type Secret,
} from "../../capi/index.ts";
import { isNotFound, type Informer, type ReconcileContext, type Reconciler, type Request, type Result } from "../../runtime/index.ts";
import type { ControllerDeps } from "../shared/deps.ts";
import { reconcileDelete } from "./delete.ts";
import { reconcileNormal } from "./normal.ts";
import { MachineScope } from "./scope.ts";
import type { WorkloadClusters } from "../shared/workload-clusters.ts";
import { WrittenVersions } from "../shared/written-versions.ts";

/** How long a new MaasMachine's named owner Machine may be missing from the cache before the wait is reported. */
const OWNER_CACHE_GRACE_MS = 5_000;

export interface MaasMachineCaches {
  maasMachines: Informer<MaasMachine>;
  machines: Informer<Machine>;
  clusters: Informer<Cluster>;
  /** Secrets labelled with a cluster name: bootstrap data and workload kubeconfigs. */
  secrets: Informer<Secret>;
}

export interface MaasMachineReconcilerOptions {
  deps: ControllerDeps;
  caches: MaasMachineCaches;
  workloadClusters: WorkloadClusters;
}

export class MaasMachineReconciler implements Reconciler {
  readonly deps: ControllerDeps;
  readonly caches: MaasMachineCaches;
  readonly workloadClusters: WorkloadClusters;
  /** Our own last write per MaasMachine, so a lagging cache is never acted on. */
  private readonly written: WrittenVersions;

  constructor(options: MaasMachineReconcilerOptions) {
    this.deps = options.deps;
    this.caches = options.caches;
    this.workloadClusters = options.workloadClusters;
    this.written = new WrittenVersions((namespace, name) => this.caches.maasMachines.get(namespace, name));
    this.caches.maasMachines.on((event) => {
      if (event.type === "delete") this.written.forget(event.object.metadata.namespace, event.object.metadata.name);
      else this.written.seen(event.object);
    });
  }

  async reconcile(request: Request, ctx: ReconcileContext): Promise<Result | void> {
    const cached = this.caches.maasMachines.get(request.namespace, request.name);
    if (cached === undefined) {
      this.written.forget(request.namespace, request.name);
      return; // gone: its finalizer was handled before
    }
    // Behind our own last write (the system ID, a refusal): read it fresh, or this pass
    // could allocate a second machine. A copy from before a restart or a change of leader
    // cannot hide an allocation either: the finalizer write carries a resourceVersion
    // precondition, and a finalizer without a system ID makes the allocate step look in
    // MAAS (by agent_name) before allocating.
    const copy = this.written.check(cached);
    if (copy === "gone") return; // our finalizer removal deleted it; the cache has yet to drop it
    const maasMachine = copy === "behind" ? await this.readStored(cached, ctx) : cached;
    if (maasMachine === undefined) return;
    if (copy === "behind") this.written.remember(maasMachine);
    if (isExternallyManaged(maasMachine)) {
      ctx.log.debug("externally managed (cluster.x-k8s.io/managed-by); skipping");
      return;
    }
    const namespace = maasMachine.metadata.namespace;
    const machineName = ownerMachineName(maasMachine);
    const machine = machineName === undefined ? undefined : this.caches.machines.get(namespace, machineName);
    const clusterName = machine?.spec.clusterName ?? maasMachine.metadata.labels?.[ClusterNameLabel];
    const cluster = clusterName === undefined ? undefined : this.caches.clusters.get(namespace, clusterName);

    const scope = new MachineScope({ maasMachine, machine, cluster, deps: this.deps, log: ctx.log, signal: ctx.signal, written: this.written });
    try {
      scope.setCondition(pausedCondition(cluster, { ...maasMachine, kind: MAAS_MACHINE.kind }));
      // Paused covers deletion too: `clusterctl move` pauses before it deletes.
      if (isPaused(cluster, maasMachine)) {
        ctx.log.debug("paused; nothing to do");
        return;
      }
      if (maasMachine.metadata.deletionTimestamp !== undefined) {
        return await reconcileDelete(scope);
      }
      if (machine === undefined) {
        // Named but not cached yet: Cluster API writes the Machine first, and its watch
        // event (which enqueues this object) is on the way. A status written now would be
        // replaced a moment later, so only a Machine still missing after the grace is said.
        const ageMs = this.deps.clock.now() - Date.parse(maasMachine.metadata.creationTimestamp ?? "");
        if (machineName !== undefined && ageMs >= 0 && ageMs < OWNER_CACHE_GRACE_MS) {
          scope.skipStatusWrite();
          return { requeueAfterMs: OWNER_CACHE_GRACE_MS - ageMs };
        }
        // No finalizer yet, so nothing in MAAS to hold on to: wait for CAPI's owner reference.
        scope.setCondition({
          type: ReadyCondition,
          status: "False",
          reason: WaitingForOwnerMachineReason,
          message: machineName === undefined ? "Waiting for Cluster API to set the owner Machine" : `Waiting for Machine ${machineName}`,
        });
        return;
      }
      return await reconcileNormal(scope, { caches: this.caches, workloadClusters: this.workloadClusters });
    } finally {
      await scope.close();
    }
  }

  /** The MaasMachine as the API server has it now, for a pass whose cached copy predates our last write. */
  private async readStored(cached: MaasMachine, ctx: ReconcileContext): Promise<MaasMachine | undefined> {
    try {
      return await this.deps.client.get(MAAS_MACHINE, { namespace: cached.metadata.namespace ?? "", name: cached.metadata.name }, { signal: ctx.signal });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}
