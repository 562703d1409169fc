// The webhooks as the release runs them: served by `node bin/capmaas-manager.mjs` started
// with --webhook-port and --webhook-cert-dir, called by the real kube-apiserver; the
// manager's --ephemeral-min-memory reaches the webhooks' warning; SIGTERM stops the
// server with the manager. A --webhook-cert-dir without the files stops the start (exit 2,
// one line); the default directory missing is a warning and the manager runs on.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { API_VERSION, type MaasMachineSpec } from "../../../src/api/v1beta1/index.ts";
import { repoRoot } from "../../testenv/binaries.ts";
import { useSharedTestEnv, type TestEnvHandle } from "../../testenv/index.ts";
import { freePorts } from "../../testenv/ports.ts";
import { MaasApi, assertRejected, type Stored } from "../api/api-client.ts";
import { newWatchFilter, waitFor } from "../controllers/provider-harness.ts";
import { createWebhookNamespace, deleteNamespace, installWebhooks, issueServingCertificate, kubectl, waitUntilServed, warningsOf, type InstalledWebhooks } from "./support.ts";

const BIN = join(repoRoot, "bin", "capmaas-manager.mjs");
const SHUTDOWN_BOUND_MS = 10_000;

interface Running {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
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

function startManager(args: readonly string[]): Running {
  const env: NodeJS.ProcessEnv = { ...process.env, MAAS_ENDPOINT: "http://127.0.0.1:9/MAAS", MAAS_API_KEY: "ck:tk:ts", LOG_LEVEL: "info" };
  delete env.POD_NAMESPACE;
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  live.add(child);
  let all = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (all += chunk));
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (all += chunk));
  const exited = new Promise<number | null>((resolve) => {
    child.once("close", (code) => {
      live.delete(child);
      resolve(code);
    });
  });
  return { child, exited, output: () => all };
}

async function stopManager(running: Running): Promise<number | null> {
  if (running.child.pid === undefined || running.child.exitCode !== null) return running.exited;
  signalPid(running.child.pid, "SIGTERM");
  const late = setTimeout(() => running.child.pid !== undefined && signalPid(running.child.pid, "SIGKILL"), SHUTDOWN_BOUND_MS);
  try {
    return await running.exited;
  } finally {
    clearTimeout(late);
  }
}

