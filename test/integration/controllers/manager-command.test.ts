// capmaas-manager as users run it: `node bin/capmaas-manager.mjs`, a real process. How it
// refuses bad settings (exit 2, one line naming the setting), that MAAS being down at start
// is not fatal, what /metrics serves, that SIGTERM ends it with 0, and that debug logging
// never shows the MAAS API key.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { API_VERSION, MAAS_MACHINE_TEMPLATE, MaasReachableCondition, type MaasMachineTemplate } from "../../../src/api/v1beta1/index.ts";
import type { KubeClient } from "../../../src/runtime/index.ts";
import { repoRoot } from "../../testenv/binaries.ts";
import { useSharedTestEnv, type TestEnvHandle } from "../../testenv/index.ts";
import { freePorts } from "../../testenv/ports.ts";
import { NAMESPACE_KIND, adminClient, createNamespace, newWatchFilter, startProviderSimulator, waitFor, type Simulator } from "./provider-harness.ts";

const BIN = join(repoRoot, "bin", "capmaas-manager.mjs");
/** How long a refusal may take: the process starts tsx, parses, prints and exits. */
const REFUSAL_TIMEOUT_MS = 30_000;
/** How long SIGTERM may take to end an idle manager. */
const SHUTDOWN_BOUND_MS = 10_000;

interface Running {
  child: ChildProcess;
  /** stdout and stderr together, as they arrived. */
  output(): string;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const live = new Set<ChildProcess>();
// A failed assertion must never leave a manager behind.
process.on("exit", () => {
  for (const child of live) if (child.pid !== undefined) signalPid(child.pid, "SIGKILL");
});

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/** This process's environment without any setting the manager reads, plus `env`. */
function managerEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ["MAAS_ENDPOINT", "MAAS_API_KEY", "LOG_LEVEL", "POD_NAMESPACE"]) delete base[name];
  return { ...base, ...env };
}

function start(args: readonly string[], env: Record<string, string>): Running {
  const child = spawn(process.execPath, [BIN, ...args], { env: managerEnv(env), stdio: ["ignore", "pipe", "pipe"] });
  live.add(child);
  let all = "";
  let out = "";
  let err = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => ((out += chunk), (all += chunk)));
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => ((err += chunk), (all += chunk)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("close", (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });
  return { child, exited, output: () => all, stdout: () => out, stderr: () => err };
}

/** Waits for `exited` at most `ms`; kills the process by pid when it takes longer. */
async function exitWithin(running: Running, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), ms)));
  try {
    const result = await Promise.race([running.exited, late]);
    if (result === "late") assert.fail(`capmaas-manager did not exit within ${String(ms)} ms; output:\n${running.output()}`);
    return result;
  } finally {
    clearTimeout(timer);
    if (running.child.pid !== undefined && running.child.exitCode === null && running.child.signalCode === null) signalPid(running.child.pid, "SIGKILL");
  }
}

/** Runs the command to its end (killed after REFUSAL_TIMEOUT_MS). */
async function run(args: readonly string[], env: Record<string, string>) {
  const running = start(args, env);
  const { code } = await exitWithin(running, REFUSAL_TIMEOUT_MS);
  return { code, stdout: running.stdout(), stderr: running.stderr() };
}

function assertOneLine(stderr: string, names: string): void {
  const lines = stderr.split("\n");
  assert.equal(lines.length, 2, `expected exactly one line on stderr, got:\n${stderr}`);
  assert.equal(lines[1], "");
  assert.ok(lines[0]?.includes(names), `"${lines[0] ?? ""}" does not name ${names}`);
}

/** GET on 127.0.0.1:`port`; undefined while nothing answers. */
async function get(port: number, path: string): Promise<{ status: number; body: string } | undefined> {
  const answer = await fetch(`http://127.0.0.1:${String(port)}${path}`).catch(() => undefined);
  return answer === undefined ? undefined : { status: answer.status, body: await answer.text() };
}

async function waitReady(running: Running, probePort: number): Promise<void> {
  await waitFor(`capmaas-manager /readyz on ${String(probePort)}`, async () => {
    if (running.child.exitCode !== null) throw new Error(`capmaas-manager exited ${String(running.child.exitCode)}: ${running.output()}`);
    return (await get(probePort, "/readyz"))?.status === 200;
  }, 60_000);
}

/** A MaasMachineTemplate only the manager with `filter` reconciles; reconciling it asks MAAS for a dry-run allocation. */
async function createTemplate(kube: KubeClient, namespace: string, filter: string): Promise<MaasMachineTemplate> {
  return kube.create<MaasMachineTemplate>(MAAS_MACHINE_TEMPLATE, {
    apiVersion: API_VERSION,
    kind: "MaasMachineTemplate",
    metadata: { name: "probe", namespace, labels: { "cluster.x-k8s.io/watch-filter": filter } },
    spec: { template: { spec: { minCPU: 2, minMemory: 4096, image: "ubuntu/jammy" } } },
  });
}

