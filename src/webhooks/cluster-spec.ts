// Defaulting and validation of a MaasClusterSpec, shared by MaasCluster (at `spec`) and
// MaasClusterTemplate (at `spec.template.spec`). The schema holds the dnsDomain pattern
// and the endpoint's port range; the endpoint host's form, MAAS's zone-name rule and
// the update rules are ours. Everything else stays mutable on purpose: a ClusterClass
// patches MaasClusters in place, and CAPI's topology controller must be able to.
import { isIP } from "node:net";
import type { MaasClusterSpec } from "../api/v1beta1/index.ts";
import type { JsonObject } from "./admission.ts";
import { forbidden, invalid, type FieldError } from "./field-errors.ts";
import { zoneNameErrors } from "./maas-names.ts";

/** The API server port a control-plane endpoint gets when only its host is given (kubeadm's default). */
export const DEFAULT_API_SERVER_PORT = 6443;

const DNS_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*\.?$/;
// A name whose last label is all digits reads as an address to resolvers and to kubeadm
// ("10.0.0.1.5", "256.0.0.1"); RFC 3696 section 2 rules such top-level labels out.
const NUMERIC_LAST_LABEL = /(^|\.)\d+\.?$/;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Port 6443 for an endpoint whose host is given without a port. Returns the warnings (none). */
export function defaultClusterSpec(spec: JsonObject): string[] {
  const endpoint = spec.controlPlaneEndpoint;
  if (isObject(endpoint) && typeof endpoint.host === "string" && endpoint.host !== "" && endpoint.port === undefined) {
    endpoint.port = DEFAULT_API_SERVER_PORT;
  }
  return [];
}

function validHost(host: string): boolean {
  return isIP(host) !== 0 || (DNS_NAME.test(host) && !NUMERIC_LAST_LABEL.test(host));
}

/** Checks of one spec on its own (create, and the new side of an update). */
export function validateClusterSpec(spec: MaasClusterSpec, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const host = spec.controlPlaneEndpoint?.host;
  if (host !== undefined && !validHost(host)) {
    errors.push(invalid(`${path}.controlPlaneEndpoint.host`, host, `expected a host name or an IP address, without a scheme or a port; put the port in ${path}.controlPlaneEndpoint.port`));
  }
  (spec.failureDomains ?? []).forEach((zone, i) => errors.push(...zoneNameErrors(`${path}.failureDomains[${i}]`, zone)));
  return errors;
}

function endpointText(endpoint: MaasClusterSpec["controlPlaneEndpoint"]): string {
  if (endpoint?.host === undefined || endpoint.host === "") return "unset";
  return `${endpoint.host}:${endpoint.port ?? DEFAULT_API_SERVER_PORT}`;
}

/**
 * A MaasCluster's update: `dnsDomain` never changes; `controlPlaneEndpoint` may be filled
 * in while it is empty (by the user, the controller, or a ClusterClass) and is fixed
 * after, since CAPI copies it to the Cluster and kubeconfigs and certificates name it.
 */
export function validateClusterSpecUpdate(oldSpec: MaasClusterSpec, newSpec: MaasClusterSpec, path: string): FieldError[] {
  const errors: FieldError[] = [];
  if (oldSpec.dnsDomain !== newSpec.dnsDomain) {
    errors.push(forbidden(`${path}.dnsDomain`, `cannot change (from ${JSON.stringify(oldSpec.dnsDomain)} to ${JSON.stringify(newSpec.dnsDomain)}): the control-plane DNS record <cluster>.<dnsDomain> was made in it and the cluster's certificates and kubeconfigs name it. Keep ${JSON.stringify(oldSpec.dnsDomain)}, or create a new cluster in the other domain`));
  }
  const was = endpointText(oldSpec.controlPlaneEndpoint);
  const now = endpointText(newSpec.controlPlaneEndpoint);
  if (was !== "unset" && was !== now) {
    errors.push(forbidden(`${path}.controlPlaneEndpoint`, `cannot change once set (from ${was} to ${now}): CAPI copied it to the Cluster and the control plane's certificates and kubeconfigs name it. Keep ${was}; to move the control plane, move the address behind that name (DNS record or VIP)`));
  }
  return errors;
}
