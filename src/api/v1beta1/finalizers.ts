// Finalizers the controllers add before their first side effect in MAAS, and remove once
// the MAAS resources are released. Domain-qualified with a path, as the API server asks.

/** Held on a MaasMachine until its MAAS machine is released. */
export const MaasMachineFinalizer = "infrastructure.cluster.x-k8s.io/maasmachine";
/** Held on a MaasCluster until its MAAS DNS resource is deleted. */
export const MaasClusterFinalizer = "infrastructure.cluster.x-k8s.io/maascluster";
