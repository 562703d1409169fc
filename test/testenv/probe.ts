// Readiness polling for etcd (/health, plain HTTP) and kube-apiserver (/readyz
// over TLS with our CA and the admin token, so RBAC's bootstrap roles need not
// exist yet). Polling stops early when the process exits: its log says why.
// A target may also demand a marker in the body: a port we picked can be
// taken by another test run's server before our child binds it, and that
// server would answer a bare health check for ours.
import { setTimeout as sleep } from "node:timers/promises";
import { httpCall } from "./api-request.ts";
import type { Child } from "./children.ts";

export interface ProbeTarget {
  url: string;
  ca?: string;
  token?: string;
  method?: "GET" | "POST";
  /** Sent as JSON. */
  jsonBody?: string;
  /** Ready only when the 200 answer's body contains this. */
  bodyIncludes?: string;
}

/** Polls until every target answers 200 (in order), the child exits, or timeoutMs passes. */
export async function waitUntilReady(child: Child, targets: readonly ProbeTarget[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    if (child.hasExited) {
      throw new ExitedBeforeReadyError(child);
    }
    let failed: string | undefined;
    for (const target of targets) {
      failed = await probe(target, Math.max(1, Math.min(2000, deadline - Date.now())));
      if (failed !== undefined) break;
    }
    // Ours only if it is still running: a server that answered may be another process on our port.
    if (failed === undefined && !child.hasExited) return;
    last = failed ?? last;
    await sleep(50);
  }
  throw new Error(`${child.name} (pid ${child.pid}) not ready after ${timeoutMs} ms (${last}); see ${child.logPath}`);
}

export class ExitedBeforeReadyError extends Error {
  readonly logPath: string;
  /** Where the exited process's own output starts in logPath. */
  readonly logOffset: number;
  constructor(child: Child) {
    const exit = child.exitStatus;
    super(`${child.name} exited before it was ready (code ${String(exit?.code)}, signal ${String(exit?.signal)}); see ${child.logPath}`);
    this.name = "ExitedBeforeReadyError";
    this.logPath = child.logPath;
    this.logOffset = child.logOffset;
  }
}

/** undefined when the target is ready, else what it answered. */
async function probe(target: ProbeTarget, timeoutMs: number): Promise<string | undefined> {
  const headers: Record<string, string> = target.token ? { authorization: `Bearer ${target.token}` } : {};
  const body = target.jsonBody === undefined ? undefined : { contentType: "application/json", data: target.jsonBody };
  try {
    const res = await httpCall(new URL(target.url), { method: target.method, headers, ca: target.ca, body, timeoutMs });
    if (res.status !== 200) return `HTTP ${String(res.status)} from ${target.url}`;
    if (target.bodyIncludes !== undefined && !res.body.includes(target.bodyIncludes)) {
      return `${target.url} answered without ${target.bodyIncludes}: another server on this port?`;
    }
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
