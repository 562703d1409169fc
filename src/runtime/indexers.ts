// Index functions for informer caches. The runtime knows no Cluster API label: a
// label index is generic here, and capi/ builds the cluster-name index from it.
import type { IndexFunc } from "./cache.ts";
import type { KubeObject } from "./kube-object.ts";

/** Index name: objects by the UID of each of their owners. */
export const OWNER_UID_INDEX = "owner-uid";

/** Label values are only unique within a namespace, so index values carry it. */
export function namespacedIndexValue(namespace: string, value: string): string {
  return `${namespace}/${value}`;
}

/** Indexes objects by `namespace/<value of label>`; objects without the label are not indexed. */
export function labelIndex(label: string): IndexFunc<KubeObject> {
  return (obj) => {
    const value = obj.metadata.labels?.[label];
    if (value === undefined || value === "") return [];
    return [namespacedIndexValue(obj.metadata.namespace ?? "", value)];
  };
}

export const byOwnerUid: IndexFunc<KubeObject> = (obj) =>
  (obj.metadata.ownerReferences ?? []).map((ref) => ref.uid);

/** The indexers every informer the manager creates carries, besides ManagerOptions.indexers. */
export const DEFAULT_INDEXERS: Readonly<Record<string, IndexFunc<KubeObject>>> = {
  [OWNER_UID_INDEX]: byOwnerUid,
};
