import { ClusterNameLabel } from "../api/v1beta1/index.ts";
import type { IndexFunc } from "./cache.ts";
import type { KubeObject } from "./kube-object.ts";

/** The label Cluster API puts on every object that belongs to a cluster. */
export const CLUSTER_NAME_LABEL = ClusterNameLabel;

/** Index name: objects by `namespace/cluster-name` from {@link CLUSTER_NAME_LABEL}. */
export const CLUSTER_NAME_INDEX = "cluster-name";

/** Index name: objects by the UID of each of their owners. */
export const OWNER_UID_INDEX = "owner-uid";

/**
 * Cluster names are only unique within a namespace, so the index value carries it:
 * look up with `clusterNameIndexValue(namespace, name)`.
 */
export function clusterNameIndexValue(namespace: string, clusterName: string): string {
  return `${namespace}/${clusterName}`;
}

export const byClusterName: IndexFunc<KubeObject> = (obj) => {
  const cluster = obj.metadata.labels?.[CLUSTER_NAME_LABEL];
  if (cluster === undefined || cluster === "") return [];
  return [clusterNameIndexValue(obj.metadata.namespace ?? "", cluster)];
};

export const byOwnerUid: IndexFunc<KubeObject> = (obj) =>
  (obj.metadata.ownerReferences ?? []).map((ref) => ref.uid);

/** The indexers every informer the manager creates carries. */
export const DEFAULT_INDEXERS: Readonly<Record<string, IndexFunc<KubeObject>>> = {
  [CLUSTER_NAME_INDEX]: byClusterName,
  [OWNER_UID_INDEX]: byOwnerUid,
};
