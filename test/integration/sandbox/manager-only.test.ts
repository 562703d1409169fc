// `make run` with KUBECONFIG, MAAS_ENDPOINT and MAAS_API_KEY set runs only the provider's
// manager against them: its flags reach the manager, it serves /readyz against that
// control plane, and a SIGTERM to `make run`'s process stops the manager and exits 0.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { repoRoot } from "../../testenv/binaries.ts";
import { useSharedTestEnv, type TestEnvHandle } from "../../testenv/index.ts";
import { isAlive, killAll, waitUntilGone } from "../../testenv/pids.ts";
import { freePorts } from "../../testenv/ports.ts";
import { startProviderSimulator, waitFor, type Simulator } from "../controllers/provider-harness.ts";

/** Children of pid, from /proc (the manager make run started). */
function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Fields after the command name, which is in parentheses and may hold spaces: state, ppid, …
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) found.push(Number(entry));
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}

describe("make run with a cluster and a MAAS configured", () => {
  let env: TestEnvHandle;
  let sim: Simulator;
  const started: number[] = [];

  before(async () => {
    env = await useSharedTestEnv();
    sim = await startProviderSimulator();
  });

  after(async () => {
    killAll(started.filter(isAlive));
    await sim.close();
    await env.stop();
  });

  it("runs only the manager, with the flags given, and stops it on SIGTERM", async () => {
    const [probePort] = await freePorts(1);
    const proc = spawn(process.execPath, [
      "--import", "tsx", join(repoRoot, "hack", "sandbox", "main.ts"),
      `--health-probe-bind-address=127.0.0.1:${String(probePort)}`, "--metrics-bind-address=0", "--webhook-port=0", "--watch-filter=sandbox-manager-only",
    ], {
      cwd: repoRoot,
      env: { ...process.env, KUBECONFIG: env.managerKubeconfigPath, MAAS_ENDPOINT: sim.endpoint, MAAS_API_KEY: sim.apiKey },
      stdio: ["ignore", "pipe", "pipe"],
    });
    started.push(proc.pid ?? 0);
    let output = "";
    proc.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    proc.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));

    await waitFor("the manager's /readyz", async () => {
      if (proc.exitCode !== null) throw new Error(`capmaas-manager exited: ${output}`);
      return (await fetch(`http://127.0.0.1:${String(probePort)}/readyz`).catch(() => undefined))?.status === 200;
    });
    const managers = childrenOf(proc.pid ?? 0).filter((pid) => readFileSync(`/proc/${String(pid)}/cmdline`, "utf8").includes("capmaas-manager.mjs"));
    assert.equal(managers.length, 1, "one manager process, started by make run");
    started.push(...managers);
    assert.doesNotMatch(output, /starting a local control plane/, "no sandbox is started");
    assert.doesNotMatch(output, /MAAS_API_KEY=/, "the API key is not printed");

    proc.kill("SIGTERM");
    assert.equal(await exited, 0, output);
    assert.deepEqual(await waitUntilGone(managers, 5000), [], "the manager is stopped with it");
  });
});
