// Defaulting and validation of a MaasClusterSpec, shared by MaasCluster (at `spec`) and
// MaasClusterTemplate (at `spec.template.spec`). The schema holds the dnsDomain pattern
// and the endpoint's port range; the endpoint host's form, MAAS's zone-name rule and
// the update rules are ours. Everything else stays mutable on purpose: a ClusterClass
// patches MaasClusters in place, and CAPI's topology controller must be able to.
import type { MaasClusterSpec } from "../api/v1beta1/index.ts";
import type { JsonObject } from "./admission.ts";
import { forbidden, invalid, type FieldError } from "./field-errors.ts";

/** The API server port a control-plane endpoint gets when only its host is given (kubeadm's default). */
export const DEFAULT_API_SERVER_PORT = 6443;

// MAAS: maasserver/models/zone.py ZONE_NAME_VALIDATOR (^[\w-]+$).
const ZONE_NAME = /^[A-Za-z0-9_-]+$/;
const DNS_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*\.?$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
// Loose on purpose: an IPv6 literal is hex groups and colons (with an optional embedded
// IPv4 tail); anything else with a colon is a host:port or a URL, the mistake we catch.
const IPV6 = /^[0-9A-Fa-f:]+(:(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3})?$/;

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
  return IPV4.test(host) || DNS_NAME.test(host) || (host.includes(":") && IPV6.test(host) && host.split("::").length <= 2);
}

/** Checks of one spec on its own (create, and the new side of an update). */
export function validateClusterSpec(spec: MaasClusterSpec, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const host = spec.controlPlaneEndpoint?.host;
  if (host !== undefined && !validHost(host)) {
    errors.push(invalid(`${path}.controlPlaneEndpoint.host`, host, `expected a host name or an IP address, without a scheme or a port; put the port in ${path}.controlPlaneEndpoint.port`));
  }
  (spec.failureDomains ?? []).forEach((zone, i) => {
    if (!ZONE_NAME.test(zone)) {
      errors.push(invalid(`${path}.failureDomains[${i}]`, zone, "a MAAS zone name has only letters, digits, '-' and '_' (MAAS refuses others); use the name `maas <profile> zones read` lists"));
    }
  });
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
