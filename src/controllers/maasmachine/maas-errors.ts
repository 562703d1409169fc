// How MAAS trouble shows on a MaasMachine: no credentials, MAAS unreachable or failing.
// Each sets MachineDeployed with a reason a user can act on; the caller decides whether
// the reconcile retries (thrown error) or waits for a change.
import { MaasNotConfiguredReason, MaasUnavailableReason, MachineDeployedCondition } from "../../api/v1beta1/index.ts";
import { MaasError, MaasTlsVerificationError, type TlsFailureReason } from "../../maas/index.ts";
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

/** MAAS codes that mean "could not reach or use MAAS right now", as opposed to MAAS refusing the request. */
const UNAVAILABLE_CODES = new Set(["Unavailable", "ServerError", "Timeout", "Network", "Unauthorized", "TlsVerification"]);

/**
 * Reports a MAAS failure that retrying may fix (MAAS down, 5xx, timeout, TLS, bad
 * credentials) on the machine, keeping the condition's reason otherwise. Returns the
 * error for the caller to rethrow, so the controller backs off.
 */
export function reportMaasFailure(scope: MachineScope, err: unknown, doing: string): unknown {
  if (err instanceof MaasError && UNAVAILABLE_CODES.has(err.code)) {
    scope.setCondition({
      type: MachineDeployedCondition,
      status: "False",
      reason: MaasUnavailableReason,
      message: maasFailureMessage(err, doing),
    });
  }
  return err;
}

/**
 * The condition message for a MAAS failure. A refused certificate is told in the
 * manager's own terms (its flags, MAAS_ENDPOINT), which the MAAS client cannot know,
 * with the fix: that failure lasts until someone changes a setting or the certificate.
 */
export function maasFailureMessage(err: MaasError, doing: string): string {
  if (!(err instanceof MaasTlsVerificationError)) return `${doing}: ${err.message}`;
  return `${doing}: MAAS ${err.op ?? ""}: TLS verification failed (${err.tlsCode}): ${TLS_FAILURE_TEXT[err.reason]}`;
}

const TRUST_THE_CA = "give the manager the CA that signed MAAS's certificate with --maas-ca-file FILE (PEM)";

/** What went wrong; what to change. */
const TLS_FAILURE_TEXT: Record<TlsFailureReason, string> = {
  "self-signed": `the certificate (or a CA in its chain) is self-signed and not trusted; ${TRUST_THE_CA}`,
  "unknown-ca": `the certificate is signed by an unknown CA; ${TRUST_THE_CA}`,
  "hostname-mismatch": "the certificate does not name the endpoint's host; set MAAS_ENDPOINT to a host name the certificate holds, or reissue the certificate for this host",
  expired: "the certificate has expired; renew MAAS's certificate",
  "not-yet-valid": "the certificate is not valid yet; check the clocks of MAAS and the manager",
  revoked: "the certificate was revoked; replace MAAS's certificate",
  "invalid-certificate": "the certificate chain is invalid; replace MAAS's certificate",
};
