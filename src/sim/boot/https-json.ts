// One JSON request over HTTPS with a client certificate or a bearer token, for the
// two servers a booted machine talks to: its cluster's kube-apiserver and etcd's HTTP
// gateway. One connection per request (agent: false), so nothing lingers after a
// machine stops; every request is bounded as a whole. Errors carry the method, the
// URL and the status, never a certificate, a key or a token.
import { request } from "node:https";

export interface TlsIdentity {
  /** PEM of the CA the server's certificate must chain to. */
  caPem: string;
  /** A client certificate and its key (PEM); absent when a bearer token authenticates instead. */
  certPem?: string;
  keyPem?: string;
  /** Authorization: Bearer …; never logged. */
  bearerToken?: string;
  /** The name the server's certificate must carry when the URL's host is an address it was reached by instead (a DNS endpoint resolved by hand). */
  serverName?: string;
}

export interface JsonAnswer {
  status: number;
  /** The parsed body; undefined when it is empty or not JSON. */
  body: unknown;
}

export interface JsonRequest {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  url: string;
  body?: unknown;
  /** Default application/json; merge patches need application/merge-patch+json. */
  contentType?: string;
  timeoutMs?: number;
}

/** The server could not be reached or did not answer in time; status answers are not errors here. */
export class HttpsRequestError extends Error {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly code: string | undefined,
    message: string,
  ) {
    super(`${method} ${url}: ${message}`);
    this.name = "HttpsRequestError";
  }
}

export function requestJson(identity: TlsIdentity, req: JsonRequest): Promise<JsonAnswer> {
  const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
  const headers: Record<string, string | number> = { Accept: "application/json" };
  if (payload !== undefined) {
    headers["Content-Type"] = req.contentType ?? "application/json";
    headers["Content-Length"] = payload.length;
  }
  if (identity.bearerToken !== undefined) headers.Authorization = `Bearer ${identity.bearerToken}`;
  const timeoutMs = req.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const fail = (error: Error & { code?: string }): void => reject(new HttpsRequestError(req.method, req.url, error.code, error.message));
    const outgoing = request(
      req.url,
      {
        method: req.method,
        headers,
        ca: identity.caPem,
        cert: identity.certPem,
        key: identity.keyPem,
        servername: identity.serverName,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.once("error", fail);
        res.once("end", () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString("utf8");
          let body: unknown;
          try {
            body = text === "" ? undefined : JSON.parse(text);
          } catch {
            body = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    const timer = setTimeout(() => outgoing.destroy(Object.assign(new Error(`no complete answer after ${timeoutMs} ms`), { code: "ETIMEDOUT" })), timeoutMs);
    outgoing.once("error", (error) => {
      clearTimeout(timer);
      fail(error);
    });
    outgoing.end(payload);
  });
}
