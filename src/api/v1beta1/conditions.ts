// Condition types and reasons the controllers write. Names reuse CAPI v1beta2's where CAPI
// has one (api/core/v1beta2/condition_consts.go), so tools that know CAPI read ours too.
// `Ready` is the summary CAPI mirrors into the Machine's/Cluster's InfrastructureReady.

// ── Condition types ─────────────────────────────────────────────────────────────────

/** Summary of all other conditions; CAPI mirrors it into InfrastructureReady. */
export const ReadyCondition = "Ready";
/** The MAAS machine is allocated and deployed (MaasMachine). */
export const MachineDeployedCondition = "MachineDeployed";
/** The MAAS DNS resource for the control-plane name exists and holds the control-plane IPs (MaasCluster). */
export const DNSResourceReadyCondition = "DNSResourceReady";
/** Every zone in spec.failureDomains exists in MAAS (MaasCluster). */
export const FailureDomainsReadyCondition = "FailureDomainsReady";
/** Reconciliation is paused by the cluster or the object (CAPI's Paused condition). */
export const PausedCondition = "Paused";
/**
 * False when an ephemeral machine has less memory than the manager's
 * --ephemeral-min-memory: a warning, the machine deploys anyway (MaasMachine).
 */
export const EphemeralMemorySufficientCondition = "EphemeralMemorySufficient";
/** False when a field that cannot change after allocation was changed; the stored values are used (MaasMachine). */
export const SpecUpToDateCondition = "SpecUpToDate";
/** MAAS is reachable with the configured credentials (MaasMachine, MaasCluster, MaasMachineTemplate). */
export const MaasReachableCondition = "MaasReachable";
/** status.capacity reflects what MAAS would allocate (MaasMachineTemplate). */
export const CapacityReadyCondition = "CapacityReady";

// ── Reasons reused from CAPI v1beta2 ────────────────────────────────────────────────

/** A condition is true and nothing needs attention. */
export const ReadyReason = "Ready";
/** A summary condition is false because another condition is false. */
export const NotReadyReason = "NotReady";
/** A summary condition is unknown because another condition is unknown. */
export const ReadyUnknownReason = "ReadyUnknown";
/** A condition the Ready summary lists has not been written yet. */
export const NotYetReportedReason = "NotYetReported";
/** The infra machine waits for the Cluster's infrastructure to be provisioned. */
export const WaitingForClusterInfrastructureReadyReason = "WaitingForClusterInfrastructureReady";
/** The infra machine waits for the bootstrap provider's data Secret. */
export const WaitingForBootstrapDataReason = "WaitingForBootstrapData";
/** The object is being deleted and its MAAS resources released. */
export const DeletingReason = "Deleting";
/** Deletion finished; the finalizer is about to be removed. */
export const DeletionCompletedReason = "DeletionCompleted";
/** The object or its cluster carries the paused annotation / spec.paused. */
export const PausedReason = "Paused";
/** Reconciliation is not paused. */
export const NotPausedReason = "NotPaused";
/** An unexpected error; the controller logs carry the detail. */
export const InternalErrorReason = "InternalError";

// ── Reasons of this provider ────────────────────────────────────────────────────────

/** MAAS refused the allocation for a reason other than capacity (e.g. an unknown tag, zone or pool). */
export const MachineAllocationFailedReason = "MachineAllocationFailed";
/** No MAAS machine matches the constraints now (MAAS 409); retried with backoff. */
export const InsufficientCapacityReason = "InsufficientCapacity";
/** The infra machine waits for CAPI to set the owner Machine reference. */
export const WaitingForOwnerMachineReason = "WaitingForOwnerMachine";
/** The infra object waits for its Cluster (the cluster-name label or the Cluster object). */
export const WaitingForClusterReason = "WaitingForCluster";
/** The controller is allocating a MAAS machine. */
export const MachineAllocatingReason = "MachineAllocating";
/** The machine left Deployed without being asked (released or taken behind our back); it is not redeployed. */
export const MachineLostReason = "MachineLost";
/** An ephemeral machine was deployed again by MAAS after a power cycle (its memory was wiped). */
export const MachineRedeployedReason = "MachineRedeployed";
/** No MAAS credentials are configured (the credentials Secret is missing or incomplete). */
export const MaasNotConfiguredReason = "MaasNotConfigured";
/** The ephemeral machine has less memory than --ephemeral-min-memory. */
export const EphemeralMemoryLowReason = "EphemeralMemoryLow";
/** The ephemeral machine has at least --ephemeral-min-memory. */
export const EphemeralMemorySufficientReason = "EphemeralMemorySufficient";
/** A field that cannot change after allocation was changed; the stored value is used. */
export const ImmutableFieldChangedReason = "ImmutableFieldChanged";
/** The spec matches what the machine was allocated with. */
export const SpecUpToDateReason = "SpecUpToDate";
/** Capacity read from the machine MAAS would allocate (dry run). */
export const CapacityFromMaasReason = "CapacityFromMaas";
/** No MAAS machine matches now; capacity comes from the template's minimums. */
export const CapacityFromTemplateReason = "CapacityFromTemplate";
/** MAAS is deploying the machine; the controller polls until it is Deployed. */
export const MachineDeployingReason = "MachineDeploying";
/** MAAS reports the machine Deployed. */
export const MachineDeployedReason = "MachineDeployed";
/** MAAS reports the machine Deployed but its power off (a machine in memory loses its state). */
export const MachinePoweredOffReason = "MachinePoweredOff";
/** MAAS refused the deploy or the machine went to "Failed deployment". */
export const MachineDeployFailedReason = "MachineDeployFailed";
/**
 * The machine should deploy into memory but this MAAS version or image cannot; terminal
 * until the spec or the MAAS version changes.
 */
export const EphemeralNotSupportedReason = "EphemeralNotSupported";
/** The machine recorded in spec.systemID no longer exists in MAAS. */
export const MachineNotFoundReason = "MachineNotFound";
/** The machine is being released back to MAAS. */
export const MachineReleasingReason = "MachineReleasing";
/** MAAS could not be reached or answered 5xx; the controller retries. */
export const MaasUnavailableReason = "MaasUnavailable";
/** The control-plane DNS resource could not be created or updated. */
export const DNSResourceFailedReason = "DNSResourceFailed";
/** No control-plane machine has an address yet, so the DNS resource is not written. */
export const WaitingForControlPlaneAddressesReason = "WaitingForControlPlaneAddresses";
/** A zone named in spec.failureDomains does not exist in MAAS. */
export const FailureDomainNotFoundReason = "FailureDomainNotFound";
/** spec.controlPlaneEndpoint was given by the user: it is used as is and no DNS resource is managed (MaasCluster). */
export const ControlPlaneEndpointGivenReason = "ControlPlaneEndpointGiven";