function kubeClient(env: TestEnvHandle): KubeClient {
  const kube = adminClient(env.kubeConfig());
  kube.registerKind(MAAS_MACHINE_TEMPLATE);
  return kube;
}

describe("capmaas-manager command", () => {
  let dir: string;
  /** A kubeconfig naming a cluster nobody serves: loading it succeeds, using it never does. */
  let nowhereKubeconfig: string;
  const MAAS = { MAAS_ENDPOINT: "http://127.0.0.1:1/MAAS", MAAS_API_KEY: "ck:tk:ts" };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "manager-command-"));
    nowhereKubeconfig = join(dir, "nowhere.kubeconfig");
    await writeFile(
      nowhereKubeconfig,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters: [{name: nowhere, cluster: {server: 'https://127.0.0.1:1'}}]",
        "users: [{name: nobody, user: {token: nothing}}]",
        "contexts: [{name: nowhere, context: {cluster: nowhere, user: nobody}}]",
        "current-context: nowhere",
        "",
      ].join("\n"),
    );
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe("when a setting is missing or malformed", () => {
    it("exits 2 with one line on stderr naming MAAS_ENDPOINT when it is not set", async () => {
      const result = await run([`--kubeconfig=${nowhereKubeconfig}`], { MAAS_API_KEY: "ck:tk:ts" });
      assert.equal(result.code, 2);
      assertOneLine(result.stderr, "MAAS_ENDPOINT");
      assert.equal(result.stdout, "");
    });

    it("exits 2 with one line on stderr naming MAAS_API_KEY when it is not set", async () => {
      const result = await run([`--kubeconfig=${nowhereKubeconfig}`], { MAAS_ENDPOINT: MAAS.MAAS_ENDPOINT });
      assert.equal(result.code, 2);
      assertOneLine(result.stderr, "MAAS_API_KEY");
    });

    for (const [args, names] of [
      [["--sync-period=10"], "--sync-period"],
      [["--sync-period", "-1s"], "--sync-period"],
      [["--machine-concurrency=0"], "--machine-concurrency"],
      [["--no-such-flag"], "--no-such-flag"],
    ] as const) {
      it(`exits 2 with one line on stderr naming the flag for ${args.join(" ")}`, async () => {
        const result = await run([`--kubeconfig=${nowhereKubeconfig}`, ...args], MAAS);
        assert.equal(result.code, 2);
        assertOneLine(result.stderr, names);
        assert.equal(result.stdout, "");
      });
    }

    for (const endpoint of ["ftp://x", "not a url"]) {
      it(`exits 2 with one line on stderr naming MAAS_ENDPOINT when it is ${JSON.stringify(endpoint)}`, async () => {
        const result = await run([`--kubeconfig=${nowhereKubeconfig}`], { ...MAAS, MAAS_ENDPOINT: endpoint });
        assert.equal(result.code, 2);
        assertOneLine(result.stderr, "MAAS_ENDPOINT");
      });
    }
  });

  describe("with --help", () => {
    it("exits 0 and prints the usage on stdout, without needing any setting", async () => {
      const result = await run(["--help"], {});
      assert.equal(result.code, 0);
      assert.match(result.stdout, /^Usage: capmaas-manager/);
      for (const flag of ["--kubeconfig", "--watch-filter", "--sync-period", "--metrics-bind-address", "--maas-credentials-secret", "MAAS_ENDPOINT"]) {
        assert.ok(result.stdout.includes(flag), `the usage mentions ${flag}`);
      }
      assert.equal(result.stderr, "");
    });
  });

  describe("against a control plane", () => {
    let env: TestEnvHandle;

    before(async () => {
      env = await useSharedTestEnv();
    });
    after(async () => {
      await env?.stop();
    });

    describe("when MAAS is unreachable at start", () => {
      const filter = newWatchFilter("manager-command-down");
      let running: Running | undefined;
      let probePort: number;

      before(async () => {
        const [closedPort, port] = await freePorts(2);
        probePort = port ?? 0;
        running = start(
          [
            `--kubeconfig=${env.managerKubeconfigPath}`,
            `--health-probe-bind-address=127.0.0.1:${String(probePort)}`,
            "--metrics-bind-address=0",
            `--watch-filter=${filter}`,
          ],
          { MAAS_ENDPOINT: `http://127.0.0.1:${String(closedPort)}/MAAS`, MAAS_API_KEY: "ck:tk:ts" },
        );
      });
      after(() => {
        if (running?.child.pid !== undefined) signalPid(running.child.pid, "SIGKILL");
      });

      it("stays up and answers /readyz with 200, also once a reconcile has found MAAS unreachable", async () => {
        assert.ok(running !== undefined);
        await waitReady(running, probePort);

        const kube = kubeClient(env);
        const namespace = await createNamespace(kube, "manager-command-down");
        try {
          await createTemplate(kube, namespace, filter);
          await waitFor("the template's MaasReachable=False", async () => {
            const template = await kube.get<MaasMachineTemplate>(MAAS_MACHINE_TEMPLATE, { namespace, name: "probe" });
            return template.status?.conditions?.find((c) => c.type === MaasReachableCondition)?.status === "False";
          });
        } finally {
          await kube.delete(NAMESPACE_KIND, { name: namespace });
          await kube.transport.close();
        }
        assert.equal((await get(probePort, "/readyz"))?.status, 200);
        assert.equal((await get(probePort, "/healthz"))?.status, 200);
        assert.equal(running.child.exitCode, null, "still running");
      });

      it(`exits 0 within ${String(SHUTDOWN_BOUND_MS)} ms of SIGTERM`, async () => {
        assert.ok(running?.child.pid !== undefined);
        signalPid(running.child.pid, "SIGTERM");
        const { code, signal } = await exitWithin(running, SHUTDOWN_BOUND_MS);
        assert.deepEqual({ code, signal }, { code: 0, signal: null }, running.output());
      });
    });

    describe("with a MAAS, an object to reconcile, LOG_LEVEL=debug and --metrics-bind-address", () => {
      const apiKey = "leakCONSUMERkey01:leakTOKENkey00002:leakSECRETpart000000003";
      const filter = newWatchFilter("manager-command");
      let sim: Simulator;
      let running: Running | undefined;
      let probePort: number;
      let metricsPort: number;

      before(async () => {
        sim = await startProviderSimulator({ apiKey });
        const [port1, port2] = await freePorts(2);
        probePort = port1 ?? 0;
        metricsPort = port2 ?? 0;
        running = start(
          [
            `--kubeconfig=${env.managerKubeconfigPath}`,
            `--health-probe-bind-address=127.0.0.1:${String(probePort)}`,
            `--metrics-bind-address=127.0.0.1:${String(metricsPort)}`,
            `--watch-filter=${filter}`,
          ],
          { MAAS_ENDPOINT: sim.endpoint, MAAS_API_KEY: apiKey, LOG_LEVEL: "debug" },
        );
        await waitReady(running, probePort);
      });
      after(async () => {
        if (running?.child.pid !== undefined) signalPid(running.child.pid, "SIGKILL");
        await sim?.close();
      });

      it("serves the provider's and the runtime's metrics on /metrics", async () => {
        const answer = await waitFor("/metrics", () => get(metricsPort, "/metrics"));
        assert.equal(answer.status, 200);
        for (const name of [
          "capmaas_machines",
          "capmaas_maas_requests_total",
          "capmaas_allocation_conflicts_total",
          "capmaas_ephemeral_refusals_total",
          "capmaas_machine_time_to_ready_seconds",
          "capmaas_ephemeral_memory_headroom_mib",
          "controller_runtime_reconcile_total",
        ]) {
          assert.match(answer.body, new RegExp(`^# TYPE ${name} `, "m"), `/metrics has ${name}`);
        }
      });

      it("never writes the MAAS API key, any part of it, or an OAuth header to its output", async () => {
        assert.ok(running?.child.pid !== undefined);
        const kube = kubeClient(env);
        const namespace = await createNamespace(kube, "manager-command");
        try {
          await createTemplate(kube, namespace, filter);
          await waitFor("the manager's first signed MAAS call", () => sim.requestLog().some((entry) => entry.user !== null));
        } finally {
          await kube.delete(NAMESPACE_KIND, { name: namespace });
          await kube.transport.close();
        }

        signalPid(running.child.pid, "SIGTERM");
        const { code } = await exitWithin(running, SHUTDOWN_BOUND_MS);
        assert.equal(code, 0);
        const output = running.output();
        assert.ok(output.length > 0, "debug logging wrote something");
        assert.ok(!output.includes(apiKey), "the whole key is never written");
        for (const [index, part] of apiKey.split(":").entries()) {
          assert.ok(!output.includes(part), `part ${String(index + 1)} of the key is never written`);
        }
        assert.ok(!output.includes("OAuth "), "no OAuth Authorization header is written");
      });
    });
  });
});
