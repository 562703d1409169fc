// Parsing of the two things a user configures: the MAAS endpoint and the API key.
// A bad value is refused at construction with a message naming the wrong part and
// the fix; the key itself is never echoed, not even in part.
import { MaasConfigError } from "./errors.ts";

/** The three parts of a MAAS API key (`consumer_key:token_key:token_secret`). */
export interface MaasCredentials {
  readonly consumerKey: string;
  readonly tokenKey: string;
  readonly tokenSecret: string;
}

const KEY_FORMAT = "consumer_key:token_key:token_secret";
// MAAS generates every part from [A-Za-z0-9]; accept the URL-safe token alphabet so
// keys from other issuers still work, but refuse whitespace, quotes and ':' leftovers.
const KEY_PART = /^[A-Za-z0-9._~-]+$/;

export function parseApiKey(apiKey: string): MaasCredentials {
  if (typeof apiKey !== "string" || apiKey.trim() === "") {
    throw new MaasConfigError(`MAAS API key is empty; set it to the key from the MAAS UI or "maas apikey" (${KEY_FORMAT})`);
  }
  const parts = apiKey.trim().split(":");
  if (parts.length !== 3) {
    throw new MaasConfigError(
      `MAAS API key must have three ':'-separated parts (${KEY_FORMAT}); got ${parts.length} part${parts.length === 1 ? "" : "s"}`,
    );
  }
  const names = ["consumer_key", "token_key", "token_secret"] as const;
  parts.forEach((part, index) => {
    const name = names[index] ?? "part";
    if (part === "") {
      throw new MaasConfigError(`MAAS API key part ${index + 1} (${name}) is empty; expected ${KEY_FORMAT}`);
    }
    if (!KEY_PART.test(part)) {
      throw new MaasConfigError(
        `MAAS API key part ${index + 1} (${name}) has characters other than letters, digits, '.', '_', '~' or '-'; copy the key again without spaces or quotes`,
      );
    }
  });
  const [consumerKey, tokenKey, tokenSecret] = parts as [string, string, string];
  return { consumerKey, tokenKey, tokenSecret };
}

const API_SUFFIX = /\/api\/2\.0\/?$/;

/**
 * The API root with a trailing slash, e.g. `http://maas:5240/MAAS/api/2.0/`. Accepts
 * the MAAS URL (`http://maas:5240/MAAS`) or the API root itself, like python-libmaas'
 * `api_url`, with any number of trailing slashes.
 */
export function normaliseEndpoint(endpoint: string): URL {
  if (typeof endpoint !== "string" || endpoint.trim() === "") {
    throw new MaasConfigError("MAAS endpoint is empty; set it to the MAAS URL, e.g. http://maas.example.com:5240/MAAS");
  }
  let url: URL;
  try {
    url = new URL(endpoint.trim());
  } catch {
    throw new MaasConfigError(
      "MAAS endpoint is not an absolute URL; use the form http://maas.example.com:5240/MAAS",
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new MaasConfigError(`MAAS endpoint scheme must be http or https; got "${url.protocol.replace(/:$/, "")}"`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new MaasConfigError("MAAS endpoint must not carry credentials; put the API key in the API key setting");
  }
  if (url.search !== "" || url.hash !== "") {
    throw new MaasConfigError("MAAS endpoint must not have a query or fragment; use the form http://maas.example.com:5240/MAAS");
  }
  if (/\/api\/(?!2\.0\/*$)[^/]+\/*$/.test(url.pathname)) {
    throw new MaasConfigError("MAAS endpoint names an API version other than 2.0; this client speaks /api/2.0/ only");
  }
  const base = url.pathname.replace(/\/+$/, "");
  url.pathname = API_SUFFIX.test(`${base}/`) ? `${base}/` : `${base}/api/2.0/`;
  return url;
}
