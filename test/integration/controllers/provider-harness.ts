// What the provider's end-to-end tests stand on: the shared control plane, the real
// Cluster API managers, the MAAS simulator in-process, and our manager run as users
// run it (bin/capmaas-manager.mjs, a child process stopped or killed by pid), plus
// object builders and a poll helper.
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { API_VERSION, MAAS_CLUSTER, MAAS_MACHINE, kindSpec, type MaasMachineSpec } from "../../../src/api/v1beta1/index.ts";
import { CAPI_CLUSTER, CAPI_MACHINE, NODE, SECRET, type Cluster, type Machine, type Secret } from "../../../src/capi/index.ts";
import { KubeClient, KubeTransport, type KubeObject } from "../../../src/runtime/index.ts";
import { startSimulator } from "../../../src/sim/index.ts";
import type { SimulatorOptions } from "../../../src/sim/types.ts";
import { Child } from "../../testenv/children.ts";
import { repoRoot } from "../../testenv/binaries.ts";
import { freePorts } from "../../testenv/ports.ts";

export type Simulator = Awaited<ReturnType<typeof startSimulator>>;

export const NAMESPACE_KIND = kindSpec<KubeObject>({ group: "", version: "v1", kind: "Namespace", plural: "namespaces", namespaced: false });
export { NODE as NODE_KIND } from "../../../src/capi/index.ts";

export function adminClient(kubeConfig: KubeConfig): KubeClient {
  const client = new KubeClient({ transport: new KubeTransport({ kubeConfig }), fieldManager: "provider-tests" });
  for (const kind of [MAAS_MACHINE, MAAS_CLUSTER, CAPI_CLUSTER, CAPI_MACHINE, SECRET, NAMESPACE_KIND, NODE]) client.registerKind(kind);
  return client;
}

export async function createNamespace(client: KubeClient, prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString("hex")}`;
  await client.create(NAMESPACE_KIND, { metadata: { name } });
  return name;
}

/** A simulator with a few machines of known sizes, fast deploys and releases. */
export async function startProviderSimulator(options: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  return startSimulator({
    port: 0,
    seed: 7,
    maasVersion: "3.6.0",
    deploySeconds: 0.3,
    releaseSeconds: 0.2,
    inventory: {
      zones: [{ name: "zone-a" }, { name: "zone-b" }],
      pools: [{ name: "capi" }],
      domains: [{ name: "maas.test", ttl: 30, authoritative: true }],
      tags: [{ name: "control-plane" }, { name: "worker" }],
      bootResources: [{ name: "ubuntu/jammy" }, { name: "ubuntu/noble" }],
      machines: [
        { hostname: "node-1", cpuCount: 4, memoryMiB: 16384, zone: "zone-a", pool: "capi", tags: ["control-plane"] },
        { hostname: "node-2", cpuCount: 4, memoryMiB: 16384, zone: "zone-b", pool: "capi", tags: ["control-plane"] },
        { hostname: "node-3", cpuCount: 8, memoryMiB: 32768, zone: "zone-a", pool: "capi", tags: ["worker"] },
        { hostname: "node-4", cpuCount: 8, memoryMiB: 32768, zone: "zone-b", pool: "capi", tags: ["worker"] },
      ],
    },
    ...options,
  });
}

export interface ProviderProcess {
  child: Child;
  probePort: number;
  logText(): Promise<string>;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

/** Runs bin/capmaas-manager.mjs against the control plane and the simulator; resolves once /readyz answers 200. */
export async function startProviderManager(options: {
  kubeconfigPath: string;
  sim: Simulator;
  args?: readonly string[];
  env?: Record<string, string>;
}): Promise<ProviderProcess> {
  const dir = await mkdtemp(join(tmpdir(), "capmaas-manager-"));
  const [probePort] = await freePorts(1);
  const logPath = join(dir, "manager.log");
  const child = new Child({
    name: "capmaas-manager",
    command: process.execPath,
    args: [
      join(repoRoot, "bin", "capmaas-manager.mjs"),
      `--kubeconfig=${options.kubeconfigPath}`,
      `--health-probe-bind-address=127.0.0.1:${String(probePort)}`,
      "--metrics-bind-address=0",
      ...(options.args ?? []),
    ],
    logPath,
    env: { MAAS_ENDPOINT: options.sim.endpoint, MAAS_API_KEY: options.sim.apiKey, LOG_LEVEL: "debug", ...options.env },
  });
  const stopAll = async (kill: boolean): Promise<void> => {
    if (kill) await child.kill();
    else await child.stop(15_000);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(`capmaas-manager /readyz on ${String(probePort)}`, async () => {
      if (child.hasExited) throw new Error(`capmaas-manager exited: ${await readFile(logPath, "utf8")}`);
      const answer = await fetch(`http://127.0.0.1:${String(probePort)}/readyz`).catch(() => undefined);
      return answer?.status === 200;
    });
  } catch (err) {
    await stopAll(true);
    throw err;
  }
  return {
    child,
    probePort: probePort ?? 0,
    logText: () => readFile(logPath, "utf8").catch(() => ""),
    stop: () => stopAll(false),
    kill: () => stopAll(true),
  };
}

