// Labels and annotations read or written by the controllers. The CAPI ones are copied
// from api/core/v1beta2/common_types.go so no controller spells them by hand.

/** CAPI label naming the Cluster an object belongs to. */
export const ClusterNameLabel = "cluster.x-k8s.io/cluster-name";
/** CAPI label on control-plane Machines (its presence matters, not its value). */
export const MachineControlPlaneLabel = "cluster.x-k8s.io/control-plane";
/** CAPI annotation pausing reconciliation of one object. */
export const PausedAnnotation = "cluster.x-k8s.io/paused";
/** CAPI annotation marking infrastructure managed outside CAPI (the controller then leaves it alone). */
export const ManagedByAnnotation = "cluster.x-k8s.io/managed-by";
