// Registers the MaasMachineTemplate controller with the manager: the template informer
// (narrowed by the watch filter) and a watch that brings templates back when their
// Cluster is paused or unpaused. Only a new generation, the pause annotation or the
// periodic resync enqueue a template: status writes (ours, every refresh) do not, and
// the refresh interval in reconcileCapacity keeps resyncs from asking MAAS each time.
import { MAAS_MACHINE_TEMPLATE, PausedAnnotation, type MaasMachineTemplate } from "../../api/v1beta1/index.ts";
import { CAPI_CLUSTER, clusterToLabelled, type Cluster } from "../../capi/index.ts";
import {
  OWNER_UID_INDEX,
  generationChanged,
  parseRequestKey,
  type Controller,
  type EventPredicate,
  type Informer,
  type InformerScope,
  type Manager,
  type MapFunc,
} from "../../runtime/index.ts";
import type { ControllerDeps } from "../shared/deps.ts";
import { MaasMachineTemplateReconciler, type MaasMachineTemplateCaches } from "./reconciler.ts";

export interface MaasMachineTemplateControllerOptions {
  manager: Manager;
  deps: ControllerDeps;
  /** Reconciles at once. */
  workers: number;
  /** The watch-filter selector, applied to our objects and CAPI's. */
  scope: InformerScope;
  reconcileTimeoutMs?: number;
}

export interface MaasMachineTemplateController {
  controller: Controller;
  caches: MaasMachineTemplateCaches;
}

export function setupMaasMachineTemplateController(options: MaasMachineTemplateControllerOptions): MaasMachineTemplateController {
  const { manager, scope } = options;
  const caches: MaasMachineTemplateCaches = {
    templates: manager.informer(MAAS_MACHINE_TEMPLATE, scope),
    clusters: manager.informer(CAPI_CLUSTER, scope),
  };
  const controller = manager.addController({
    name: "maasmachinetemplate",
    for: MAAS_MACHINE_TEMPLATE,
    forScope: scope,
    predicate: templateChangedOrResync,
    reconciler: new MaasMachineTemplateReconciler({ deps: options.deps, caches }),
    workers: options.workers,
    ...(options.reconcileTimeoutMs === undefined ? {} : { reconcileTimeoutMs: options.reconcileTimeoutMs }),
    watches: [{ kind: CAPI_CLUSTER, scope, map: clusterToTemplates(caches.templates), predicate: clusterPauseChanged }],
  });
  return { controller, caches };
}

/** A Cluster → the templates labelled with its name and those it owns (owner-UID index: no list call). */
function clusterToTemplates(templates: Informer<MaasMachineTemplate>): MapFunc {
  const labelled = clusterToLabelled(templates);
  return (cluster) => {
    const owned = cluster.metadata.uid === undefined ? [] : templates.keysByIndex(OWNER_UID_INDEX, cluster.metadata.uid).map(parseRequestKey);
    const seen = new Set<string>();
    return [...labelled(cluster), ...owned].filter((r) => {
      const key = `${r.namespace ?? ""}/${r.name}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  };
}

/** A new generation, the paused annotation set or removed, or the periodic resync. */
const templateChangedOrResync: EventPredicate = (event) => {
  if (event.type !== "update" || event.resync) return true;
  return generationChanged(event) || pausedAnnotation(event.object) !== pausedAnnotation(event.oldObject);
};

/** A Cluster appearing, going, or changing spec.paused: the only Cluster changes a template acts on. */
const clusterPauseChanged: EventPredicate = (event) =>
  event.type !== "update" ||
  (!event.resync && (event.object as Cluster).spec?.paused !== (event.oldObject as Cluster).spec?.paused);

function pausedAnnotation(obj: { metadata: { annotations?: Record<string, string> } }): string | undefined {
  return obj.metadata.annotations?.[PausedAnnotation];
}
