// Readiness polling for etcd (/health, plain HTTP) and kube-apiserver (/readyz
// over TLS with our CA and the admin token, so RBAC's bootstrap roles need not
// exist yet). Polling stops early when the process exits: its log says why.
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { setTimeout as sleep } from "node:timers/promises";
import type { Child } from "./children.ts";

export interface ProbeTarget {
  url: string;
  ca?: string;
  token?: string;
}

export async function waitUntilReady(child: Child, target: ProbeTarget, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    if (child.hasExited) {
      throw new ExitedBeforeReadyError(child);
    }
    const status = await probe(target);
    if (status === 200) return;
    last = typeof status === "number" ? `HTTP ${status}` : status;
    await sleep(50);
  }
  throw new Error(`${child.name} (pid ${child.pid}) not ready after ${timeoutMs} ms (${last}); see ${child.logPath}`);
}

export class ExitedBeforeReadyError extends Error {
  readonly logPath: string;
  constructor(child: Child) {
    const exit = child.exitStatus;
    super(`${child.name} exited before it was ready (code ${String(exit?.code)}, signal ${String(exit?.signal)}); see ${child.logPath}`);
    this.name = "ExitedBeforeReadyError";
    this.logPath = child.logPath;
  }
}

function probe(target: ProbeTarget): Promise<number | string> {
  return new Promise((resolve) => {
    const url = new URL(target.url);
    const headers: Record<string, string> = target.token ? { authorization: `Bearer ${target.token}` } : {};
    const options = { method: "GET", headers, timeout: 2000, ...(target.ca ? { ca: target.ca } : {}) };
    const req = (url.protocol === "https:" ? httpsRequest : httpRequest)(url, options, (res) => {
      res.resume();
      res.once("end", () => resolve(res.statusCode ?? 0));
    });
    req.once("timeout", () => req.destroy(new Error("timeout")));
    req.once("error", (err) => resolve(err.message));
    req.end();
  });
}
