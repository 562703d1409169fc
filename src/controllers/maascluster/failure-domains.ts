// status.failureDomains: the MAAS zones CAPI may spread Machines over, in the v1beta2
// contract's list shape. spec.failureDomains names them (each must exist in MAAS). An
// empty spec offers none, so MAAS picks each machine's zone: offering every zone would
// let Cluster API place a machine in a zone with no machine to give (MAAS's `default`
// zone always exists and is often empty), where it would wait on InsufficientCapacity
// for ever. CAPI copies the list to the Cluster on each of its reconciles, so a zone
// fixed later reaches new Machines without anything else.
import { FailureDomainNotFoundReason, FailureDomainsReadyCondition, ReadyReason, type FailureDomain } from "../../api/v1beta1/index.ts";
import type { MaasEndpoint } from "../shared/maas-connection.ts";
import { reportMaasFailure } from "./maas-errors.ts";
import type { ClusterScope } from "./scope.ts";

/** The CRD's (and CAPI's) limit on status.failureDomains; more would get every status write refused. */
const MAX_FAILURE_DOMAINS = 100;

export async function reconcileFailureDomains(scope: ClusterScope, endpoint: MaasEndpoint): Promise<void> {
  const wanted = scope.maasCluster.spec.failureDomains ?? [];
  if (wanted.length === 0) {
    delete scope.status.failureDomains;
    scope.setCondition({
      type: FailureDomainsReadyCondition,
      status: "True",
      reason: ReadyReason,
      message: "spec.failureDomains is empty: no failure domains are offered, and MAAS picks each machine's zone",
    });
    return;
  }
  let zoneNames: string[];
  try {
    const zones = await endpoint.services.zones.list({ signal: scope.signal });
    zoneNames = zones.map((z) => z.name);
  } catch (err) {
    throw reportMaasFailure(scope, FailureDomainsReadyCondition, err, "Listing MAAS zones");
  }
  const known = new Set(zoneNames);
  const missing = wanted.filter((name) => !known.has(name));
  const offered = wanted.filter((name) => known.has(name)).slice(0, MAX_FAILURE_DOMAINS);

  const domains: FailureDomain[] = offered.map((name) => ({ name, controlPlane: true }));
  // The contract's list has at least one item when present.
  if (domains.length === 0) delete scope.status.failureDomains;
  else scope.status.failureDomains = domains;

  if (missing.length > 0) {
    scope.setCondition({
      type: FailureDomainsReadyCondition,
      status: "False",
      reason: FailureDomainNotFoundReason,
      message: `MAAS has no zone ${missing.map((n) => `"${n}"`).join(", ")}; it is not offered as a failure domain`,
    });
    return;
  }
  scope.setCondition({
    type: FailureDomainsReadyCondition,
    status: "True",
    reason: ReadyReason,
    message: `${domains.length} MAAS zone(s) offered as failure domains`,
  });
}
