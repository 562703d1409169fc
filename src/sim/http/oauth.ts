// OAuth 1.0 as MAAS checks it: maas@3.7.0 api/auth.py (MAASAPIAuthentication)
// on top of piston3's OAuthAuthentication and its bundled python-oauth server.
// - A request counts as OAuth only if all six of oauth_consumer_key, oauth_token,
//   oauth_signature, oauth_signature_method, oauth_timestamp, oauth_nonce occur in
//   the Authorization header text or in the query/form parameters
//   (piston3 is_valid_request); otherwise it is anonymous.
// - Then, in python-oauth's verify_request order: version, consumer ("Invalid
//   consumer."), access token, timestamp (older than 300 s → expired), nonce
//   (replay → "Nonce already used"), signature method, signature.
// PLAINTEXT (gomaasapi, python-libmaas) and HMAC-SHA1 (spectrocloud
// maas-client-go signs with it) are both checked; piston registers both.
// Checked in the django-piston3 0.3rc2 sdist (piston/oauth.py, piston/authentication.py).
// Whatever a client puts in the header, the answer is a 401 with python-oauth's
// text, never a 500, even where MAAS itself would fail with one (noted below).
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { pyRepr } from "../python-format.ts";
import type { Store } from "../store.ts";
import { oauthUnauthorized } from "./errors.ts";
import type { FormParams } from "./form-params.ts";

const REQUIRED = ["oauth_consumer_key", "oauth_token", "oauth_signature", "oauth_signature_method", "oauth_timestamp", "oauth_nonce"];
const TIMESTAMP_THRESHOLD_S = 300;
const NONCE_LIMIT = 100_000;

export interface AuthInput {
  method: string;
  /** scheme://host[:port]/path as the client addressed it (the OAuth base URL). */
  url: string;
  authorization: string | undefined;
  query: FormParams;
  body: FormParams;
  bodyUrlEncoded: boolean;
}

/** null: anonymous. Otherwise the authenticated username. Throws ApiError (401) on bad credentials. */
export type AuthOutcome = { username: string } | null;

export class OAuthVerifier {
  // (consumer, token, nonce) → when first seen (wall-clock ms). Entries older than
  // twice the timestamp threshold cannot be replayed (their timestamp is expired),
  // so they are dropped; the map never exceeds NONCE_LIMIT entries.
  private readonly nonces = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly wallClockMs: () => number,
  ) {}

  verify(input: AuthInput): AuthOutcome {
    const header = input.authorization ?? "";
    const looksLikeOAuth =
      REQUIRED.every((p) => header.includes(p)) || REQUIRED.every((p) => input.query.has(p) || input.body.has(p));
    if (!looksLikeOAuth) return null;
    const fail = (message: string): never => {
      throw oauthUnauthorized(message);
    };
    // OAuthRequest.from_request wraps _split_header in a bare except. (When neither the
    // header nor the parameters give anything, from_request returns None and MAAS fails
    // with a 500; the simulator goes on to "Parameter not found".)
    const params = this.collect(input, header) ?? fail("Unable to parse OAuth parameters from Authorization header.");
    const version = params.get("oauth_version");
    if (version !== undefined && version !== "" && version !== "1.0") fail(`OAuth version ${version} not supported.`);
    const consumerKey = params.get("oauth_consumer_key") ?? fail("Parameter not found: oauth_consumer_key");
    const consumer = this.store.credentialByConsumer(consumerKey);
    if (consumer === undefined) fail("Invalid consumer.");
    const tokenKey = params.get("oauth_token") ?? fail("Parameter not found: oauth_token");
    const token = this.store.credentialByToken(tokenKey) ?? fail(`Invalid access token: ${tokenKey}`);
    const timestampText = params.get("oauth_timestamp") ?? fail("Parameter not found: oauth_timestamp");
    const nonce = params.get("oauth_nonce") ?? fail("Parameter not found: oauth_nonce");
    // _check_timestamp: int(timestamp). MAAS lets int()'s ValueError through as a 500;
    // the simulator answers 401 with the same text.
    const timestamp = pyInt(timestampText) ?? fail(`invalid literal for int() with base 10: ${pyRepr(timestampText)}`);
    const now = Math.floor(this.wallClockMs() / 1000);
    if (now - timestamp > TIMESTAMP_THRESHOLD_S) {
      fail(`Expired timestamp: given ${timestamp} and now ${now} has a greater difference than threshold ${TIMESTAMP_THRESHOLD_S}`);
    }
    if (this.seenNonce(`${consumerKey}\n${tokenKey}\n${nonce}`)) fail(`Nonce already used: ${nonce}`);
    const method = params.get("oauth_signature_method") ?? "";
    const signature = params.get("oauth_signature") ?? "";
    const key = `&${escape(token.tokenSecret)}`; // the consumer secret is always empty in MAAS
    let valid: boolean;
    if (method === "PLAINTEXT") {
      valid = safeEqual(signature, key);
    } else if (method === "HMAC-SHA1") {
      const base = signatureBase(input, params);
      valid = safeEqual(signature, createHmac("sha1", key).update(base).digest("base64"));
    } else {
      return fail(`Signature method ${method} not supported try one of the following: PLAINTEXT, HMAC-SHA1`);
    }
    // MAAS appends the expected base string, which for PLAINTEXT is the token
    // secret itself; the simulator keeps secrets out of response bodies.
    if (!valid) fail("Invalid signature. Expected signature base string: [withheld by the simulator]");
    return { username: token.username };
  }

  /**
   * python-oauth OAuthRequest.from_request: urlencoded POST params, updated by the
   * header, then by the query. null when the header cannot be split.
   */
  private collect(input: AuthInput, header: string): Map<string, string> | null {
    const params = new Map<string, string>();
    if (input.method === "POST" && input.bodyUrlEncoded) {
      for (const [k, v] of input.body.entries()) params.set(k, v); // dict(QueryDict.items()): last value
    } else {
      for (const [k, v] of input.body.entries()) if (k.startsWith("oauth_")) params.set(k, v);
    }
    const fromHeader = splitHeader(header);
    if (fromHeader === null) return null;
    for (const [k, v] of fromHeader) params.set(k, v);
    // cgi.parse_qs(keep_blank_values=False) and the first value of each key.
    for (const [k] of input.query.lists()) {
      const first = input.query.getAll(k).find((v) => v !== "");
      if (first !== undefined) params.set(k, first);
    }
    return params;
  }

  private seenNonce(identity: string): boolean {
    // A digest, so an entry costs the same however long the client made its nonce.
    const key = createHash("sha256").update(identity).digest("base64");
    const now = this.wallClockMs();
    if (this.nonces.size >= NONCE_LIMIT || this.nonces.size % 1000 === 0) {
      for (const [k, at] of this.nonces) {
        if (now - at > 2 * TIMESTAMP_THRESHOLD_S * 1000) this.nonces.delete(k);
      }
      while (this.nonces.size >= NONCE_LIMIT) {
        const oldest = this.nonces.keys().next().value;
        if (oldest === undefined) break;
        this.nonces.delete(oldest);
      }
    }
    if (this.nonces.has(key)) return true;
    this.nonces.set(key, now);
    return false;
  }
}

