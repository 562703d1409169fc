// The manager's MAAS TLS settings as users run them: MAAS_ENDPOINT=https://…, with
// --maas-ca-file, without it, with --maas-insecure-skip-tls-verify, and a certificate
// for another host. The simulator speaks plain http, so a TLS-terminating proxy in this
// file stands in front of it and counts every connection, each one a TLS handshake
// attempt, and every request that got through one.
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { MAAS_CLUSTER, MaasReachableCondition, MaasUnavailableReason, MachineDeployedCondition } from "../../../src/api/v1beta1/index.ts";
import { CAPI_MACHINE } from "../../../src/capi/index.ts";
import { makeTestCertificates, type TestCertificates } from "../../../src/maas/test-support.ts";
import { repoRoot } from "../../testenv/binaries.ts";
import { Child } from "../../testenv/children.ts";
import { Testbed, createNamespace, waitFor } from "./provider-harness.ts";

/** How long the manager without the CA is watched for retries. */
const HAMMER_WINDOW_MS = 10_000;
/**
 * Handshakes allowed in that window. Two objects fail (the MaasCluster and the
 * MaasMachine), each backing off from 5 ms and doubling: about six attempts each in
 * the window. A manager retrying without backoff makes hundreds.
 */
const MAX_HANDSHAKES_IN_WINDOW = 20;

interface TlsProxy {
  /** `https://127.0.0.1:<port>` followed by `path`. */
  url(path: string): string;
  /** When each connection (a handshake attempt) arrived, ms since the epoch. */
  readonly connections: number[];
  /** Requests that got through a handshake, in arrival order; `path` has the query. */
  readonly requests: Array<{ method: string; path: string }>;
  close(): Promise<void>;
}

