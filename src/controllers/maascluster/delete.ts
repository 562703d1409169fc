// reconcileDelete: the DNS resource goes last, after every MaasMachine of the cluster
// (a control plane still running must keep its name), and only if this MaasCluster
// created it: an adopted record and a user's endpoint stay. A delete by `clusterctl
// move` deletes nothing in MAAS: the cluster lives on under the target management
// cluster, which finds the record through the annotations moved with the object.
import { DeletingReason, MaasClusterFinalizer, ReadyCondition } from "../../api/v1beta1/index.ts";
import { isDeleteForMove } from "../../capi/index.ts";
import type { Result } from "../../runtime/index.ts";
import { clusterMaasMachines } from "./control-plane-addresses.ts";
import { deleteCreatedDnsResource, DNSResourceCreatedAnnotation } from "./dns.ts";
import { endpointOrThrow } from "./maas-errors.ts";
import type { MaasClusterCaches } from "./reconciler.ts";
import type { ClusterScope } from "./scope.ts";

/** How often a deleting MaasCluster looks again at MaasMachines still there (their deletes also enqueue it). */
export const MACHINES_GONE_POLL_MS = 5_000;

export async function reconcileDelete(scope: ClusterScope, caches: MaasClusterCaches): Promise<Result | void> {
  const { maasCluster } = scope;
  if (!(maasCluster.metadata.finalizers ?? []).includes(MaasClusterFinalizer)) return;
  if (isDeleteForMove(maasCluster)) {
    scope.log.info("deleted by clusterctl move; the MAAS DNS resource is kept for the target cluster");
    return removeFinalizer(scope);
  }
  const clusterName = scope.clusterName;
  const remaining = clusterName === undefined ? 0 : clusterMaasMachines(caches, scope.namespace, clusterName).length;
  if (remaining > 0) {
    scope.setCondition({
      type: ReadyCondition,
      status: "False",
      reason: DeletingReason,
      message: `Waiting for ${remaining} MaasMachine(s) of Cluster ${clusterName ?? ""} to be deleted`,
    });
    return { requeueAfterMs: MACHINES_GONE_POLL_MS };
  }
  if (scope.annotation(DNSResourceCreatedAnnotation) !== undefined) {
    scope.setCondition({ type: ReadyCondition, status: "False", reason: DeletingReason, message: "Deleting the MAAS DNS resource" });
    await deleteCreatedDnsResource(scope, endpointOrThrow(scope), clusterName);
  }
  return removeFinalizer(scope);
}

async function removeFinalizer(scope: ClusterScope): Promise<void> {
  const { maasCluster } = scope;
  maasCluster.metadata.finalizers = (maasCluster.metadata.finalizers ?? []).filter((f) => f !== MaasClusterFinalizer);
  await scope.persist();
}
