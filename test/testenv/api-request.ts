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
