// Registers the MaasMachine controller with the manager: the MaasMachine informer
// (narrowed by the watch filter), and the watches that bring a MaasMachine back when
// its Machine, its Cluster or its MAAS machine changes.
import { ClusterNameLabel, MAAS_MACHINE, type MaasMachine } from "../../api/v1beta1/index.ts";
import {
  CAPI_CLUSTER,
  CAPI_MACHINE,
  CLUSTER_NAME_INDEX,
  SECRET,
  clusterNameIndexValue,
  clusterToLabelled,
  machineToInfraMachine,
  type Cluster,
  type Machine,
} from "../../capi/index.ts";
import {
  parseRequestKey,
  type Controller,
  type EventPredicate,
  type Informer,
  type InformerScope,
  type Manager,
  type MapFunc,
} from "../../runtime/index.ts";
import type { ControllerDeps } from "../shared/deps.ts";
import { WorkloadClusters } from "../shared/workload-clusters.ts";
import { MaasMachineReconciler, type MaasMachineCaches } from "./reconciler.ts";

export interface MaasMachineControllerOptions {
  manager: Manager;
  deps: ControllerDeps;
  /** Reconciles at once (--machine-concurrency). */
  workers: number;
  /** The watch-filter selector, applied to our objects and CAPI's. */
  scope: InformerScope;
  reconcileTimeoutMs?: number;
}

export interface MaasMachineController {
  controller: Controller;
  caches: MaasMachineCaches;
  workloadClusters: WorkloadClusters;
}

/** An update that changed the spec or the metadata a reconcile reads; status-only updates are dropped. */
const specOrMetadataChangedOrResync: EventPredicate = (event) => {
  if (event.type !== "update" || event.resync) return true;
  const [before, after] = [event.oldObject.metadata, event.object.metadata];
  return (
    before.generation !== after.generation ||
    before.deletionTimestamp !== after.deletionTimestamp ||
    !sameJson(before.labels, after.labels) ||
    !sameJson(before.annotations, after.annotations) ||
    !sameJson(before.finalizers, after.finalizers) ||
    !sameJson(before.ownerReferences, after.ownerReferences)
  );
};

/** The parts of a Machine a MaasMachine reconcile reads: spec (bootstrap data name, zone), the ephemeral override, nodeRef. */
const machineChangedForInfra: EventPredicate = (event) => {
  if (event.type !== "update") return true;
  // The MaasMachines' own resync covers this one.
  if (event.resync) return false;
  const [before, after] = [event.oldObject as Machine, event.object as Machine];
  return (
    specOrMetadataChangedOrResync(event) ||
    !sameJson(before.spec, after.spec) ||
    before.status?.nodeRef?.name !== after.status?.nodeRef?.name
  );
};

/** The parts of a Cluster a MaasMachine reconcile reads: pause, and whether its infrastructure is provisioned. */
const clusterChangedForInfra: EventPredicate = (event) => {
  if (event.type !== "update") return true;
  if (event.resync) return false;
  const [before, after] = [event.oldObject as Cluster, event.object as Cluster];
  return (
    before.spec?.paused !== after.spec?.paused ||
    before.status?.initialization?.infrastructureProvisioned !== after.status?.initialization?.infrastructureProvisioned ||
    !sameJson(before.metadata.annotations, after.metadata.annotations)
  );
};

/** `<cluster>-kubeconfig` → the MaasMachines labelled with that cluster (an index lookup). */
function kubeconfigToMaasMachines(maasMachines: Pick<Informer<MaasMachine>, "keysByIndex">): MapFunc {
  return (secret) => {
    const cluster = secret.metadata.labels?.[ClusterNameLabel];
    if (cluster === undefined || secret.metadata.name !== `${cluster}-kubeconfig`) return [];
    return maasMachines.keysByIndex(CLUSTER_NAME_INDEX, clusterNameIndexValue(secret.metadata.namespace ?? "", cluster)).map(parseRequestKey);
  };
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The Secrets a MaasMachine reads (bootstrap data, workload kubeconfigs) all carry CAPI's cluster-name label. */
export const CLUSTER_SECRETS_SCOPE: InformerScope = { labelSelector: "cluster.x-k8s.io/cluster-name" };

export function setupMaasMachineController(options: MaasMachineControllerOptions): MaasMachineController {
  const { manager, scope } = options;
  const caches: MaasMachineCaches = {
    maasMachines: manager.informer(MAAS_MACHINE, scope),
    machines: manager.informer(CAPI_MACHINE, scope),
    clusters: manager.informer(CAPI_CLUSTER, scope),
    // Not narrowed by the watch filter: bootstrap providers label their Secrets with the cluster name only.
    secrets: manager.informer(SECRET, CLUSTER_SECRETS_SCOPE),
  };
  const workloadClusters = new WorkloadClusters(caches.secrets);
  const controller = manager.addController({
    name: "maasmachine",
    for: MAAS_MACHINE,
    forScope: scope,
    // Our own status writes come back as updates; they change nothing a reconcile reads.
    predicate: specOrMetadataChangedOrResync,
    reconciler: new MaasMachineReconciler({ deps: options.deps, caches, workloadClusters }),
    workers: options.workers,
    ...(options.reconcileTimeoutMs === undefined ? {} : { reconcileTimeoutMs: options.reconcileTimeoutMs }),
    watches: [
      { kind: CAPI_MACHINE, scope, map: machineToInfraMachine(MAAS_MACHINE.kind), predicate: machineChangedForInfra },
      { kind: CAPI_CLUSTER, scope, map: clusterToLabelled(caches.maasMachines), predicate: clusterChangedForInfra },
      // A workload kubeconfig appearing or changing: its cluster's machines can set their Node's providerID.
      { kind: SECRET, scope: CLUSTER_SECRETS_SCOPE, map: kubeconfigToMaasMachines(caches.maasMachines) },
    ],
  });
  return { controller, caches, workloadClusters };
}