/**
 * python-oauth _split_header: only headers starting "OAuth "; comma-separated
 * key="value" pairs in any order, values URL-unescaped, any part naming realm
 * skipped. A part without "=" (an empty one too, as after a trailing comma) makes
 * it fail: null.
 */
function splitHeader(header: string): Array<[string, string]> | null {
  if (!header.startsWith("OAuth ")) return [];
  const out: Array<[string, string]> = [];
  for (const raw of header.slice(6).split(",")) {
    if (raw.includes("realm")) continue;
    const part = raw.trim();
    const eq = part.indexOf("=");
    if (eq < 0) return null;
    const value = part.slice(eq + 1).replace(/^"+|"+$/g, "");
    out.push([part.slice(0, eq), pyUnquote(value)]);
  }
  return out;
}

/**
 * Python 3's urllib.parse.unquote: each run of %XX escapes is decoded as UTF-8,
 * invalid sequences becoming U+FFFD; a "%" not followed by two hex digits stays.
 */
function pyUnquote(text: string): string {
  return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => Buffer.from(run.replaceAll("%", ""), "hex").toString("utf8"));
}

/** Python's int(text): optional sign and surrounding whitespace, digits with single "_" between them. */
function pyInt(text: string): number | null {
  const match = /^\s*([+-]?\d+(?:_\d+)*)\s*$/.exec(text);
  return match === null ? null : Number((match[1] ?? "").replaceAll("_", ""));
}

function signatureBase(input: AuthInput, params: Map<string, string>): string {
  const pairs = [...params]
    .filter(([k]) => k !== "oauth_signature")
    .map(([k, v]) => [escape(k), escape(v)] as const)
    .sort((a, b) => (a[0] === b[0] ? compare(a[1], b[1]) : compare(a[0], b[0])));
  const normalized = pairs.map(([k, v]) => `${k}=${v}`).join("&");
  return [escape(input.method.toUpperCase()), escape(normalizedUrl(input.url)), escape(normalized)].join("&");
}

function normalizedUrl(url: string): string {
  const u = new URL(url);
  const defaultPort = (u.protocol === "http:" && u.port === "80") || (u.protocol === "https:" && u.port === "443");
  return `${u.protocol}//${defaultPort ? u.hostname : u.host}${u.pathname}`;
}

/** urllib.quote(s, safe='~'): everything but letters, digits and _.-~ is escaped. */
export function escape(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
