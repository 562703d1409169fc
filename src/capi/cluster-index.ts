// The cluster-name index and the CAPI map functions: which of our objects a change to
// a CAPI object concerns, answered from the informer caches without an API call.
import { ClusterNameLabel, GROUP } from "../api/v1beta1/index.ts";
import {
  labelIndex,
  mapByReference,
  namespacedIndexValue,
  parseRequestKey,
  requestFor,
  type IndexFunc,
  type Informer,
  type KubeObject,
  type MapFunc,
  type Request,
} from "../runtime/index.ts";
import type { Machine } from "./types.ts";

/** Index name: objects by `namespace/cluster-name` from the CAPI cluster-name label. */
export const CLUSTER_NAME_INDEX = "cluster-name";

/** Cluster names are unique within a namespace only, so the index value carries it. */
export const clusterNameIndexValue = namespacedIndexValue;

export const byClusterName: IndexFunc<KubeObject> = labelIndex(ClusterNameLabel);

/** Indexers the manager adds to every informer. */
export const CAPI_INDEXERS: Readonly<Record<string, IndexFunc<KubeObject>>> = { [CLUSTER_NAME_INDEX]: byClusterName };

/** A Cluster → every object of `primary` labelled with its name (an index lookup, no list call). */
export function clusterToLabelled(primary: Pick<Informer<KubeObject>, "keysByIndex">): MapFunc {
  return (cluster) => {
    const value = clusterNameIndexValue(cluster.metadata.namespace ?? "", cluster.metadata.name);
    return primary.keysByIndex(CLUSTER_NAME_INDEX, value).map(parseRequestKey);
  };
}

/** An object → the object of the same namespace named like its cluster-name label (e.g. → its MaasCluster's Cluster). */
export function mapByClusterLabel(obj: KubeObject): Request[] {
  const cluster = obj.metadata.labels?.[ClusterNameLabel];
  if (cluster === undefined) return [];
  return [{ ...requestFor(obj), name: cluster }];
}

/** A CAPI Machine → the MaasMachine its infrastructureRef names (util.MachineToInfrastructureMapFunc). */
export function machineToInfraMachine(kind: string): MapFunc {
  return mapByReference({ pick: (obj) => (obj as Machine).spec?.infrastructureRef, group: GROUP, kind });
}

/** A CAPI Cluster → the infra cluster its infrastructureRef names. */
export function clusterToInfraCluster(kind: string): MapFunc {
  return mapByReference({
    pick: (obj) => (obj as { spec?: { infrastructureRef?: { apiGroup?: string; kind?: string; name?: string } } }).spec?.infrastructureRef,
    group: GROUP,
    kind,
  });
}
