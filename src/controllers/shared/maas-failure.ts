// MAAS failures as every controller reports them: which ones mean "MAAS cannot be used
// right now" (retried with backoff), and their text in a condition. A refused
// certificate is told in the manager's own terms (its flags, MAAS_ENDPOINT), which the
// MAAS client cannot know, with the fix: that failure lasts until someone changes a
// setting or the certificate.
import { MaasError, MaasTlsVerificationError, type TlsFailureReason } from "../../maas/index.ts";
import type { MaasConnection } from "./maas-connection.ts";

/** MAAS codes that mean "could not reach or use MAAS right now", as opposed to MAAS refusing the request. */
const UNAVAILABLE_CODES = new Set(["Unavailable", "ServerError", "Timeout", "Network", "Unauthorized", "TlsVerification"]);

/** True for a failure that retrying may fix (MAAS down, 5xx, timeout, TLS, bad credentials). */
export function isMaasUnavailable(err: unknown): err is MaasError {
  return err instanceof MaasError && UNAVAILABLE_CODES.has(err.code);
}

/**
 * The condition message for a MAAS failure, naming the endpoint (which MAAS, when a
 * manager could be pointed at the wrong one). A refused certificate is told in the
 * manager's own terms (its flags, MAAS_ENDPOINT), which the MAAS client cannot know,
 * with the fix: that failure lasts until someone changes a setting or the certificate.
 */
export function maasFailureMessage(err: MaasError, doing: string, endpoint?: string): string {
  const where = endpoint === undefined ? doing : `${doing} at ${publicEndpoint(endpoint)}`;
  if (!(err instanceof MaasTlsVerificationError)) return `${where}: ${err.message}`;
  return `${where}: MAAS ${err.op ?? ""}: TLS verification failed (${err.tlsCode}): ${TLS_FAILURE_TEXT[err.reason]}`;
}

/** The URL of the MAAS the manager uses now, for messages; undefined without credentials. */
export function endpointUrl(connection: Pick<MaasConnection, "isConfigured" | "endpoint">): string | undefined {
  return connection.isConfigured() ? connection.endpoint().url : undefined;
}

/** The endpoint as a condition may show it: never credentials or a query a user put in the URL. */
function publicEndpoint(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    url.username = "";
    url.password = "";
    url.search = "";
    url.hash = "";
    return url.toString();
  } catch {
    return "the configured MAAS_ENDPOINT";
  }
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
