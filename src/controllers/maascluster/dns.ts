// The control-plane endpoint. A host the user gave in spec.controlPlaneEndpoint is used
// as is. Otherwise the endpoint is the MAAS DNS resource <cluster>.<dnsDomain>: found
// first and adopted if it exists, else created (MAAS takes a record with no addresses:
// maas@3.x forms/dnsresource.py has ip_addresses required=False, models/dnsresource.py
// blank=True), so the name is known, and provisioned can be reported, before any
// control-plane machine exists. Its addresses then follow the Deployed control-plane
// machines. Which records are ours to delete is kept in annotations, written in the
// same patch as the endpoint: `clusterctl move` carries annotations, not status.
import {
  ControlPlaneEndpointGivenReason,
  DNSResourceFailedReason,
  DNSResourceReadyCondition,
  ReadyReason,
  WaitingForControlPlaneAddressesReason,
} from "../../api/v1beta1/index.ts";
import { dnsResourceAddresses, MaasError, type DnsResource } from "../../maas/index.ts";
import { TerminalError } from "../../runtime/index.ts";
import type { MaasEndpoint } from "../shared/maas-connection.ts";
import type { ControlPlaneAddresses } from "./control-plane-addresses.ts";
import { isMaasUnavailable } from "../shared/maas-failure.ts";
import { reportMaasFailure } from "./maas-errors.ts";
import type { ClusterScope } from "./scope.ts";

/** The id of the DNS resource this MaasCluster created, so deleting the cluster deletes it; "creating" while MAAS is asked. */
export const DNSResourceCreatedAnnotation = "maas.infrastructure.cluster.x-k8s.io/dns-resource-created";
/** The id of a DNS resource that existed before this MaasCluster: managed, but left in MAAS when the cluster goes. */
export const DNSResourceAdoptedAnnotation = "maas.infrastructure.cluster.x-k8s.io/dns-resource-adopted";
/** Written before the create, so a record made by a create whose answer was lost is still known to be ours. */
const CREATING = "creating";
/** kube-apiserver's default secure port, the one kubeadm and CAPI templates use. */
const DEFAULT_API_SERVER_PORT = 6443;

/** A Kubernetes name that is also one DNS label: MAAS splits an FQDN at its first dot into name and domain. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** True when this MaasCluster owns the endpoint's DNS resource (created or adopted it, or is about to). */
export function managesDnsResource(scope: ClusterScope): boolean {
  if (scope.annotation(DNSResourceCreatedAnnotation) !== undefined) return true;
  if (scope.annotation(DNSResourceAdoptedAnnotation) !== undefined) return true;
  return scope.maasCluster.spec.controlPlaneEndpoint?.host === undefined;
}

/**
 * An endpoint the user set on the Cluster itself, before this MaasCluster made one, is
 * the user's choice too: CAPI only copies ours to a Cluster whose endpoint is empty, so
 * a record made now would never be used. It is copied here, and from then on the
 * MaasCluster's own host says so.
 */
export function takeClusterEndpoint(scope: ClusterScope): void {
  if (scope.annotation(DNSResourceCreatedAnnotation) !== undefined || scope.annotation(DNSResourceAdoptedAnnotation) !== undefined) return;
  if (scope.maasCluster.spec.controlPlaneEndpoint?.host !== undefined) return;
  const fromCluster = scope.cluster?.spec?.controlPlaneEndpoint;
  if (fromCluster?.host === undefined || fromCluster.host === "") return;
  scope.maasCluster.spec.controlPlaneEndpoint = { host: fromCluster.host, ...(fromCluster.port ? { port: fromCluster.port } : {}) };
}

/** The record's name: the endpoint host once written (a later dnsDomain edit does not move it), else <cluster>.<dnsDomain>. */
export function managedFqdn(scope: ClusterScope, clusterName: string): string {
  const host = scope.maasCluster.spec.controlPlaneEndpoint?.host;
  if (host !== undefined) return host;
  if (!DNS_LABEL.test(clusterName)) {
    const message = `Cluster name "${clusterName}" is not a single DNS label, so it cannot name a MAAS DNS resource; set spec.controlPlaneEndpoint`;
    scope.setCondition({ type: DNSResourceReadyCondition, status: "False", reason: DNSResourceFailedReason, message });
    throw new TerminalError(message, { reason: DNSResourceFailedReason });
  }
  return `${clusterName}.${scope.maasCluster.spec.dnsDomain}`;
}