/** Terminates TLS with `key`/`cert` on 127.0.0.1 and forwards everything to `target()` (the simulator's URL). */
async function startTlsProxy(options: { key: string; cert: string; target: () => string }): Promise<TlsProxy> {
  const connections: number[] = [];
  const requests: Array<{ method: string; path: string }> = [];
  const sockets = new Set<Socket>();
  const server = https.createServer({ key: options.key, cert: options.cert }, (req, res) => {
    const path = req.url ?? "/";
    requests.push({ method: req.method ?? "GET", path });
    const target = new URL(options.target());
    const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", (err) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(`proxy: ${err.message}`);
    });
    req.pipe(upstream);
  });
  server.on("connection", (socket: Socket) => {
    connections.push(Date.now());
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  // Refused handshakes are what some cases expect; they are counted above, not errors here.
  server.on("tlsClientError", () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path) => `https://127.0.0.1:${String(port)}${path}`,
    connections,
    requests,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

function calls(proxy: TlsProxy, op: string): number {
  return proxy.requests.filter((r) => r.method === "POST" && new URL(r.path, "https://x").searchParams.get("op") === op).length;
}

describe("capmaas-manager against an https MAAS", () => {
  let certs: TestCertificates;
  let caFile: string;
  /** Serves a certificate for 127.0.0.1 signed by the test CA. */
  let proxy: TlsProxy;
  /** Serves a certificate, signed by the same CA, that names only other.example. */
  let wrongHostProxy: TlsProxy;
  let bed: Testbed;
  /** The manager most cases need: the proxy's endpoint and the CA. */
  let withCaArgs: string[];

  before(async () => {
    certs = makeTestCertificates();
    caFile = join(certs.dir, "ca.pem");
    const target = (): string => bed.sim.endpoint;
    proxy = await startTlsProxy({ ...certs.server, target });
    wrongHostProxy = await startTlsProxy({ ...certs.wrongHost, target });
    withCaArgs = [`--maas-ca-file=${caFile}`];
    bed = new Testbed({ prefix: "mm-tls", managerEnv: { MAAS_ENDPOINT: proxy.url("/MAAS/") }, managerArgs: withCaArgs });
    await bed.start();
  });
  after(async () => {
    // Each step runs even when one before it failed: nothing started here may outlive the file.
    await bed?.stop().catch(() => undefined);
    await proxy?.close();
    await wrongHostProxy?.close();
    certs?.remove();
  });

  /** Stops the running manager and starts one with these flags (and environment on top of the proxy's endpoint). */
  async function restartManager(args: readonly string[], env: Record<string, string> = {}): Promise<void> {
    await bed.provider?.stop();
    await bed.startManager({ args, env });
  }

  /** A namespace with a Cluster provisioned by the manager that has the CA (the failing managers could not). */
  async function namespaceWithReadyCluster(prefix: string): Promise<string> {
    const ns = await createNamespace(bed.client, prefix);
    // Named failure domains make the MaasCluster ask MAAS (for its zones) on every pass.
    await bed.readyCluster(ns, "c1", { failureDomains: ["zone-a"] });
    return ns;
  }

  /** The MachineDeployed condition once it reports MAAS unavailable. */
  async function unavailableCondition(ns: string, name: string) {
    const machine = await bed.waitForCondition(ns, name, MachineDeployedCondition, MaasUnavailableReason, 30_000);
    return machine.status?.conditions?.find((c) => c.type === MachineDeployedCondition);
  }

  describe("with --maas-ca-file holding the CA that signed MAAS's certificate", () => {
    it("allocates and deploys through the https endpoint, and the MaasMachine becomes Ready", async () => {
      const ns = await namespaceWithReadyCluster("mm-tls-ca");
      await bed.machineWithData(ns, "c1", "m1", {});
      const ready = await bed.readyMaasMachine(ns, "m1", 30_000);
      assert.notEqual(ready.spec.systemID, undefined);
      assert.equal(bed.allocationsFor(ns, "m1").length, 1, "one allocation reached MAAS");
      const simDeploys = bed.sim.requestLog().filter((e) => e.op === "deploy" && e.path.endsWith(`/machines/${ready.spec.systemID ?? ""}/`));
      assert.equal(simDeploys.length, 1, "one deploy reached MAAS");
      // Nothing else talks to the simulator: every allocate and deploy it logged came through the proxy.
      const simLog = bed.sim.requestLog();
      assert.equal(calls(proxy, "allocate"), simLog.filter((e) => e.op === "allocate").length);
      assert.equal(calls(proxy, "deploy"), simLog.filter((e) => e.op === "deploy").length);
      assert.ok(proxy.requests.length >= simLog.length, `the proxy saw ${String(proxy.requests.length)} requests, the simulator ${String(simLog.length)}`);
    });
  });

  // Without --maas-ca-file the manager trusts what the process trusts: Node's roots plus
  // NODE_EXTRA_CA_CERTS, or the operating system's store with --use-openssl-ca. A MAAS
  // whose CA is in that store needs no flag of ours.
  describe("without --maas-ca-file, MAAS's CA in the process's trust store", () => {
    const cases: Array<{ store: string; env: () => Record<string, string> }> = [
      { store: "Node's roots plus NODE_EXTRA_CA_CERTS", env: () => ({ NODE_EXTRA_CA_CERTS: caFile }) },
      {
        store: "the system store (NODE_OPTIONS=--use-openssl-ca, SSL_CERT_FILE)",
        env: () => ({ NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --use-openssl-ca`.trim(), SSL_CERT_FILE: caFile }),
      },
    ];
    for (const [index, { store, env }] of cases.entries()) {
      it(`deploys through the https endpoint trusting ${store}`, async () => {
        const ns = await namespaceWithReadyCluster(`mm-tls-store${String(index)}`);
        await restartManager([`--namespace=${ns}`], env());
        const name = `s${String(index)}`;
        await bed.machineWithData(ns, "c1", name, {});
        await bed.readyMaasMachine(ns, name, 30_000);
        assert.equal(bed.allocationsFor(ns, name).length, 1, "one allocation reached MAAS");
        await restartManager(withCaArgs);
      });
    }
  });

  describe("with --maas-insecure-skip-tls-verify and no CA", () => {
    /** The manager's warnings (pino level 40) that TLS verification is off. */
    const warnings = async (): Promise<string[]> =>
      ((await bed.provider?.logText()) ?? "").split("\n").filter((line) => /"level":40\b/.test(line) && /verification is off/i.test(line));

    it("deploys, and warns at start that verification is off, never per request", async () => {
      await restartManager(["--maas-insecure-skip-tls-verify"]);
      const atStart = await warnings();
      const ns = await namespaceWithReadyCluster("mm-tls-insecure");
      await bed.machineWithData(ns, "c1", "m3", {});
      await bed.readyMaasMachine(ns, "m3", 30_000);
      assert.equal(bed.allocationsFor(ns, "m3").length, 1);
      assert.ok(atStart.length >= 1, "a warning at start");
      assert.deepEqual(await warnings(), atStart, "no further warning while MAAS is used");
    });

    // The MAAS client and the manager each log their own line today.
    it("logs that warning once", async () => {
      const lines = await warnings();
      assert.equal(lines.length, 1, `one warning, got:\n${lines.join("\n")}`);
    });
  });

  describe("without --maas-ca-file, the certificate signed by an unknown CA", () => {
    it("keeps running, allocates nothing, names the TLS problem and --maas-ca-file, and backs off", async (context) => {
      await restartManager(withCaArgs);
      const ns = await namespaceWithReadyCluster("mm-tls-noca");
      await restartManager([`--namespace=${ns}`]);
      const requestsBefore = proxy.requests.length;
      const simLogBefore = bed.sim.requestLog().length;
      await bed.machineWithData(ns, "c1", "m2", {});
      const condition = await unavailableCondition(ns, "m2");
      assert.match(condition?.message ?? "", /TLS verification failed/);
      assert.match(condition?.message ?? "", /unknown CA|self-signed/);
      assert.match(condition?.message ?? "", /--maas-ca-file/);
      context.diagnostic(`MachineDeployed: ${condition?.message ?? ""}`);
      const clusterCondition = await waitFor("MaasCluster MaasReachable=MaasUnavailable", async () => {
        const cluster = await bed.client.get(MAAS_CLUSTER, { namespace: ns, name: "c1" });
        return cluster.status?.conditions?.find((c) => c.type === MaasReachableCondition && c.reason === MaasUnavailableReason);
      }, 30_000);
      assert.match(clusterCondition.message ?? "", /TLS verification failed[\s\S]*--maas-ca-file/);

      const windowStart = Date.now();
      await new Promise((resolve) => setTimeout(resolve, HAMMER_WINDOW_MS));
      const inWindow = proxy.connections.filter((t) => t >= windowStart);
      const firstHalf = inWindow.filter((t) => t < windowStart + HAMMER_WINDOW_MS / 2).length;
      context.diagnostic(`handshakes in ${String(HAMMER_WINDOW_MS)} ms: ${String(inWindow.length)} (${String(firstHalf)} in the first half)`);
      assert.ok(inWindow.length <= MAX_HANDSHAKES_IN_WINDOW, `${String(inWindow.length)} handshakes in ${String(HAMMER_WINDOW_MS)} ms`);
      assert.ok(inWindow.length - firstHalf <= firstHalf, `retries slow down: ${String(firstHalf)} then ${String(inWindow.length - firstHalf)}`);
      assert.equal(proxy.requests.length, requestsBefore, "no request got past a handshake");
      assert.equal(bed.sim.requestLog().length, simLogBefore, "nothing reached MAAS");
      assert.equal(bed.allocationsFor(ns, "m2").length, 0);
      assert.equal(bed.provider?.child.hasExited, false, "the manager still runs");

      // Left to the manager with the CA, which finishes the delete without allocating.
      await bed.client.delete(CAPI_MACHINE, { namespace: ns, name: "m2" });
      await restartManager(withCaArgs);
    });
  });

  describe("with --maas-ca-file, a certificate that does not name the endpoint's host", () => {
    it("names the hostname mismatch and MAAS_ENDPOINT, and sends nothing", async (context) => {
      const ns = await namespaceWithReadyCluster("mm-tls-host");
      await restartManager([...withCaArgs, `--namespace=${ns}`], { MAAS_ENDPOINT: wrongHostProxy.url("/MAAS/") });
      await bed.machineWithData(ns, "c1", "m5", {});
      const condition = await unavailableCondition(ns, "m5");
      assert.match(condition?.message ?? "", /does not name the endpoint's host/);
      assert.match(condition?.message ?? "", /MAAS_ENDPOINT/);
      context.diagnostic(`MachineDeployed: ${condition?.message ?? ""}`);
      assert.ok(wrongHostProxy.connections.length > 0, "the manager tried the endpoint");
      assert.equal(wrongHostProxy.requests.length, 0, "no request got past a handshake");
      assert.equal(bed.allocationsFor(ns, "m5").length, 0);

      await bed.client.delete(CAPI_MACHINE, { namespace: ns, name: "m5" });
      await restartManager(withCaArgs);
    });
  });

  describe("when --maas-ca-file is not a usable PEM file", () => {
    /** Runs the manager to its end (killed by pid after 30 s); its output has stdout and stderr. */
    async function refusal(file: string): Promise<{ code: number | null; output: string }> {
      const logPath = join(certs.dir, `refusal-${String(Date.now())}.log`);
      const child = new Child({
        name: "capmaas-manager",
        command: process.execPath,
        args: [join(repoRoot, "bin", "capmaas-manager.mjs"), `--kubeconfig=${bed.env.managerKubeconfigPath}`, `--maas-ca-file=${file}`, "--health-probe-bind-address=0", "--metrics-bind-address=0"],
        logPath,
        env: { MAAS_ENDPOINT: proxy.url("/MAAS/"), MAAS_API_KEY: bed.sim.apiKey },
      });
      const timer = setTimeout(() => void child.kill(), 30_000);
      try {
        const { code } = await child.exited;
        return { code, output: await readFile(logPath, "utf8") };
      } finally {
        clearTimeout(timer);
        await child.kill();
      }
    }

    for (const [situation, file] of [
      ["missing", (): string => join(certs.dir, "no-such-ca.pem")],
      ["not PEM", (): string => join(certs.dir, "not-pem.txt")],
    ] as const) {
      it(`exits 2 with one line naming --maas-ca-file when the file is ${situation}`, async () => {
        await writeFile(join(certs.dir, "not-pem.txt"), "this is no certificate\n");
        const { code, output } = await refusal(file());
        assert.equal(code, 2);
        const lines = output.split("\n");
        assert.equal(lines.length, 2, `one line, got:\n${output}`);
        assert.match(lines[0] ?? "", /^capmaas-manager: --maas-ca-file /);
      });
    }
  });
});
