// Waiting until a machine's process answers its health endpoint over TLS, as
// kubeadm waits for its static Pods (etcd /readyz, kube-apiserver /readyz).
// Polling stops as soon as the process exits, and every failure names the
// process and carries the end of its log.
import { request } from "node:https";
import { setTimeout as sleep } from "node:timers/promises";
import type { BootChild, ProcessExit } from "./child-process.ts";

export interface TlsProbe {
  url: string;
  /** PEM of the CA the server's certificate must chain to; absent: not verified (a kubelet's self-signed certificate). */
  caPem?: string;
  /** A client certificate and key (PEM), for servers that demand one. */
  clientCertPem?: string;
  clientKeyPem?: string;
  /** Ready only when the 200 answer's body contains this. */
  bodyIncludes?: string;
}

/** A process of a machine that failed to start, with the end of its own log. */
export class BootProcessError extends Error {
  readonly label: string;
  readonly pid: number;
  readonly logPath: string;
  readonly exit: ProcessExit | undefined;

  constructor(child: BootChild, what: string, logTail: string) {
    const tail = logTail === "" ? " (its log is empty)" : `; the end of ${child.logPath}:\n${logTail}`;
    super(`${child.label} (pid ${String(child.pid)}) ${what}${tail}`);
    this.name = "BootProcessError";
    this.label = child.label;
    this.pid = child.pid;
    this.logPath = child.logPath;
    this.exit = child.exitStatus;
  }
}

/** Polls probe until it answers 200, the child exits, or timeoutMs passes; rejects with a BootProcessError. */
export async function waitUntilReady(child: BootChild, probe: TlsProbe, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer yet";
  for (;;) {
    const exit = child.exitStatus;
    if (exit !== undefined) {
      const how = exit.signal !== null ? `signal ${exit.signal}` : `code ${String(exit.code)}`;
      throw new BootProcessError(child, `exited before it was ready (${how})`, await child.logTail());
    }
    if (Date.now() >= deadline) break;
    const failed = await probeOnce(probe, Math.max(1, Math.min(2000, deadline - Date.now())));
    // Ours only if it still runs: a server that answered may be another process on this address.
    if (failed === undefined && child.exitStatus === undefined) return;
    last = failed ?? last;
    await sleep(100);
  }
  throw new BootProcessError(child, `not ready after ${String(timeoutMs)} ms (last: ${last})`, await child.logTail());
}

/** undefined when ready, else what went wrong. */
async function probeOnce(probe: TlsProbe, timeoutMs: number): Promise<string | undefined> {
  try {
    const { status, body } = await tlsGet(probe, timeoutMs);
    if (status !== 200) return `HTTP ${String(status)} from ${probe.url}: ${body.slice(0, 200)}`;
    if (probe.bodyIncludes !== undefined && !body.includes(probe.bodyIncludes)) {
      return `${probe.url} answered without ${probe.bodyIncludes}: another server on this address?`;
    }
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** One GET bounded as a whole, so a server that stalls mid-answer cannot hold the wait. */
export function tlsGet(probe: TlsProbe, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      probe.url,
      {
        method: "GET",
        ca: probe.caPem,
        cert: probe.clientCertPem,
        key: probe.clientKeyPem,
        rejectUnauthorized: probe.caPem !== undefined,
        // One connection per probe: nothing lingers in an agent after the wait.
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.once("end", () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") });
        });
        res.once("error", (err) => {
          clearTimeout(timer);
          reject(err);
        });
        // A connection cut mid-body ends with 'close' and no 'end' (after 'end' this is a no-op).
        res.once("close", () => {
          clearTimeout(timer);
          reject(new Error(`GET ${probe.url}: connection closed before the answer was complete`));
        });
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`GET ${probe.url}: no complete answer after ${String(timeoutMs)} ms`)), timeoutMs);
    req.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}
