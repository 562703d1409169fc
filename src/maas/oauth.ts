// The OAuth 1.0 PLAINTEXT Authorization header MAAS expects (what gomaasapi's oauth.go
// and python-libmaas build). The consumer secret is empty, so the signature is
// "&" + token secret, percent-encoded. Piston needs all six oauth_* fields; realm is
// not checked. A fresh nonce and timestamp go out with every attempt because MAAS
// stores nonces and answers a replay with 401.
import { randomBytes } from "node:crypto";
import type { Clock } from "../clock/index.ts";
import type { MaasCredentials } from "./credentials.ts";

export interface AuthorizationHeaderOptions {
  credentials: MaasCredentials;
  clock: Clock;
  /** Source of nonces; defaults to 16 random bytes from node:crypto as hex. */
  nonce?: () => string;
}

export function randomNonce(): string {
  return randomBytes(16).toString("hex");
}

export function buildAuthorizationHeader(options: AuthorizationHeaderOptions): string {
  const { credentials, clock } = options;
  const fields: [string, string][] = [
    ["oauth_consumer_key", credentials.consumerKey],
    ["oauth_token", credentials.tokenKey],
    ["oauth_signature_method", "PLAINTEXT"],
    ["oauth_signature", `&${credentials.tokenSecret}`],
    ["oauth_timestamp", String(Math.floor(clock.now() / 1000))],
    ["oauth_nonce", (options.nonce ?? randomNonce)()],
    ["oauth_version", "1.0"],
  ];
  return `OAuth realm="", ${fields.map(([name, value]) => `${name}="${percentEncode(value)}"`).join(", ")}`;
}

/** RFC 5849 §3.6 encoding: everything but unreserved characters. */
function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
