// How MAAS trouble shows on a MaasMachine: no credentials, MAAS unreachable or failing.
// Each sets MachineDeployed with a reason a user can act on; the caller decides whether
// the reconcile retries (thrown error) or waits for a change.
import { MaasNotConfiguredReason, MaasUnavailableReason, MachineDeployedCondition } from "../../api/v1beta1/index.ts";
import { isMaasUnavailable, maasFailureMessage } from "../shared/maas-failure.ts";
import { MaasNotConfiguredError, type MaasEndpoint } from "../shared/maas-connection.ts";
import type { MachineScope } from "./scope.ts";

/** The MAAS endpoint, or undefined after setting the condition that says credentials are missing. */
export function endpointOrReport(scope: MachineScope): MaasEndpoint | undefined {
  try {
    return scope.deps.maas.endpoint();
  } catch (err) {
    if (!(err instanceof MaasNotConfiguredError)) throw err;
    scope.setCondition({ type: MachineDeployedCondition, status: "False", reason: MaasNotConfiguredReason, message: err.message });
    return undefined;
  }
}

/**
 * Reports a MAAS failure that retrying may fix (MAAS down, 5xx, timeout, TLS, bad
 * credentials) on the machine, keeping the condition's reason otherwise. Returns the
 * error for the caller to rethrow, so the controller backs off.
 */
export function reportMaasFailure(scope: MachineScope, err: unknown, doing: string): unknown {
  if (isMaasUnavailable(err)) {
    scope.setCondition({
      type: MachineDeployedCondition,
      status: "False",
      reason: MaasUnavailableReason,
      message: maasFailureMessage(err, doing),
    });
  }
  return err;
}
