// TLS towards MAAS: which certificates the client trusts, and what a refused handshake
// means. Node's `ca` option replaces its trust store rather than adding to it, so extra
// CAs (a MAAS region signed by a private CA) are appended to Node's defaults; passing
// them alone would make every publicly signed endpoint (a proxy in front of MAAS) fail.
// A certificate failure is a configuration fault, not an outage: it gets its own error,
// which retry.ts never retries.
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import tls from "node:tls";
import type { Logger } from "../observability/index.ts";
import { MaasConfigError, MaasTlsVerificationError, type TlsFailureReason } from "./errors.ts";

/** What the https agent is given. */
export interface AgentTlsOptions {
  ca?: string[];
  rejectUnauthorized?: boolean;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * The agent's TLS settings from the client options, checked at construction. Warnings
 * are logged here, once per client, never per request.
 */
export function resolveTlsOptions(input: {
  apiRoot: URL;
  caCertificates: string | undefined;
  insecureSkipTlsVerify: boolean | undefined;
  logger: Logger | undefined;
}): AgentTlsOptions {
  const { apiRoot, caCertificates, insecureSkipTlsVerify, logger } = input;
  if (insecureSkipTlsVerify !== undefined && typeof insecureSkipTlsVerify !== "boolean") {
    throw new MaasConfigError(`MAAS insecureSkipTlsVerify must be true or false; got ${typeof insecureSkipTlsVerify}`);
  }
  const extra = caCertificates === undefined ? undefined : parseCaCertificates(caCertificates);
  const https = apiRoot.protocol === "https:";
  if (!https) {
    // Both options only shape the TLS handshake; an http: endpoint has none, which
    // usually means the endpoint, not the option, is wrong.
    if (extra !== undefined) logger?.warn({ option: "caCertificates", endpoint: apiRoot.origin }, "MAAS caCertificates is ignored: the endpoint is http:");
    if (insecureSkipTlsVerify === true) logger?.warn({ option: "insecureSkipTlsVerify", endpoint: apiRoot.origin }, "MAAS insecureSkipTlsVerify is ignored: the endpoint is http:");
    return {};
  }
  if (insecureSkipTlsVerify === true) {
    logger?.warn(
      { option: "insecureSkipTlsVerify", endpoint: apiRoot.origin },
      "MAAS TLS verification is off: any server on the path can pose as MAAS and read the signed requests",
    );
  }
  return {
    ...(extra === undefined ? {} : { ca: [...defaultCertificates(), ...extra] }),
    ...(insecureSkipTlsVerify === true ? { rejectUnauthorized: false } : {}),
  };
}

/** The PEM certificates in `value`; refuses an empty value, one without a certificate, or a broken one. */
export function parseCaCertificates(value: unknown): string[] {
  if (typeof value !== "string" || value.trim() === "") {
    throw new MaasConfigError("MAAS caCertificates must hold one or more PEM certificates; got an empty value");
  }
  const blocks = value.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) {
    throw new MaasConfigError('MAAS caCertificates must hold one or more PEM certificates ("-----BEGIN CERTIFICATE-----" blocks); found none');
  }
  blocks.forEach((block, index) => {
    try {
      new X509Certificate(block);
    } catch {
      throw new MaasConfigError(`MAAS caCertificates: certificate ${index + 1} of ${blocks.length} is not a valid PEM certificate`);
    }
  });
  return blocks;
}

/**
 * Node's own default trust store. Node 22.15+ reports it (bundled roots, NODE_EXTRA_CA_CERTS,
 * and the system store under --use-system-ca); older Node gets the bundled roots plus the
 * NODE_EXTRA_CA_CERTS file, which is its default unless started with --use-openssl-ca.
 */
function defaultCertificates(): string[] {
  const withLookup = tls as typeof tls & { getCACertificates?: (type: "default") => string[] };
  if (typeof withLookup.getCACertificates === "function") return withLookup.getCACertificates("default");
  return [...tls.rootCertificates, ...extraCertificatesFromEnvironment()];
}

function extraCertificatesFromEnvironment(): string[] {
  const file = process.env.NODE_EXTRA_CA_CERTS;
  if (file === undefined || file === "") return [];
  try {
    return readFileSync(file, "utf8").match(PEM_BLOCK) ?? [];
  } catch {
    // Node already warned about an unreadable file at start-up and went on without it.
    return [];
  }
}

/** Node's certificate verification codes (tls docs, "X509 certificate error codes"), by reason. */
const REASONS: Readonly<Record<string, TlsFailureReason>> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: "self-signed",
  SELF_SIGNED_CERT_IN_CHAIN: "self-signed",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "unknown-ca",
  UNABLE_TO_GET_ISSUER_CERT: "unknown-ca",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "unknown-ca",
  CERT_UNTRUSTED: "unknown-ca",
  ERR_TLS_CERT_ALTNAME_INVALID: "hostname-mismatch",
  HOSTNAME_MISMATCH: "hostname-mismatch",
  CERT_HAS_EXPIRED: "expired",
  CERT_NOT_YET_VALID: "not-yet-valid",
  CERT_REVOKED: "revoked",
  UNABLE_TO_GET_CRL: "invalid-certificate",
  UNABLE_TO_DECRYPT_CERT_SIGNATURE: "invalid-certificate",
  UNABLE_TO_DECRYPT_CRL_SIGNATURE: "invalid-certificate",
  UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY: "invalid-certificate",
  CERT_SIGNATURE_FAILURE: "invalid-certificate",
  CRL_SIGNATURE_FAILURE: "invalid-certificate",
  CRL_NOT_YET_VALID: "invalid-certificate",
  CRL_HAS_EXPIRED: "invalid-certificate",
  ERROR_IN_CERT_NOT_BEFORE_FIELD: "invalid-certificate",
  ERROR_IN_CERT_NOT_AFTER_FIELD: "invalid-certificate",
  ERROR_IN_CRL_LAST_UPDATE_FIELD: "invalid-certificate",
  ERROR_IN_CRL_NEXT_UPDATE_FIELD: "invalid-certificate",
  CERT_CHAIN_TOO_LONG: "invalid-certificate",
  INVALID_CA: "invalid-certificate",
  PATH_LENGTH_EXCEEDED: "invalid-certificate",
  INVALID_PURPOSE: "invalid-certificate",
  CERT_REJECTED: "invalid-certificate",
};

/** The error for a refused certificate; undefined for any other failure (left to the network rules). */
export function tlsVerificationError(op: string, err: NodeJS.ErrnoException): MaasTlsVerificationError | undefined {
  const code = err.code;
  const reason = code === undefined || !Object.hasOwn(REASONS, code) ? undefined : REASONS[code];
  return reason === undefined || code === undefined ? undefined : new MaasTlsVerificationError({ op, reason, tlsCode: code, cause: err });
}
