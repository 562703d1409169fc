// How MAAS trouble shows on a MaasCluster: no credentials, MAAS unreachable or failing.
// MaasReachable says it, and so does the condition of the step that needed MAAS, so
// the Ready summary names the cause. The caller rethrows, and the controller backs off.
import {
  DNSResourceReadyCondition,
  FailureDomainsReadyCondition,
  MaasNotConfiguredReason,
  MaasReachableCondition,
  MaasUnavailableReason,
  NotYetReportedReason,
  ReadyReason,
} from "../../api/v1beta1/index.ts";
import { MaasError } from "../../maas/index.ts";
import { endpointUrl, isMaasUnavailable, maasFailureMessage } from "../shared/maas-failure.ts";
import { MaasNotConfiguredError, type MaasEndpoint } from "../shared/maas-connection.ts";
import type { ClusterScope } from "./scope.ts";

/** The MAAS endpoint; without credentials, the conditions say so and the error is thrown for backoff. */
export function endpointOrThrow(scope: ClusterScope): MaasEndpoint {
  try {
    return scope.deps.maas.endpoint();
  } catch (err) {
    if (!(err instanceof MaasNotConfiguredError)) throw err;
    const message = err.message;
    scope.setCondition({ type: MaasReachableCondition, status: "False", reason: MaasNotConfiguredReason, message });
    // Neither the zones nor the DNS resource can be checked without MAAS.
    for (const type of [FailureDomainsReadyCondition, DNSResourceReadyCondition]) {
      scope.setCondition({ type, status: "False", reason: MaasNotConfiguredReason, message });
    }
    throw err;
  }
}

/**
 * Reports a failure that retrying may fix on `conditionType` and MaasReachable, and
 * leaves other failures for the caller to describe. Returns the error to rethrow.
 */
export function reportMaasFailure(scope: ClusterScope, conditionType: string, err: unknown, doing: string): unknown {
  if (isMaasUnavailable(err)) {
    const message = maasFailureMessage(err, doing, endpointUrl(scope.deps.maas));
    scope.setCondition({ type: MaasReachableCondition, status: "False", reason: MaasUnavailableReason, message });
    scope.setCondition({ type: conditionType, status: "False", reason: MaasUnavailableReason, message });
  }
  return err;
}

/** MAAS answered a call of this pass: whatever was wrong with reaching it is over. */
export function reportMaasReachable(scope: ClusterScope, endpoint: MaasEndpoint): void {
  scope.setCondition({ type: MaasReachableCondition, status: "True", reason: ReadyReason, message: `MAAS at ${endpoint.url} answered` });
}

/**
 * For a pass that asked MAAS nothing (an endpoint given, no failure domains): what the
 * endpoint's machine watcher last found, which the manager enqueues every MaasCluster
 * on when it changes. Before its first read nothing is known, and nothing is claimed.
 */
export function reportMaasReachableFromWatcher(scope: ClusterScope, endpoint: MaasEndpoint): void {
  const failure = endpoint.watcher.readFailure();
  if (failure !== undefined) {
    const doing = "Reading MAAS machines";
    const message =
      failure.error instanceof MaasError ? maasFailureMessage(failure.error, doing, endpoint.url) : `${doing} at ${endpoint.url}: ${String(failure.error)}`;
    scope.setCondition({ type: MaasReachableCondition, status: "False", reason: MaasUnavailableReason, message });
    return;
  }
  if (endpoint.watcher.lastReadMs() !== undefined) {
    reportMaasReachable(scope, endpoint);
    return;
  }
  if (scope.condition(MaasReachableCondition) !== undefined) return;
  scope.setCondition({
    type: MaasReachableCondition,
    status: "Unknown",
    reason: NotYetReportedReason,
    message: `MAAS at ${endpoint.url} has not been asked yet: this MaasCluster needs nothing from it (spec.controlPlaneEndpoint is given and spec.failureDomains is empty)`,
  });
}
