// Registers the MaasMachine controller with the manager: the MaasMachine informer
// (narrowed by the watch filter), and the watches that bring a MaasMachine back when
// its Machine, its Cluster or its MAAS machine changes.
import { MAAS_MACHINE } from "../../api/v1beta1/index.ts";
import {
  CAPI_CLUSTER,
  CAPI_MACHINE,
  SECRET,
  clusterToLabelled,
  machineToInfraMachine,
} from "../../capi/index.ts";
import type { Controller, InformerScope, Manager } from "../../runtime/index.ts";
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
    reconciler: new MaasMachineReconciler({ deps: options.deps, caches, workloadClusters }),
    workers: options.workers,
    ...(options.reconcileTimeoutMs === undefined ? {} : { reconcileTimeoutMs: options.reconcileTimeoutMs }),
    watches: [
      { kind: CAPI_MACHINE, scope, map: machineToInfraMachine(MAAS_MACHINE.kind) },
      { kind: CAPI_CLUSTER, scope, map: clusterToLabelled(caches.maasMachines) },
    ],
  });
  return { controller, caches, workloadClusters };
}