/** The user's endpoint: used as is, with kube-apiserver's port when none is given. */
export function reconcileGivenEndpoint(scope: ClusterScope): void {
  const given = scope.maasCluster.spec.controlPlaneEndpoint ?? {};
  const port = given.port ?? DEFAULT_API_SERVER_PORT;
  scope.maasCluster.spec.controlPlaneEndpoint = { ...given, port };
  scope.setCondition({
    type: DNSResourceReadyCondition,
    status: "True",
    reason: ControlPlaneEndpointGivenReason,
    message: `spec.controlPlaneEndpoint ${given.host ?? ""}:${port} is used as given; no MAAS DNS resource is managed`,
  });
}

/**
 * Finds or creates the record, records whose it is, and writes the endpoint with that
 * record at once. Returns the record as MAAS has it.
 */
export async function reconcileDnsResource(scope: ClusterScope, endpoint: MaasEndpoint, fqdn: string, desired: ControlPlaneAddresses): Promise<DnsResource> {
  const { dnsResources } = endpoint.services;
  let records: DnsResource[];
  try {
    records = await dnsResources.list({ fqdn }, { signal: scope.signal });
  } catch (err) {
    // MAAS answers 404 to a lookup in a domain it does not have (api/dnsresources.py).
    const domainMissing = err instanceof MaasError && err.code === "NotFound";
    throw dnsFailure(scope, err, `Looking up MAAS DNS resource ${fqdn}`, domainMissing ? `MAAS has no DNS domain "${fqdn.slice(fqdn.indexOf(".") + 1)}"` : undefined);
  }
  // Implicit records (id -1) are MAAS's own node names, never a record to adopt.
  const found = records.find((r) => r.id >= 0 && r.fqdn.toLowerCase() === fqdn.toLowerCase());
  const record = found ?? (await createRecord(scope, endpoint, fqdn, desired));
  if (found !== undefined) recordOwnership(scope, found);
  const port = scope.maasCluster.spec.controlPlaneEndpoint?.port ?? DEFAULT_API_SERVER_PORT;
  scope.maasCluster.spec.controlPlaneEndpoint = { host: fqdn, port };
  scope.status.dnsName = fqdn;
  await scope.persist();
  return record;
}

async function createRecord(scope: ClusterScope, endpoint: MaasEndpoint, fqdn: string, desired: ControlPlaneAddresses): Promise<DnsResource> {
  // Nothing there: the first pass, a record deleted behind our back, or a create whose
  // answer was lost before MAAS stored it. Whichever, the one made now is ours.
  if (scope.annotation(DNSResourceCreatedAnnotation) !== CREATING || scope.annotation(DNSResourceAdoptedAnnotation) !== undefined) {
    scope.setAnnotation(DNSResourceCreatedAnnotation, CREATING);
    scope.setAnnotation(DNSResourceAdoptedAnnotation, undefined);
    await scope.persist();
  }
  let created: DnsResource;
  try {
    created = await endpoint.services.dnsResources.create({ fqdn, ipAddresses: desired.addresses }, { signal: scope.signal });
  } catch (err) {
    throw dnsFailure(scope, err, `Creating MAAS DNS resource ${fqdn}`);
  }
  scope.setAnnotation(DNSResourceCreatedAnnotation, String(created.id));
  scope.log.info({ fqdn, id: created.id, addresses: desired.addresses }, "created MAAS DNS resource");
  scope.event({ type: "Normal", reason: "DNSResourceCreated", action: "Create", note: `Created MAAS DNS resource ${fqdn} (id ${created.id})` });
  return created;
}

/** A record found in MAAS: ours if we created it (or were creating it), else adopted. */
function recordOwnership(scope: ClusterScope, record: DnsResource): void {
  const id = String(record.id);
  const created = scope.annotation(DNSResourceCreatedAnnotation);
  if (created === CREATING || created === id) {
    scope.setAnnotation(DNSResourceCreatedAnnotation, id);
    scope.setAnnotation(DNSResourceAdoptedAnnotation, undefined);
    return;
  }
  if (scope.annotation(DNSResourceAdoptedAnnotation) === id) return;
  // Someone else's record (or one that replaced ours): managed from now on, never deleted by us.
  scope.setAnnotation(DNSResourceCreatedAnnotation, undefined);
  scope.setAnnotation(DNSResourceAdoptedAnnotation, id);
  scope.log.info({ fqdn: record.fqdn, id: record.id }, "adopted existing MAAS DNS resource");
  scope.event({ type: "Normal", reason: "DNSResourceAdopted", action: "Adopt", note: `Adopted existing MAAS DNS resource ${record.fqdn} (id ${id}); it stays when the cluster is deleted` });
}

