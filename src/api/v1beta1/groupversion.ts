// The API group and version every kind in this folder belongs to, and the CAPI contract
// versions the CRDs declare (CAPI reads these labels to pick the contract it applies).

/** API group of all MAAS infrastructure kinds. */
export const GROUP = "infrastructure.cluster.x-k8s.io";

/** The one served and stored version. */
export const VERSION = "v1beta1";

/** `apiVersion` of every object in this group/version. */
export const API_VERSION = `${GROUP}/${VERSION}`;

/**
 * CAPI contract labels put on each CRD: contract version → our API versions.
 * With the `v1beta2` label present, CAPI (≥ 1.11) reads our objects with the v1beta2
 * contract: `status.initialization.provisioned`, list-shaped `status.failureDomains`.
 */
export const CONTRACT_LABELS: Readonly<Record<string, string>> = {
  "cluster.x-k8s.io/v1beta1": VERSION,
  "cluster.x-k8s.io/v1beta2": VERSION,
};
