// `make run`'s sandbox as a user starts it (hack/sandbox/main.ts, output not a terminal),
// with MAAS deploys shortened to 0.3 s: the example cluster clusterctl makes from
// templates/cluster-template-ephemeral.yaml (1 control-plane machine, 2 workers) must
// show every machine Deployed into memory, and Ctrl-C must leave nothing behind: exit 0,
// none of the processes it reported alive, no process naming its directory, and the
// test's own TMPDIR (where every temporary directory of the sandbox goes) empty.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { repoRoot } from "../../testenv/binaries.ts";
import { isAlive, killAll, pidsMentioning, waitUntilGone } from "../../testenv/pids.ts";

const MACHINE_LINE = /^machine \+([\d.]+)s\s+(\S+)\s+(control-plane|worker)\s+(\S+)\s+(ephemeral|disk)\s+(ready|-)$/;

interface Sandbox {
  proc: ChildProcess;
  lines: string[];
  startedAt: number;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startSandbox(tmp: string): Sandbox {
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp };
  // Not the "run only the manager" mode, whatever the caller has set.
  for (const name of ["KUBECONFIG", "MAAS_ENDPOINT", "MAAS_API_KEY", "TESTENV_KUBECONFIG"]) delete env[name];
  const startedAt = Date.now();
  const proc = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "hack", "sandbox", "main.ts"), "--deploy-seconds", "0.3"], {
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

/** The end of the manager's log, read before the sandbox removes it, for a failure message. */
async function managerLogTail(lines: readonly string[]): Promise<string> {
  const dir = lines.map((l) => /directory (\S+),/.exec(l)?.[1]).find((d) => d !== undefined);
  if (dir === undefined) return "";
  const log = await readFile(join(dir, "capmaas-manager.log"), "utf8").catch(() => "");
  return `\ncapmaas-manager.log (last 40 lines):\n${log.split("\n").slice(-40).join("\n")}`;
}

async function waitForLine<T>(sandbox: Sandbox, what: string, match: (lines: readonly string[]) => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = match(sandbox.lines);
    if (found !== undefined) return found;
    if (sandbox.proc.exitCode !== null) throw new Error(`the sandbox exited (${String(sandbox.proc.exitCode)}) before ${what}:\n${sandbox.lines.join("\n")}`);
    if (Date.now() > deadline) throw new Error(`timed out after ${String(timeoutMs)} ms waiting for ${what}:\n${sandbox.lines.join("\n")}${await managerLogTail(sandbox.lines)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The latest state of each machine the live view has printed. */
function machines(lines: readonly string[]): Map<string, { role: string; state: string; target: string; ready: boolean }> {
  const latest = new Map<string, { role: string; state: string; target: string; ready: boolean }>();
  for (const line of lines) {
    const m = MACHINE_LINE.exec(line);
    if (m === null) continue;
    latest.set(m[2] ?? "", { role: m[3] ?? "", state: m[4] ?? "", target: m[5] ?? "", ready: m[6] === "ready" });
  }
  return latest;
}

describe("make run: the local sandbox", () => {
  let tmp = "";
  let sandbox: Sandbox | undefined;
  let reportedPids: number[] = [];
  let dir = "";

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "sandbox-test-"));
  });

  after(async () => {
    // Only when a test failed half-way: stop the sandbox, then anything it left, by pid.
    if (sandbox !== undefined && sandbox.proc.exitCode === null && sandbox.proc.signalCode === null) {
      sandbox.proc.kill("SIGINT");
      const gone = await Promise.race([sandbox.exit.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 30_000))]);
      if (gone !== true) sandbox.proc.kill("SIGKILL");
    }
    killAll(reportedPids.filter(isAlive));
    if (dir !== "") killAll(pidsMentioning(dir));
    await rm(tmp, { recursive: true, force: true });
  });

  it("deploys the example cluster's machines into memory, and Ctrl-C stops everything it started", async (t) => {
    sandbox = startSandbox(tmp);
    const running = sandbox;

    const pidLine = await waitForLine(running, "the pids line", (lines) => lines.find((l) => l.startsWith("pids: ")), 180_000);
    reportedPids = [...pidLine.matchAll(/=(\d+)/g)].map((m) => Number(m[1]));
    for (const name of ["etcd", "kube-apiserver", "capmaas-manager", "cluster-api-controller", "kubeadm-bootstrap-controller", "kubeadm-control-plane-controller"]) {
      assert.match(pidLine, new RegExp(`\\b${name}=\\d+`), `${name} is among the processes reported`);
    }
    dir = await waitForLine(running, "the sandbox directory", (lines) => lines.map((l) => /directory (\S+),/.exec(l)?.[1]).find((d) => d !== undefined), 10_000);
    assert.ok(dir.startsWith(tmp), `the sandbox directory ${dir} is under TMPDIR ${tmp}`);
    assert.ok(running.lines.some((l) => /^ {2}KUBECONFIG=\S+/.test(l)), "prints KUBECONFIG=");
    assert.ok(running.lines.some((l) => /^ {2}MAAS_ENDPOINT=http:\/\/127\.0\.0\.1:\d+\/MAAS$/.test(l)), "prints MAAS_ENDPOINT=");
    assert.ok(running.lines.some((l) => /^ {2}MAAS_API_KEY=[^:\s]+:[^:\s]+:[^:\s]+$/.test(l)), "prints MAAS_API_KEY=");

    const firstInMemory = await waitForLine(running, "a machine Deployed in memory", (lines) => {
      for (const [name, m] of machines(lines)) if (m.state === "Deployed" && m.target === "ephemeral") return name;
      return undefined;
    }, 180_000);
    const firstMs = Date.now() - running.startedAt;
    const all = await waitForLine(running, "1 control-plane and 2 worker machines Deployed", (lines) => {
      const deployed = [...machines(lines).values()].filter((m) => m.state === "Deployed");
      const cp = deployed.filter((m) => m.role === "control-plane").length;
      const workers = deployed.filter((m) => m.role === "worker").length;
      return cp === 1 && workers === 2 ? deployed : undefined;
    }, 240_000);
    const allMs = Date.now() - running.startedAt;
    for (const m of all) assert.equal(m.target, "ephemeral", "every machine of the ephemeral flavor runs from memory");
    assert.equal(machines(running.lines).size, 3, "the example cluster has exactly 3 machines");
    t.diagnostic(`start → first machine Deployed in memory (${firstInMemory}): ${(firstMs / 1000).toFixed(1)} s; → all 3 Deployed: ${(allMs / 1000).toFixed(1)} s (deploy latency 0.3 s)`);
    // A live view that prints on change only: one line per state a machine goes through, not one per poll.
    assert.ok(running.lines.filter((l) => MACHINE_LINE.test(l)).length <= 3 * 6, running.lines.join("\n"));
    for (const pid of reportedPids) assert.ok(isAlive(pid), `pid ${String(pid)} runs while the sandbox does`);

    const stopAt = Date.now();
    running.proc.kill("SIGINT");
    const exit = await running.exit;
    t.diagnostic(`SIGINT → exit: ${((Date.now() - stopAt) / 1000).toFixed(1)} s`);
    assert.deepEqual(exit, { code: 0, signal: null }, running.lines.join("\n"));
    assert.deepEqual(await waitUntilGone(reportedPids, 5000), [], "no reported process outlives the sandbox");
    assert.deepEqual(pidsMentioning(dir), [], "no process names the sandbox directory");
    assert.equal(existsSync(dir), false, "the sandbox directory is removed");
    // tsx keeps its compile cache in $TMPDIR/tsx-<uid> on purpose; everything else must be gone.
    assert.deepEqual((await readdir(tmp)).filter((entry) => !/^tsx-\d+$/.test(entry)), [], "nothing of the sandbox is left in TMPDIR");
  });
});