/**
 * Points the record at the Deployed control-plane machines, writing only when the set
 * changed. While any control-plane machine exists the record is never emptied: a
 * machine that stops being Deployed for a moment (a power blip) must not take the
 * whole control plane's name down with it.
 */
export async function reconcileDnsAddresses(scope: ClusterScope, endpoint: MaasEndpoint, record: DnsResource, desired: ControlPlaneAddresses): Promise<void> {
  const current = [...new Set(dnsResourceAddresses(record))].sort();
  const keepLast = desired.addresses.length === 0 && desired.controlPlaneMachines > 0;
  const target = keepLast ? current : desired.addresses;
  if (current.join(" ") !== target.join(" ")) {
    try {
      await endpoint.services.dnsResources.update(record.id, { ipAddresses: target }, { signal: scope.signal });
    } catch (err) {
      throw dnsFailure(scope, err, `Updating MAAS DNS resource ${record.fqdn}`);
    }
    scope.log.info({ fqdn: record.fqdn, from: current, to: target }, "updated MAAS DNS resource addresses");
    scope.event({ type: "Normal", reason: "DNSResourceUpdated", action: "Update", note: `${record.fqdn} now resolves to ${target.join(", ") || "nothing"}` });
  }
  if (desired.addresses.length > 0) {
    scope.setCondition({ type: DNSResourceReadyCondition, status: "True", reason: ReadyReason, message: `${record.fqdn} resolves to ${target.join(", ")}` });
  } else if (desired.controlPlaneMachines > 0) {
    // Control-plane machines exist and none serves: the name cannot lead to a working API server.
    scope.setCondition({
      type: DNSResourceReadyCondition,
      status: "False",
      reason: WaitingForControlPlaneAddressesReason,
      message:
        target.length === 0
          ? `Waiting for a control-plane MaasMachine to be Deployed to give ${record.fqdn} an address`
          : `No control-plane MaasMachine is Deployed; ${record.fqdn} keeps its last addresses ${target.join(", ")}`,
    });
  } else {
    // A new cluster: the name is all CAPI needs to start the control plane.
    scope.setCondition({
      type: DNSResourceReadyCondition,
      status: "True",
      reason: ReadyReason,
      message: `${record.fqdn} exists; it resolves to the control-plane machines once they are Deployed`,
    });
  }
}

/** Deletes the record this MaasCluster created, if any; an adopted one or a user's endpoint is left alone. */
export async function deleteCreatedDnsResource(scope: ClusterScope, endpoint: MaasEndpoint, clusterName: string | undefined): Promise<void> {
  const created = scope.annotation(DNSResourceCreatedAnnotation);
  if (created === undefined) return;
  const { dnsResources } = endpoint.services;
  try {
    let id: number | undefined = Number(created);
    if (created === CREATING) {
      // A create may have gone through without its id reaching us: the name finds it.
      const fqdn = scope.maasCluster.spec.controlPlaneEndpoint?.host ?? (clusterName === undefined ? undefined : `${clusterName}.${scope.maasCluster.spec.dnsDomain}`);
      const records = fqdn === undefined ? [] : await dnsResources.list({ fqdn }, { signal: scope.signal });
      id = records.find((r) => r.id >= 0)?.id;
    }
    if (id !== undefined && Number.isInteger(id)) {
      await dnsResources.delete(id, { signal: scope.signal });
      scope.log.info({ id }, "deleted MAAS DNS resource");
      const name = scope.maasCluster.spec.controlPlaneEndpoint?.host ?? "";
      scope.event({ type: "Normal", reason: "DNSResourceDeleted", action: "Delete", note: `Deleted MAAS DNS resource ${name} (id ${id})` });
    }
  } catch (err) {
    // Already gone (or its domain is): nothing left to delete.
    if (err instanceof MaasError && err.code === "NotFound") return;
    throw dnsFailure(scope, err, "Deleting the MAAS DNS resource");
  }
}

/** Says on DNSResourceReady what went wrong (MaasUnavailable or DNSResourceFailed); returns the error to rethrow. */
function dnsFailure(scope: ClusterScope, err: unknown, doing: string, explained?: string): unknown {
  if (isMaasUnavailable(err)) return reportMaasFailure(scope, DNSResourceReadyCondition, err, doing);
  const detail = explained ?? (err instanceof Error ? err.message : String(err));
  scope.setCondition({ type: DNSResourceReadyCondition, status: "False", reason: DNSResourceFailedReason, message: `${doing}: ${detail}` });
  return err;
}
