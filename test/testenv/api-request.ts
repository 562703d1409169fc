// A bare HTTPS call to kube-apiserver with our CA and token. The CRD installer
// uses it instead of client-node's typed API, whose serializer drops schema
// keys it does not model (it maps x-kubernetes-* only from camelCase fields).
import { request } from "node:https";

export interface ApiTarget {
  server: string;
  caPem: string;
  token: string;
}

export interface ApiResponse {
  status: number;
  body: string;
}

export function apiRequest(target: ApiTarget, method: string, path: string, body?: { contentType: string; data: string }): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${target.token}`, accept: "application/json" };
    if (body) {
      headers["content-type"] = body.contentType;
      headers["content-length"] = String(Buffer.byteLength(body.data));
    }
    const req = request(new URL(path, target.server), { method, headers, ca: target.caPem, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.once("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.once("error", reject);
    });
    req.once("timeout", () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.once("error", reject);
    req.end(body?.data);
  });
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
    const req = request(new URL(path, target.server), { method: "GET", headers, ca: target.caPem }, (res) => {
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
          if (line.trim() !== "" && onEvent(JSON.parse(line) as WatchEvent)) finish();
        }
      });
      res.once("end", () => finish(new Error(`watch ${path}: the server ended the stream early`)));
      res.once("error", (err) => finish(err));
    });
    req.once("error", (err) => finish(err));
    req.end();
  });
}
