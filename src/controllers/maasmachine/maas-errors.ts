// How MAAS trouble shows on a MaasMachine: no credentials, MAAS unreachable or failing.
// MaasReachable says whether MAAS answered (a call of this pass, or the endpoint's
// watcher reads); MachineDeployed says it too while the machine is not yet deployed,
// as MAAS is what it waits for. A deployed machine keeps Ready: it runs whether or not
// MAAS's API answers. The caller decides whether the reconcile retries (thrown error)
// or waits for a change.
import {
  MaasNotConfiguredReason,
  MaasReachableCondition,
  MaasUnavailableReason,
  MachineDeployedCondition,
  MachineLostReason,
  MachineNotFoundReason,
  ReadyReason,
} from "../../api/v1beta1/index.ts";
import { MaasError } from "../../maas/index.ts";
import { endpointUrl, isMaasUnavailable, maasFailureMessage } from "../shared/maas-failure.ts";
import { MaasNotConfiguredError, type MaasEndpoint } from "../shared/maas-connection.ts";
import type { MachineSnapshot } from "../shared/machine-watcher.ts";
import type { MachineScope } from "./scope.ts";

/** The MAAS endpoint, or undefined after setting the condition that says credentials are missing. */
export function endpointOrReport(scope: MachineScope): MaasEndpoint | undefined {
  try {
    return scope.deps.maas.endpoint();
  } catch (err) {
    if (!(err instanceof MaasNotConfiguredError)) throw err;
    scope.setCondition({ type: MachineDeployedCondition, status: "False", reason: MaasNotConfiguredReason, message: err.message });
    scope.setCondition({ type: MaasReachableCondition, status: "False", reason: MaasNotConfiguredReason, message: err.message });
    return undefined;
  }
}

/**
 * Reports a MAAS failure that retrying may fix (MAAS down, 5xx, timeout, TLS, bad
 * credentials) on the machine, keeping the condition's reason otherwise. Returns the
 * error for the caller to rethrow, so the controller backs off.
 */
export function reportMaasFailure(scope: MachineScope, err: unknown, doing: string): unknown {
  if (isMaasUnavailable(err)) reportUnreachable(scope, maasFailureMessage(err, doing, endpointUrl(scope.deps.maas)));
  return err;
}

/** MAAS answered a call of this pass. */
export function reportMaasAnswered(scope: MachineScope, endpoint: MaasEndpoint): void {
  scope.setCondition({ type: MaasReachableCondition, status: "True", reason: ReadyReason, message: `MAAS at ${endpoint.url} answered` });
}

/**
 * Whether what the watcher last read of the machine can be acted on. While its reads
 * fail, a snapshot older than the last failed read may be stale: the conditions say
 * MAAS cannot be read, and nothing is decided from it (the watcher's first good read
 * enqueues the machine again). A snapshot this pass's own call returned is fresh.
 */
export function reportWatcherReads(scope: MachineScope, endpoint: MaasEndpoint, snapshot: MachineSnapshot | undefined): boolean {
  const failure = endpoint.watcher.readFailure();
  if (failure === undefined || (snapshot !== undefined && snapshot.observedAtMs > failure.lastMs)) {
    if (snapshot !== undefined) reportMaasAnswered(scope, endpoint);
    return true;
  }
  const doing = `Reading MAAS machine ${scope.maasMachine.spec.systemID ?? ""}`;
  const { error } = failure;
  reportUnreachable(scope, error instanceof MaasError ? maasFailureMessage(error, doing, endpoint.url) : `${doing} at ${endpoint.url}: ${String(error)}`);
  return false;
}

/** Reasons MAAS's absence does not change: the machine is not ours any more whether MAAS answers or not. */
const STAYS = new Set<string>([MachineLostReason, MachineNotFoundReason]);

function reportUnreachable(scope: MachineScope, message: string): void {
  scope.setCondition({ type: MaasReachableCondition, status: "False", reason: MaasUnavailableReason, message });
  const deployed = scope.condition(MachineDeployedCondition);
  if (scope.status.initialization?.provisioned !== true && !STAYS.has(deployed?.reason ?? "")) {
    scope.setCondition({ type: MachineDeployedCondition, status: "False", reason: MaasUnavailableReason, message });
  }
}
