// The MaasCluster reconciler (CAPI v1beta2 InfraCluster contract): fetch the MaasCluster
// and its owner Cluster, apply the contract's skip rules (externally managed, paused),
// then run reconcileNormal (finalizer → failure domains → endpoint → provisioned →
// addresses) or reconcileDelete over one scope whose changes are written when it closes.
import {
  MAAS_CLUSTER,
  ReadyCondition,
  WaitingForClusterReason,
  type MaasCluster,
  type MaasMachine,
} from "../../api/v1beta1/index.ts";
import {
  isExternallyManaged,
  isPaused,
  ownerClusterName,
  pausedCondition,
  type Cluster,
  type Machine,
} from "../../capi/index.ts";
import type { Informer, ReconcileContext, Reconciler, Request, Result } from "../../runtime/index.ts";
import type { ControllerDeps } from "../shared/deps.ts";
import { reconcileDelete } from "./delete.ts";
import { reconcileNormal } from "./normal.ts";
import { ClusterScope } from "./scope.ts";

export interface MaasClusterCaches {
  maasClusters: Informer<MaasCluster>;
  clusters: Informer<Cluster>;
  /** The cluster's MaasMachines (by the cluster-name index): the DNS record's addresses, and what deletion waits for. */
  maasMachines: Informer<MaasMachine>;
  /** Their owner Machines: which of them are control plane. */
  machines: Informer<Machine>;
}

export interface MaasClusterReconcilerOptions {
  deps: ControllerDeps;
  caches: MaasClusterCaches;
}

export class MaasClusterReconciler implements Reconciler {
  readonly deps: ControllerDeps;
  readonly caches: MaasClusterCaches;

  constructor(options: MaasClusterReconcilerOptions) {
    this.deps = options.deps;
    this.caches = options.caches;
  }

  async reconcile(request: Request, ctx: ReconcileContext): Promise<Result | void> {
    const maasCluster = this.caches.maasClusters.get(request.namespace, request.name);
    if (maasCluster === undefined) return; // gone: its finalizer was handled before
    if (isExternallyManaged(maasCluster)) {
      ctx.log.debug("externally managed (cluster.x-k8s.io/managed-by); skipping");
      return;
    }
    const namespace = maasCluster.metadata.namespace;
    // CAPI sets the owner reference and the cluster-name label together.
    const clusterName = ownerClusterName(maasCluster);
    const cluster = clusterName === undefined ? undefined : this.caches.clusters.get(namespace, clusterName);

    const scope = new ClusterScope({ maasCluster, cluster, clusterName, deps: this.deps, log: ctx.log, signal: ctx.signal });
    try {
      scope.setCondition(pausedCondition(cluster, { ...maasCluster, kind: MAAS_CLUSTER.kind }));
      // Paused covers deletion too: `clusterctl move` pauses before it deletes.
      if (isPaused(cluster, maasCluster)) {
        ctx.log.debug("paused; nothing to do");
        return;
      }
      // Deletion goes on without the Cluster: an orphaned MaasCluster must still be able to go.
      if (maasCluster.metadata.deletionTimestamp !== undefined) {
        return await reconcileDelete(scope, this.caches);
      }
      if (clusterName === undefined || cluster === undefined) {
        // Nothing is done in MAAS for a MaasCluster no Cluster owns: the record is named after the Cluster.
        scope.setCondition({
          type: ReadyCondition,
          status: "False",
          reason: WaitingForClusterReason,
          message: clusterName === undefined ? "Waiting for Cluster API to set the owner Cluster" : `Waiting for Cluster ${clusterName}`,
        });
        return;
      }
      return await reconcileNormal(scope, this.caches, clusterName);
    } finally {
      await scope.close();
    }
  }
}
