// Child processes of the control plane, and the last-resort cleanup that keeps
// them from outliving this process. Each child gets a stdin pipe and
// TESTENV_EXIT_ON_STDIN_EOF=1, so even a SIGKILL of this process ends them (the
// kernel closes the pipe); the handlers here cover every gentler exit path.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { closeSync, fstatSync, openSync, rmSync } from "node:fs";
import { Socket } from "node:net";

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ChildOptions {
  name: string;
  command: string;
  args: string[];
  /** stdout and stderr both go here, so a failed start can be diagnosed afterwards. */
  logPath: string;
  cwd?: string;
  /** Added to this process's environment. */
  env?: Record<string, string>;
}

export class Child {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** Where this process's output starts in logPath (the log is appended to across restarts). */
  readonly logOffset: number;
  readonly exited: Promise<ChildExit>;
  private exit: ChildExit | undefined;
  private readonly proc: ChildProcess;

  constructor(options: ChildOptions) {
    this.name = options.name;
    this.logPath = options.logPath;
    const log = openSync(options.logPath, "a");
    this.logOffset = fstatSync(log).size;
    try {
      this.proc = spawn(options.command, options.args, {
        cwd: options.cwd,
        stdio: ["pipe", log, log],
        env: { ...process.env, ...options.env, TESTENV_EXIT_ON_STDIN_EOF: "1" },
      });
    } finally {
      closeSync(log);
    }
    // A failed spawn reports through 'error', and 'exit' may never come.
    this.proc.once("error", () => {
      if (this.exit === undefined) {
        this.exit = { code: -1, signal: null };
        live.delete(this);
      }
    });
    if (this.proc.pid === undefined) {
      throw new Error(`${options.name}: could not start ${options.command}`);
    }
    this.pid = this.proc.pid;
    // Neither the child nor its stdin pipe keeps this process alive: a test
    // that forgets stop() then still ends, and the exit handler cleans up.
    // stop() and kill() hold a reference while they wait.
    this.proc.stdin?.on("error", () => undefined);
    if (this.proc.stdin instanceof Socket) this.proc.stdin.unref();
    this.proc.unref();
    this.exited = new Promise((resolve) => {
      this.proc.once("exit", (code, signal) => {
        this.exit = { code, signal };
        live.delete(this);
        resolve(this.exit);
      });
    });
    live.add(this);
    installLastResortHandlers();
  }

  get hasExited(): boolean {
    return this.exit !== undefined;
  }

  get exitStatus(): ChildExit | undefined {
    return this.exit;
  }

  /** Sends SIGTERM, then SIGKILL once graceMs has passed; resolves when the process is gone. */
  async stop(graceMs: number): Promise<ChildExit> {
    if (this.exit !== undefined) return this.exit;
    this.proc.ref();
    signalPid(this.pid, "SIGTERM");
    const timer = setTimeout(() => signalPid(this.pid, "SIGKILL"), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  async kill(): Promise<ChildExit> {
    if (this.exit !== undefined) return this.exit;
    this.proc.ref();
    signalPid(this.pid, "SIGKILL");
    return this.exited;
  }
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

const live = new Set<Child>();
const ownedDirs = new Set<string>();

/** A directory removed by the last-resort cleanup if this process ends before its owner removes it. */
export function ownDir(dir: string): void {
  ownedDirs.add(dir);
  installLastResortHandlers();
}

export function disownDir(dir: string): void {
  ownedDirs.delete(dir);
}

let installed = false;

function installLastResortHandlers(): void {
  if (installed) return;
  installed = true;
  process.on("exit", killAllSync);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = (): void => {
      // An entry point that handles the signal itself (the CLI, with-testenv)
      // tears down gracefully; only when nobody else listens do we act, then
      // die of the same signal as Node would have without us.
      if (process.listenerCount(signal) > 1) return;
      killAllSync();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

function killAllSync(): void {
  for (const child of live) signalPid(child.pid, "SIGKILL");
  live.clear();
  for (const dir of ownedDirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
    } catch {
      // Best effort while exiting; nothing is left to report to.
    }
  }
  ownedDirs.clear();
}
