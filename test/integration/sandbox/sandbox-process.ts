// `make run`'s sandbox as a user starts it (hack/sandbox/main.ts, output not a terminal),
// for the sandbox tests: its output lines as they come, waits on them, and the live
// view's machine and Cluster lines parsed.
import { spawn, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { repoRoot } from "../../testenv/binaries.ts";

export const MACHINE_LINE = /^machine \+([\d.]+)s\s+(\S+)\s+(control-plane|worker)\s+(\S+)\s+(\S+)\s+(ephemeral|disk)\s+(\S+)\s+(\S+)$/;
const CLUSTER_LINE = /^cluster \+([\d.]+)s\s+(\S+)\s+Available=(\S+)/;

export interface SandboxProcess {
  proc: ChildProcess;
  lines: string[];
  startedAt: number;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startSandboxProcess(tmp: string, args: readonly string[]): SandboxProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp };
  // Not the "run only the manager" mode, whatever the caller has set.
  for (const name of ["KUBECONFIG", "MAAS_ENDPOINT", "MAAS_API_KEY", "TESTENV_KUBECONFIG"]) delete env[name];
  const startedAt = Date.now();
  const proc = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "hack", "sandbox", "main.ts"), ...args], {
    cwd: repoRoot,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  let partial = "";
  proc.stdout?.on("data", (chunk: Buffer) => {
    const text = partial + chunk.toString("utf8");
    const parts = text.split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts);
  });
  const stderr: string[] = [];
  proc.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk.toString("utf8")));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once("exit", (code, signal) => {
      if (code !== 0) lines.push(...stderr.join("").split("\n").map((l) => `stderr: ${l}`));
      resolve({ code, signal });
    });
  });
  return { proc, lines, startedAt, exit };
}

/** The sandbox directory the ready line names. */
export function sandboxDir(lines: readonly string[]): string | undefined {
  return lines.map((l) => /directory (\S+),/.exec(l)?.[1]).find((d) => d !== undefined);
}

/** The end of the manager's log, read before the sandbox removes it, for a failure message. */
async function managerLogTail(lines: readonly string[]): Promise<string> {
  const dir = sandboxDir(lines);
  if (dir === undefined) return "";
  const log = await readFile(join(dir, "capmaas-manager.log"), "utf8").catch(() => "");
  return `\ncapmaas-manager.log (last 40 lines):\n${log.split("\n").slice(-40).join("\n")}`;
}

export async function waitForLine<T>(sandbox: SandboxProcess, what: string, match: (lines: readonly string[]) => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = match(sandbox.lines);
    if (found !== undefined) return found;
    if (sandbox.proc.exitCode !== null) throw new Error(`the sandbox exited (${String(sandbox.proc.exitCode)}) before ${what}:\n${sandbox.lines.join("\n")}`);
    if (Date.now() > deadline) throw new Error(`timed out after ${String(timeoutMs)} ms waiting for ${what}:\n${sandbox.lines.join("\n")}${await managerLogTail(sandbox.lines)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface MachineLine {
  role: string;
  host: string;
  state: string;
  target: string;
  boot: string;
  node: string;
}

/** The latest state of each machine the live view has printed. */
export function machines(lines: readonly string[]): Map<string, MachineLine> {
  const latest = new Map<string, MachineLine>();
  for (const line of lines) {
    const m = MACHINE_LINE.exec(line);
    if (m === null) continue;
    latest.set(m[2] ?? "", { role: m[3] ?? "", host: m[4] ?? "", state: m[5] ?? "", target: m[6] ?? "", boot: m[7] ?? "", node: m[8] ?? "" });
  }
  return latest;
}

/** The Cluster's Available status as the live view last printed it. */
export function clusterAvailable(lines: readonly string[]): string | undefined {
  return lines.map((l) => CLUSTER_LINE.exec(l)?.[3]).filter((s) => s !== undefined).at(-1);
}

/** Each live process's command name (the basename of its executable). */
export async function processNames(pids: readonly number[]): Promise<{ pid: number; name: string }[]> {
  const found: { pid: number; name: string }[] = [];
  for (const pid of pids) {
    const cmdline = await readFile(`/proc/${String(pid)}/cmdline`, "utf8").catch(() => "");
    const name = (cmdline.split("\0")[0] ?? "").split("/").at(-1) ?? "";
    if (name !== "") found.push({ pid, name });
  }
  return found;
}
