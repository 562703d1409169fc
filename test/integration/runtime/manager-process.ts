// Runs test/fixtures/runtime/sample-manager.ts as a child process and follows the
// JSON lines it prints. Tests stop every one of these by pid in after()/finally.
import { spawn, type ChildProcess } from "node:child_process";
import { openSync, closeSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const script = fileURLToPath(new URL("../../fixtures/runtime/sample-manager.ts", import.meta.url));

export interface ManagerProcessOptions {
  identity: string;
  kubeconfigPath: string;
  namespace: string;
  leaseName: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  /** stderr (the process's logs) goes here. */
  logPath: string;
}

export class ManagerProcess {
  readonly identity: string;
  readonly pid: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Milestones seen on stdout, with the time each arrived. */
  readonly milestones = new Map<string, { at: number; line: Record<string, unknown> }>();
  private readonly child: ChildProcess;
  private exitedFlag = false;
  private readonly waiters: Array<() => void> = [];

  constructor(options: ManagerProcessOptions) {
    this.identity = options.identity;
    const log = openSync(options.logPath, "a");
    try {
      this.child = spawn(process.execPath, ["--import", "tsx", script], {
        cwd: repoRoot,
        stdio: ["ignore", "pipe", log],
        env: {
          ...process.env,
          KUBECONFIG: options.kubeconfigPath,
          IDENTITY: options.identity,
          WATCH_NAMESPACE: options.namespace,
          LEASE_NAMESPACE: options.namespace,
          LEASE_NAME: options.leaseName,
          LEASE_DURATION_MS: String(options.leaseDurationMs),
          RENEW_DEADLINE_MS: String(options.renewDeadlineMs),
          RETRY_PERIOD_MS: String(options.retryPeriodMs),
          LOG_LEVEL: "info",
        },
      });
    } finally {
      closeSync(log);
    }
    if (this.child.pid === undefined) throw new Error("could not start the sample manager");
    this.pid = this.child.pid;
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => {
        this.exitedFlag = true;
        resolve({ code, signal });
        this.wake();
      });
    });
    createInterface({ input: this.child.stdout! }).on("line", (text) => {
      try {
        const line = JSON.parse(text) as Record<string, unknown>;
        if (typeof line.event === "string") this.milestones.set(line.event, { at: Date.now(), line });
      } catch {
        // Not one of our JSON lines.
      }
      this.wake();
    });
  }

  get running(): boolean {
    return !this.exitedFlag;
  }

  /** Resolves when the process has printed `event`; rejects on exit or timeout. */
  async waitFor(event: string, timeoutMs: number): Promise<{ at: number; line: Record<string, unknown> }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const seen = this.milestones.get(event);
      if (seen !== undefined) return seen;
      if (this.exitedFlag) throw new Error(`${this.identity} exited before "${event}"`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`${this.identity}: no "${event}" within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) process.kill(this.pid, signal);
  }

  /** SIGKILL if still running, and wait for the exit. */
  async kill(): Promise<void> {
    if (!this.running) return;
    process.kill(this.pid, "SIGKILL");
    await this.exited;
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}