/** The exit code, killing the process by pid if it has not exited within `ms`. */
async function exitWithin(running: Running, ms: number): Promise<number | null> {
  const late = setTimeout(() => running.child.pid !== undefined && signalPid(running.child.pid, "SIGKILL"), ms);
  try {
    return await running.exited;
  } finally {
    clearTimeout(late);
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

describe("capmaas-manager serving the webhooks", () => {
  let env: TestEnvHandle;
  let certDir: string;
  let namespace: string;
  let webhooks: InstalledWebhooks | undefined;
  let manager: Running | undefined;
  let webhookPort: number;
  const common = (): string[] => ["--kubeconfig", env.managerKubeconfigPath, "--watch-filter", newWatchFilter("webhooks"), "--metrics-bind-address", "0", "--health-probe-bind-address", "0"];

  before(async () => {
    env = await useSharedTestEnv();
    certDir = await mkdtemp(join(tmpdir(), "manager-webhook-certs-"));
  });

  after(async () => {
    if (manager !== undefined) await stopManager(manager);
    await webhooks?.remove();
    if (namespace !== undefined) await deleteNamespace(env.kubeConfig(), namespace);
    await rm(certDir, { recursive: true, force: true });
    await env?.stop();
  });

  it("defaults, warns with the manager's --ephemeral-min-memory and refuses, through the API server, then stops on SIGTERM", async () => {
    const caPem = await issueServingCertificate(certDir);
    const [port, probePort] = (await freePorts(2)) as [number, number];
    webhookPort = port;
    const args = [...common(), "--health-probe-bind-address", `127.0.0.1:${String(probePort)}`];
    manager = startManager([...args, "--webhook-port", String(webhookPort), "--webhook-cert-dir", certDir, "--ephemeral-min-memory", "8Gi"]);
    const running = manager;
    await waitFor("the manager's webhook port", async () => {
      if (running.child.exitCode !== null) throw new Error(`capmaas-manager exited early: ${running.output()}`);
      return portOpen(webhookPort);
    }, 30_000);

    const scope = await createWebhookNamespace(env.kubeConfig(), "webhook-manager");
    namespace = scope.name;
    webhooks = await installWebhooks(env.kubeConfig(), { name: scope.name, port: webhookPort, caPem, namespaceSelector: scope.selector });
    await waitUntilServed(env.kubeConfig(), namespace);
    // The manager's own readiness counts the webhook server.
    const readyz = await waitFor("the manager ready", async () => {
      const res = await fetch(`http://127.0.0.1:${String(probePort)}/readyz?verbose`).catch(() => undefined);
      return res?.status === 200 ? res.text() : undefined;
    }, 30_000);
    assert.match(readyz, /\[\+\]webhooks ok/);

    const template = { apiVersion: API_VERSION, kind: "MaasMachineTemplate", metadata: { name: "workers" }, spec: { template: { spec: { minCPU: 2, minMemory: 4096, image: "ubuntu/jammy", deployInMemory: true } } } };
    const created = await kubectl(env, ["create", "-n", namespace, "-f", "-"], template);
    assert.equal(created.code, 0, created.stderr);
    const warnings = warningsOf(created.stderr);
    assert.ok(warnings.some((w) => /minMemory is 4096 MiB, below the 8192 MiB/.test(w)), created.stderr);
    const api = new MaasApi(env.kubeConfig(), namespace);
    const stored = await api.get<Stored<{ template: { spec: MaasMachineSpec } }>>("maasmachinetemplates", "workers");
    assert.deepEqual([stored.spec.template.spec.ephemeral, stored.spec.template.spec.deployInMemory], [true, undefined]);
    await assertRejected(api.patch("maasmachinetemplates", "workers", { spec: { template: { spec: { minMemory: 16_384 } } } }), ["MaasMachineTemplate spec is immutable (changed: minMemory)"]);

    assert.equal(await stopManager(running), 0, running.output());
    assert.equal(await portOpen(webhookPort), false, "the webhook port is closed with the manager");
  });

  it("refuses to start when --webhook-cert-dir lacks tls.key: exit 2 and one line naming the flag and the fix", async () => {
    const empty = await mkdtemp(join(tmpdir(), "manager-webhook-empty-"));
    try {
      const running = startManager([...common(), "--webhook-cert-dir", empty]);
      const code = await exitWithin(running, 30_000);
      assert.equal(code, 2, running.output());
      const lines = running.output().trim().split("\n");
      assert.equal(lines.length, 1, running.output());
      assert.match(lines[0] ?? "", new RegExp(`^capmaas-manager: --webhook-cert-dir ${empty}: tls\\.crt and tls\\.key missing; .*--webhook-port 0`));
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it("runs on, with one 'webhooks not served' warning, when the default certificate directory is absent", async (t) => {
    if (await import("node:fs").then((fs) => fs.existsSync("/tmp/k8s-webhook-server/serving-certs/tls.crt"))) {
      t.skip("this machine has a certificate in the default directory");
      return;
    }
    const running = startManager(common());
    try {
      await waitFor("the manager to start", () => {
        if (running.child.exitCode !== null) throw new Error(`capmaas-manager exited early: ${running.output()}`);
        return running.output().includes("capmaas-manager started");
      }, 30_000);
      const warnings = running.output().split("\n").filter((line) => line.includes("webhooks not served: /tmp/k8s-webhook-server/serving-certs has no tls.crt or tls.key"));
      assert.equal(warnings.length, 1, running.output());
    } finally {
      assert.equal(await stopManager(running), 0, running.output());
    }
  });
});
