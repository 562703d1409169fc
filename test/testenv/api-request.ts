// Bare HTTP(S) calls: readiness probes against etcd and kube-apiserver, and
// the CRD installer's calls to kube-apiserver with our CA and token. The
// installer does not use client-node's typed API, whose serializer drops
// schema keys it does not model (it maps x-kubernetes-* only from camelCase
// fields). Every call is bounded as a whole, not only while the socket idles,
// so no caller can wait forever on a server that stalls mid-answer.
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

export interface ApiTarget {
  server: string;
  caPem: string;
  token: string;
}

export interface ApiResponse {
  status: number;
  body: string;
}

export interface HttpCallOptions {
  method?: string;
  headers?: Record<string, string>;
  /** PEM of the CA to trust (https only). */
  ca?: string;
  body?: { contentType: string; data: string };
  /** The whole call, from connect to the last byte of the body. */
  timeoutMs: number;
}

/** One request; resolves with any HTTP status, rejects on a network error or after timeoutMs. */
export function httpCall(url: URL, options: HttpCallOptions): Promise<ApiResponse> {
  const method = options.method ?? "GET";
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (err: Error | undefined, response?: ApiResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        req.destroy();
        reject(err);
      } else if (response) resolve(response);
    };
    const timer = setTimeout(() => settle(new Error(`${method} ${url.pathname}: no complete answer after ${String(options.timeoutMs)} ms`)), options.timeoutMs);
    const headers: Record<string, string> = { ...options.headers };
    if (options.body) {
      headers["content-type"] = options.body.contentType;
      headers["content-length"] = String(Buffer.byteLength(options.body.data));
    }
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const req = send(url, { method, headers, ...(options.ca ? { ca: options.ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.once("end", () => settle(undefined, { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.once("error", (err) => settle(err));
      // A connection cut mid-body ends with 'close' and no 'end'.
      res.once("close", () => settle(new Error(`${method} ${url.pathname}: connection closed before the answer was complete`)));
    });
    req.once("error", (err) => settle(err));
    req.end(options.body?.data);
  });
}

/** A call to kube-apiserver as the admin; 60 s for the whole call. */
export function apiRequest(target: ApiTarget, method: string, path: string, body?: { contentType: string; data: string }): Promise<ApiResponse> {
  const headers = { authorization: `Bearer ${target.token}`, accept: "application/json" };
  return httpCall(new URL(path, target.server), { method, headers, ca: target.caPem, body, timeoutMs: 60_000 });
}

export interface WatchEvent {
  type: string;
  object: unknown;
}

/**
 * Streams watch events for path (which must carry ?watch=1) until onEvent
 * returns true (then resolves), the server ends the stream, or timeoutMs passes.
 */
export function apiWatch(target: ApiTarget, path: string, onEvent: (event: WatchEvent) => boolean, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => finish(new Error(`watch ${path}: no end after ${timeoutMs} ms`)), timeoutMs);
    const headers = { authorization: `Bearer ${target.token}`, accept: "application/json" };
    const req = httpsRequest(new URL(path, target.server), { method: "GET", headers, ca: target.caPem }, (res) => {
      if (res.statusCode !== 200) {
        finish(new Error(`watch ${path}: HTTP ${String(res.statusCode)}`));
        return;
      }
      // One JSON object per line; a CRD event can be hundreds of KB long.
      let buffered = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffered += chunk;
        let newline: number;
        while (!settled && (newline = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          if (line.trim() === "") continue;
          // A throw here would be uncaught (we are in an event handler): end the watch with it instead.
          try {
            if (onEvent(JSON.parse(line) as WatchEvent)) finish();
          } catch (err) {
            finish(err instanceof Error ? err : new Error(String(err)));
          }
        }
      });
      res.once("end", () => finish(new Error(`watch ${path}: the server ended the stream early`)));
      res.once("error", (err) => finish(err));
      res.once("close", () => finish(new Error(`watch ${path}: the connection closed`)));
    });
    req.once("error", (err) => finish(err));
    req.end();
  });
}
