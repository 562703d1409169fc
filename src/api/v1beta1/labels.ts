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
/** clusterctl's annotation on objects it deletes during `clusterctl move`: their infrastructure lives on. */
export const DeleteForMoveAnnotation = "clusterctl.cluster.x-k8s.io/delete-for-move";
/**
 * On a MaasMachine: the values it was allocated with (JSON of image, minCPU, minMemory,
 * minDiskSize, ephemeral), written with spec.systemID. Later changes to those fields
 * are reported and ignored. An annotation, so `clusterctl move` carries it.
 */
export const AllocatedSpecAnnotation = "maas.infrastructure.cluster.x-k8s.io/allocated-spec";
/** CAPI's label that, with `--watch-filter VALUE`, limits a manager to the objects labelled VALUE. */
export const WatchFilterLabel = "cluster.x-k8s.io/watch-filter";
/**
 * On a CAPI Machine: "true" deploys this one machine into memory, "false" onto disk,
 * overriding the MaasMachine's `ephemeral` (the spec's "Selective Ephemeral"). A
 * MachineDeployment's `spec.template.metadata.annotations` reaches its Machines.
 */
export const EphemeralAnnotation = "maas.infrastructure.cluster.x-k8s.io/ephemeral";
