// Registers the MaasCluster controller with the manager: the MaasCluster informer
// (narrowed by the watch filter), and the watches that bring a MaasCluster back when
// its Cluster changes (pause, owner), when a MaasMachine of its cluster changes (the
// DNS record's addresses; deletion waits for them to go) or when a Machine joins or
// leaves the control plane.
import { ClusterNameLabel, MAAS_CLUSTER, MAAS_MACHINE, type MaasCluster } from "../../api/v1beta1/index.ts";
import {
  CAPI_CLUSTER,
  CAPI_MACHINE,
  CLUSTER_NAME_INDEX,
  clusterNameIndexValue,
  clusterToInfraCluster,
  isControlPlane,
  type Machine,
} from "../../capi/index.ts";
import {
  parseRequestKey,
  resourceVersionChanged,
  type Controller,
  type EventPredicate,
  type Informer,
  type InformerScope,
  type KubeObject,
  type Manager,
  type MapFunc,
} from "../../runtime/index.ts";
import type { ControllerDeps } from "../shared/deps.ts";
import { MaasClusterReconciler, type MaasClusterCaches } from "./reconciler.ts";

export interface MaasClusterControllerOptions {
  manager: Manager;
  deps: ControllerDeps;
  /** Reconciles at once (--cluster-concurrency). */
  workers: number;
  /** The watch-filter selector, applied to our objects and CAPI's. */
  scope: InformerScope;
  reconcileTimeoutMs?: number;
}

export interface MaasClusterController {
  controller: Controller;
  caches: MaasClusterCaches;
}

export function setupMaasClusterController(options: MaasClusterControllerOptions): MaasClusterController {
  const { manager, scope } = options;
  const caches: MaasClusterCaches = {
    maasClusters: manager.informer(MAAS_CLUSTER, scope),
    clusters: manager.informer(CAPI_CLUSTER, scope),
    maasMachines: manager.informer(MAAS_MACHINE, scope),
    machines: manager.informer(CAPI_MACHINE, scope),
  };
  const byLabel = toMaasClusters(caches.maasClusters, (obj) => obj.metadata.labels?.[ClusterNameLabel]);
  // spec.clusterName is required on a Machine; its label is only defaulted from it.
  const byClusterName = toMaasClusters(caches.maasClusters, (obj) => (obj as Machine).spec?.clusterName);
  const controller = manager.addController({
    name: "maascluster",
    for: MAAS_CLUSTER,
    forScope: scope,
    reconciler: new MaasClusterReconciler({ deps: options.deps, caches }),
    workers: options.workers,
    ...(options.reconcileTimeoutMs === undefined ? {} : { reconcileTimeoutMs: options.reconcileTimeoutMs }),
    watches: [
      { kind: CAPI_CLUSTER, scope, map: clusterToInfraCluster(MAAS_CLUSTER.kind) },
      // Status (Deployed, addresses), owner reference and deletion all move the address set.
      { kind: MAAS_MACHINE, scope, map: byLabel, predicate: resourceVersionChanged },
      { kind: CAPI_MACHINE, scope, map: byClusterName, predicate: controlPlaneMembershipChanged },
    ],
  });
  return { controller, caches };
}

/**
 * An object → the MaasClusters labelled with its cluster's name. CAPI labels the
 * InfraCluster when it sets the owner reference, and a MaasCluster need not be named
 * like its Cluster (ClusterClass adds a suffix), so the index is asked, not the name.
 */
function toMaasClusters(maasClusters: Pick<Informer<MaasCluster>, "keysByIndex">, clusterOf: (obj: KubeObject) => string | undefined): MapFunc {
  return (obj) => {
    const cluster = clusterOf(obj);
    if (cluster === undefined || cluster === "") return [];
    return maasClusters.keysByIndex(CLUSTER_NAME_INDEX, clusterNameIndexValue(obj.metadata.namespace ?? "", cluster)).map(parseRequestKey);
  };
}

/** A Machine entering or leaving the control plane (its label, its deletion); other Machine changes do not move the DNS record. */
const controlPlaneMembershipChanged: EventPredicate = (event) => {
  const machine = event.object as Machine;
  if (event.type !== "update") return isControlPlane(machine);
  if (event.resync) return false;
  const old = event.oldObject as Machine;
  if (isControlPlane(machine) !== isControlPlane(old)) return true;
  return isControlPlane(machine) && (machine.metadata.deletionTimestamp === undefined) !== (old.metadata.deletionTimestamp === undefined);
};
