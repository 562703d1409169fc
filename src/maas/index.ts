// The MAAS 2.0 REST client. Reconcilers reach MAAS only through it: OAuth PLAINTEXT
// signing, MAAS's request conventions (op in the query, form bodies, trailing
// slashes), per-request timeouts, retries that never repeat an action MAAS may have
// done, cancellation through an AbortSignal on every call (CallOptions, the last
// parameter of each service method), private CAs added to Node's trust store, and
// typed errors with a stable `code`. One service per MAAS concern sits behind
// a narrow interface (MachinesService, DnsResourcesService, ...) so tests swap it.
export { createMaasClient, MaasClient, DEFAULT_TIMEOUT_MS, type MaasClientOptions, type MaasServices } from "./client.ts";
export type { MaasCredentials } from "./credentials.ts";
export {
  MaasError,
  MaasConfigError,
  MaasBadRequestError,
  MaasUnauthorizedError,
  MaasForbiddenError,
  MaasNotFoundError,
  MaasConflictError,
  MaasUnavailableError,
  MaasServerError,
  MaasTimeoutError,
  MaasNetworkError,
  MaasTlsVerificationError,
  MaasAbortedError,
  MaasUnexpectedResponseError,
  type MaasErrorCode,
  type TlsFailureReason,
  type FieldErrors,
} from "./errors.ts";
export { DEFAULT_RETRY, type RetryOptions } from "./retry.ts";
export type { CallOptions, MaasResponseEvent } from "./http.ts";
export type { UnknownFields } from "./validate.ts";
export {
  compareMaasVersions,
  isAtLeast,
  parseImageName,
  parseMaasVersion,
  supportsEphemeralDeploy,
  type ImageName,
  type MaasVersion,
  type MaasVersionInfo,
  type VersionService,
} from "./version.ts";
export { MachineStatus, deploymentTarget, typedFieldsOf, type DeploymentTarget, type Machine, type MachineStatusCode } from "./machine.ts";
export type {
  AllocateParams,
  DeployParams,
  MachineFilters,
  MachinesService,
  PowerOffParams,
  PowerOnParams,
  ReleaseParams,
  UpdateMachineParams,
} from "./machines.ts";
export type { CreateTagParams, Tag, TagMembershipChange, TagsService } from "./tags.ts";
export type { Zone, ZonesService } from "./zones.ts";
export type { ResourcePool, ResourcePoolsService } from "./resource-pools.ts";
export type { CreateDomainParams, Domain, DomainsService } from "./domains.ts";
export {
  dnsResourceAddresses,
  type CreateDnsResourceParams,
  type DnsResource,
  type DnsResourceFilters,
  type DnsResourcesService,
  type UpdateDnsResourceParams,
} from "./dns-resources.ts";
export type { BootResource, BootResourcesService } from "./boot-resources.ts";
export { parseCaCertificates } from "./tls.ts";