/** Polls `check` until it returns something truthy; fails naming `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
      if (err instanceof Error && err.message.startsWith("capmaas-manager exited")) throw err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${String(timeoutMs)} ms waiting for ${what}${lastError === undefined ? "" : `: ${String(lastError)}`}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

// ── Object builders: what CAPI users and CAPI itself write ──────────────────────

export function clusterObject(namespace: string, name: string): Cluster {
  return {
    apiVersion: "cluster.x-k8s.io/v1beta2",
    kind: "Cluster",
    metadata: { name, namespace },
    spec: { infrastructureRef: { apiGroup: "infrastructure.cluster.x-k8s.io", kind: "MaasCluster", name } },
  };
}

export function maasClusterObject(namespace: string, name: string, spec: Record<string, unknown> = {}): KubeObject & { spec: Record<string, unknown> } {
  return {
    apiVersion: API_VERSION,
    kind: "MaasCluster",
    metadata: { name, namespace, labels: { "cluster.x-k8s.io/cluster-name": name } },
    spec: { dnsDomain: "maas.test", ...spec },
  };
}

export function bootstrapSecret(namespace: string, name: string, cluster: string, value: string): Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "cluster.x-k8s.io/secret",
    metadata: { name, namespace, labels: { "cluster.x-k8s.io/cluster-name": cluster } },
    data: { value: Buffer.from(value).toString("base64"), format: Buffer.from("cloud-config").toString("base64") },
  };
}

export function machineObject(options: {
  namespace: string;
  name: string;
  cluster: string;
  dataSecretName?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  failureDomain?: string;
}): Machine {
  return {
    apiVersion: "cluster.x-k8s.io/v1beta2",
    kind: "Machine",
    metadata: {
      name: options.name,
      namespace: options.namespace,
      labels: { "cluster.x-k8s.io/cluster-name": options.cluster, ...options.labels },
      ...(options.annotations === undefined ? {} : { annotations: options.annotations }),
    },
    spec: {
      clusterName: options.cluster,
      bootstrap: options.dataSecretName === undefined ? {} : { dataSecretName: options.dataSecretName },
      infrastructureRef: { apiGroup: "infrastructure.cluster.x-k8s.io", kind: "MaasMachine", name: options.name },
      ...(options.failureDomain === undefined ? {} : { failureDomain: options.failureDomain }),
    },
  };
}

export function maasMachineObject(namespace: string, name: string, spec: Partial<MaasMachineSpec> = {}): KubeObject & { spec: MaasMachineSpec } {
  return {
    apiVersion: API_VERSION,
    kind: "MaasMachine",
    metadata: { name, namespace },
    spec: { minCPU: 2, minMemory: 4096, image: "ubuntu/jammy", ...spec },
  };
}
