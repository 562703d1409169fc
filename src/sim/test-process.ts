// Test and bench helpers: the simulator as its own process (bin/maas-sim.mjs), so
// its descriptors and memory can be read from /proc (Linux) without the caller's
// own sockets mixed in, and raw connections that behave as badly as a test needs.
// Not exported from index.ts.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { API_KEY, TestClient } from "./test-support.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

export interface SimProcess {
  pid: number;
  port: number;
  client: TestClient;
  /** Open file descriptors of the simulator process. */
  fds(): number;
  /** Resident set size of the simulator process, in bytes. */
  rssBytes(): number;
  /** Whether it still runs (it never exits by itself). */
  running(): boolean;
  /** SIGTERM by pid, SIGKILL if it has not exited after 10 s; resolves once it has. */
  stop(): Promise<void>;
}

/** Starts `maas-sim --port 0 --api-key CK:TK:TS ARGS…` and waits for its endpoint line. */
export async function startSimProcess(args: string[], env: Record<string, string> = {}): Promise<SimProcess> {
  const child = spawn(process.execPath, [join(root, "bin", "maas-sim.mjs"), "--port", "0", "--api-key", API_KEY, ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, LOG_LEVEL: "warn", ...env },
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4096)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const pid = child.pid;
  const stop = async (): Promise<void> => {
    if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    process.kill(pid, "SIGTERM");
    const timer = setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) process.kill(pid, "SIGKILL");
    }, 10_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once("line", resolve);
      void exited.then(() => reject(new Error(`maas-sim exited before it printed its endpoint: ${stderr}`)));
    });
    const endpoint = /MAAS_ENDPOINT=(\S+)/.exec(line)?.[1];
    assert.ok(endpoint !== undefined && pid !== undefined, line);
    return {
      pid,
      port: Number(new URL(endpoint).port),
      client: new TestClient(endpoint, API_KEY),
      fds: () => readdirSync(`/proc/${pid}/fd`).length,
      rssBytes: () => Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? Number.NaN) * 1024,
      running: () => child.exitCode === null && child.signalCode === null,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A raw connection: what the server sent, and whether it closed the connection. */
export interface RawConnection {
  socket: Socket;
  received(): string;
  /** True once the connection is closed (by either side, or broken). */
  isClosed(): boolean;
  closed: Promise<void>;
}

/** Connects to 127.0.0.1:port and writes `head` (nothing when empty). */
export function rawConnection(port: number, head = ""): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    let data = "";
    let isClosed = false;
    const socket = connect(port, "127.0.0.1", () => {
      if (head !== "") socket.write(head);
      resolve({ socket, received: () => data, isClosed: () => isClosed, closed });
    });
    socket.on("data", (chunk: Buffer) => (data += chunk.toString("latin1")));
    // Writes after the server closed fail with EPIPE/ECONNRESET: expected with hostile clients.
    socket.on("error", () => undefined);
    const closed = new Promise<void>((done) =>
      socket.once("close", () => {
        isClosed = true;
        done();
      }),
    );
    socket.once("error", reject);
  });
}

/** Polls `check` every 20 ms until it holds; fails naming `what` after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // Waiting on real sockets and a real process: no simulated time is involved.
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
