// A process of an emulated machine (etcd, kube-apiserver, kubelet-stub): a
// child of the simulator whose output goes to a log file and whose life is tied
// to the simulator's. Each gets a stdin pipe and TESTENV_EXIT_ON_STDIN_EOF=1, so
// even a SIGKILL of the simulator ends it (the kernel closes the pipe and the
// binary exits on EOF); an 'exit' handler covers a normal exit that skipped stop().
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, fstatSync, openSync } from "node:fs";
import { open } from "node:fs/promises";
import { Socket } from "node:net";

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface BootChildOptions {
  /** Names the process in every error: "etcd of machine node-1". */
  label: string;
  command: string;
  args: readonly string[];
  /** stdout and stderr, appended, so a failed start can be read afterwards. */
  logPath: string;
  cwd?: string;
}

// Only what the binaries need: an inherited ETCD_* or KUBE* variable would
// change a member's configuration behind the flags, and the simulator's own
// environment may hold credentials.
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { TESTENV_EXIT_ON_STDIN_EOF: "1" };
  for (const name of ["PATH", "HOME", "TMPDIR", "LANG", "TZ"]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

export class BootChild {
  readonly label: string;
  readonly pid: number;
  readonly logPath: string;
  /** Where this process's output starts in logPath (a restart appends to the same file). */
  readonly logOffset: number;
  readonly exited: Promise<ProcessExit>;
  private exit: ProcessExit | undefined;
  private readonly proc: ChildProcess;

  constructor(options: BootChildOptions) {
    this.label = options.label;
    this.logPath = options.logPath;
    const log = openSync(options.logPath, "a");
    this.logOffset = fstatSync(log).size;
    try {
      this.proc = spawn(options.command, options.args, { cwd: options.cwd, stdio: ["pipe", log, log], env: childEnv() });
    } finally {
      closeSync(log);
    }
    this.exited = new Promise((resolve) => {
      const ended = (exit: ProcessExit): void => {
        if (this.exit !== undefined) return;
        this.exit = exit;
        live.delete(this);
        resolve(exit);
      };
      this.proc.once("exit", (code, signal) => ended({ code, signal }));
      // A failed spawn (ENOENT, EACCES) reports through 'error', and 'exit' may never come.
      this.proc.on("error", () => ended({ code: -1, signal: null }));
    });
    if (this.proc.pid === undefined) throw new Error(`${options.label}: could not start ${options.command}`);
    this.pid = this.proc.pid;
    // Neither the child nor its pipe keeps the simulator alive; stop() holds a
    // reference while it waits.
    this.proc.stdin?.on("error", () => undefined);
    if (this.proc.stdin instanceof Socket) this.proc.stdin.unref();
    this.proc.unref();
    live.add(this);
    installExitHandler();
  }

  get exitStatus(): ProcessExit | undefined {
    return this.exit;
  }

  /** SIGTERM by pid, SIGKILL once graceMs has passed; resolves when the process is gone. */
  async stop(graceMs: number): Promise<ProcessExit> {
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

  /** The last lines this process wrote (not an earlier run's), for error messages. */
  async logTail(maxLines = 20, maxBytes = 8192): Promise<string> {
    let file;
    try {
      file = await open(this.logPath, "r");
    } catch {
      return "";
    }
    try {
      const size = (await file.stat()).size;
      const start = Math.max(this.logOffset, size - maxBytes);
      const buffer = Buffer.alloc(size - start);
      await file.read(buffer, 0, buffer.length, start);
      return buffer.toString("utf8").trimEnd().split("\n").slice(-maxLines).join("\n");
    } finally {
      await file.close();
    }
  }
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

const live = new Set<BootChild>();
let installed = false;

function installExitHandler(): void {
  if (installed) return;
  installed = true;
  process.on("exit", () => {
    for (const child of live) signalPid(child.pid, "SIGKILL");
    live.clear();
  });
}
