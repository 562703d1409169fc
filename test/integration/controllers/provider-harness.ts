// What the provider's end-to-end tests stand on: the shared control plane, the real
// Cluster API managers, the MAAS simulator in-process, and our manager run as users
// run it (bin/capmaas-manager.mjs, a child process stopped or killed by pid) under the
// generated least-privilege role (test/testenv/manager-identity.ts), plus object
// builders and a poll helper.
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { API_VERSION, MAAS_CLUSTER, MAAS_MACHINE, kindSpec, type MaasMachine, type MaasMachineSpec } from "../../../src/api/v1beta1/index.ts";
import { CAPI_CLUSTER, CAPI_MACHINE, NODE, SECRET, type Cluster, type Machine, type Secret } from "../../../src/capi/index.ts";
import { KubeClient, KubeTransport, type KubeObject } from "../../../src/runtime/index.ts";
import { startSimulator } from "../../../src/sim/index.ts";
import type { SimulatorOptions } from "../../../src/sim/types.ts";
import { startCapiManagers, type CapiManagerName, type CapiManagers } from "../../testenv/capi-managers.ts";
import { Child, disownDir, ownDir } from "../../testenv/children.ts";
import { useSharedTestEnv, type TestEnvHandle } from "../../testenv/index.ts";
import { bindManagerLeaderElection } from "../../testenv/manager-identity.ts";
import { repoRoot } from "../../testenv/binaries.ts";
import { freePorts } from "../../testenv/ports.ts";

export type Simulator = Awaited<ReturnType<typeof startSimulator>>;
/** What the manager needs of a MAAS: where it is, and the key. */
export type MaasAccess = Pick<Simulator, "endpoint" | "apiKey">;

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
  sim: MaasAccess;
  /** Objects this manager reconciles carry cluster.x-k8s.io/watch-filter=<value> (other files' leftovers do not). */
  watchFilter: string;
  args?: readonly string[];
  env?: Record<string, string>;
}): Promise<ProviderProcess> {
  const dir = await mkdtemp(join(tmpdir(), "capmaas-manager-"));
  // Removed by the last-resort cleanup too, if the test process is stopped before stop().
  ownDir(dir);
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
      `--watch-filter=${options.watchFilter}`,
      ...(options.args ?? []),
    ],
    logPath,
    env: { MAAS_ENDPOINT: options.sim.endpoint, MAAS_API_KEY: options.sim.apiKey, LOG_LEVEL: "debug", ...options.env },
  });
  const stopAll = async (kill: boolean): Promise<void> => {
    if (kill) await child.kill();
    else await child.stop(15_000);
    await rm(dir, { recursive: true, force: true });
    disownDir(dir);
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

/**
 * Lets the manager's test user (which holds only the generated ClusterRole) hold the
 * leader-election Lease in `namespace`, through the generated Role as the release grants it.
 */
export async function grantLeaderElection(env: TestEnvHandle, namespace: string): Promise<void> {
  const kubeConfig = env.kubeConfig();
  const caPem = Buffer.from(kubeConfig.getCurrentCluster()?.caData ?? "", "base64").toString("utf8");
  await bindManagerLeaderElection({ server: env.server, caPem, token: kubeConfig.getCurrentUser()?.token ?? "" }, namespace);
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

/** A watch-filter value unique to one test file. */
export function newWatchFilter(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString("hex")}`;
}

function filtered(filter: string, labels: Record<string, string> = {}): Record<string, string> {
  return { "cluster.x-k8s.io/watch-filter": filter, ...labels };
}

export function clusterObject(filter: string, namespace: string, name: string): Cluster {
  return {
    apiVersion: "cluster.x-k8s.io/v1beta2",
    kind: "Cluster",
    metadata: { name, namespace, labels: filtered(filter) },
    spec: { infrastructureRef: { apiGroup: "infrastructure.cluster.x-k8s.io", kind: "MaasCluster", name } },
  };
}

export function maasClusterObject(filter: string, namespace: string, name: string, spec: Record<string, unknown> = {}): KubeObject & { spec: Record<string, unknown> } {
  return {
    apiVersion: API_VERSION,
    kind: "MaasCluster",
    metadata: { name, namespace, labels: filtered(filter, { "cluster.x-k8s.io/cluster-name": name }) },
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
  filter: string;
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
      labels: filtered(options.filter, { "cluster.x-k8s.io/cluster-name": options.cluster, ...options.labels }),
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

export function maasMachineObject(filter: string, namespace: string, name: string, spec: Partial<MaasMachineSpec> = {}): KubeObject & { spec: MaasMachineSpec } {
  return {
    apiVersion: API_VERSION,
    kind: "MaasMachine",
    metadata: { name, namespace, labels: filtered(filter) },
    spec: { minCPU: 2, minMemory: 4096, image: "ubuntu/jammy", ...spec },
  };
}

// ── A whole test bed: control plane, CAPI core, simulator, our manager ──────────

export interface TestbedOptions {
  prefix: string;
  simulator?: Partial<SimulatorOptions>;
  managerArgs?: readonly string[];
  /** Start the real CAPI core manager (default true). */
  capiCore?: boolean;
  /** The CAPI managers to run when capiCore is not false (default: core only). */
  capiManagers?: readonly CapiManagerName[];
  /** Give the manager its MAAS credentials through this Secret instead of the environment. */
  credentialsSecret?: { namespace: string; name: string };
  /** Added to the manager's environment over the simulator's, e.g. MAAS_ENDPOINT of a proxy in front of it. */
  managerEnv?: Record<string, string>;
  /** A control plane the test started (a private one it kills); the test stops it. Default: the shared one. */
  env?: TestEnvHandle;
  /** A MAAS the test runs itself (a maas-sim process); then no simulator runs in-process and `sim` must not be used. */
  maas?: MaasAccess;
  /**
   * The Cluster API managers and ours reach workload clusters through the in-process
   * simulator's DNS proxy (HTTPS_PROXY), as a host whose resolver asks MAAS's DNS would;
   * the simulator must be started with dnsProxyPort.
   */
  workloadsThroughSimDns?: boolean;
  /** The watch filter of this bed's managers; default a new one. A second management cluster taking over a bed's objects uses that bed's. */
  watchFilter?: string;
  /**
   * Another bed's in-process simulator, used as this bed's own (`sim`, the manager's MAAS,
   * the DNS proxy) but neither started nor closed by this bed: two management clusters, one MAAS.
   */
  sharedSimulator?: Simulator;
}

const EVENT = kindSpec<KubeObject & { reason?: string; note?: string; type?: string; regarding?: { name?: string } }>({
  group: "events.k8s.io",
  version: "v1",
  kind: "Event",
  plural: "events",
  namespaced: true,
});

export const CLOUD_INIT = "#cloud-config\nruncmd:\n  - [sh, -c, 'echo joined']\n";

export class Testbed {
  readonly filter: string;
  env!: TestEnvHandle;
  client!: KubeClient;
  capi: CapiManagers | undefined;
  provider: ProviderProcess | undefined;
  private simulator: Simulator | undefined;

  constructor(private readonly options: TestbedOptions) {
    this.filter = options.watchFilter ?? newWatchFilter(options.prefix);
  }

  /** The in-process simulator; a test that restarts it sets the new one here. */
  get sim(): Simulator {
    if (this.simulator === undefined) throw new Error("this Testbed uses a MAAS of the test's own (options.maas): it has no in-process simulator");
    return this.simulator;
  }

  set sim(simulator: Simulator) {
    this.simulator = simulator;
  }

  async start(): Promise<void> {
    this.env = this.options.env ?? (await useSharedTestEnv());
    this.client = adminClient(this.env.kubeConfig());
    if (this.options.sharedSimulator !== undefined) this.simulator = this.options.sharedSimulator;
    else if (this.options.maas === undefined) this.simulator = await startProviderSimulator(this.options.simulator);
    const proxyEnv = this.workloadProxyEnv();
    if (this.options.capiCore !== false) {
      const filterArg = `--watch-filter=${this.filter}`;
      this.capi = await startCapiManagers({
        kubeconfigPath: this.env.kubeconfigPath,
        managers: this.options.capiManagers ?? ["core"],
        extraArgs: { core: ["--sync-period=30s", filterArg], "kubeadm-bootstrap": [filterArg], "kubeadm-control-plane": [filterArg] },
        ...(proxyEnv === undefined ? {} : { env: proxyEnv }),
      });
    }
    await this.startManager();
  }

  /** HTTPS_PROXY at the simulator's DNS proxy, when the options ask for it. */
  workloadProxyEnv(): Record<string, string> | undefined {
    if (this.options.workloadsThroughSimDns !== true) return undefined;
    const url = this.sim.dnsProxyUrl;
    if (url === null) throw new Error("workloadsThroughSimDns needs the simulator started with dnsProxyPort (e.g. 0)");
    return { HTTPS_PROXY: url, NO_PROXY: "" };
  }

  /** Starts the manager; `overrides.args` replace managerArgs and `overrides.env` adds to managerEnv, for this start only. */
  async startManager(overrides: { args?: readonly string[]; env?: Record<string, string> } = {}): Promise<void> {
    const secret = this.options.credentialsSecret;
    const args = overrides.args ?? this.options.managerArgs ?? [];
    const leaseNamespace = args.find((a) => a.startsWith("--leader-elect-namespace="))?.slice("--leader-elect-namespace=".length);
    if (args.includes("--leader-elect") && leaseNamespace !== undefined) await grantLeaderElection(this.env, leaseNamespace);
    this.provider = await startProviderManager({
      kubeconfigPath: this.env.managerKubeconfigPath,
      sim: this.options.maas ?? this.sim,
      watchFilter: this.filter,
      args: [...args, ...(secret === undefined ? [] : [`--maas-credentials-secret=${secret.namespace}/${secret.name}`])],
      env: { ...this.workloadProxyEnv(), ...this.options.managerEnv, ...overrides.env, ...(secret === undefined ? {} : { MAAS_ENDPOINT: "", MAAS_API_KEY: "" }) },
    });
  }

  async stop(): Promise<void> {
    await this.provider?.stop();
    await this.capi?.stop();
    if (this.options.sharedSimulator === undefined) await this.simulator?.close();
    if (this.options.env === undefined) await this.env.stop();
  }

  /** A Cluster whose MaasCluster reports provisioned, so CAPI lets its Machines go ahead. */
  async readyCluster(namespace: string, name: string, spec: Record<string, unknown> = {}): Promise<void> {
    const { client } = this;
    await client.create(CAPI_CLUSTER, clusterObject(this.filter, namespace, name));
    const maasCluster = maasClusterObject(this.filter, namespace, name, { controlPlaneEndpoint: { host: "10.0.0.10", port: 6443 }, ...spec });
    if (this.capi === undefined) {
      const cluster = await client.get(CAPI_CLUSTER, { namespace, name });
      maasCluster.metadata.ownerReferences = [{ apiVersion: "cluster.x-k8s.io/v1beta2", kind: "Cluster", name, uid: cluster.metadata.uid ?? "" }];
    }
    await client.create(MAAS_CLUSTER, maasCluster);
    await waitFor(`Cluster ${name} infrastructure provisioned`, async () => {
      const cluster = await client.get(CAPI_CLUSTER, { namespace, name });
      if (cluster.status?.initialization?.infrastructureProvisioned === true) return true;
      // Our MaasCluster controller provisions the MaasCluster; without the CAPI core manager
      // the test copies that onto the Cluster as CAPI would.
      if (this.capi === undefined) {
        const maasCluster = await client.get(MAAS_CLUSTER, { namespace, name });
        if (maasCluster.status?.initialization?.provisioned === true) {
          await client.patch(CAPI_CLUSTER, { namespace, name }, { status: { initialization: { infrastructureProvisioned: true } } }, { subresource: "status" });
        }
      }
      return false;
    });
  }

  /** A bootstrap Secret, a MaasMachine and the Machine that owns it (CAPI sets the owner reference). */
  async machineWithData(
    namespace: string,
    cluster: string,
    name: string,
    spec: Partial<MaasMachineSpec>,
    machine: Partial<Parameters<typeof machineObject>[0]> = {},
  ): Promise<void> {
    await this.client.create(SECRET, bootstrapSecret(namespace, `${name}-bootstrap`, cluster, CLOUD_INIT));
    const maasMachine = maasMachineObject(this.filter, namespace, name, spec);
    const owner = await this.client.create(CAPI_MACHINE, machineObject({ filter: this.filter, namespace, name, cluster, dataSecretName: `${name}-bootstrap`, ...machine }));
    if (this.capi === undefined) {
      // Without the CAPI core manager the test does what it would: own the MaasMachine and label it.
      maasMachine.metadata.ownerReferences = [{ apiVersion: "cluster.x-k8s.io/v1beta2", kind: "Machine", name, uid: owner.metadata.uid ?? "", controller: true }];
      maasMachine.metadata.labels = { ...maasMachine.metadata.labels, "cluster.x-k8s.io/cluster-name": cluster };
    }
    await this.client.create(MAAS_MACHINE, maasMachine);
  }

  async maasMachine(namespace: string, name: string): Promise<MaasMachine> {
    return this.client.get(MAAS_MACHINE, { namespace, name });
  }

  /** The events.k8s.io Events about the object `name` in `namespace`, oldest first as listed. */
  async events(namespace: string, name: string): Promise<Array<{ reason: string; note: string; type: string }>> {
    const page = await this.client.list(EVENT, { namespace });
    return page.items.filter((e) => e.regarding?.name === name).map((e) => ({ reason: e.reason ?? "", note: e.note ?? "", type: e.type ?? "" }));
  }

  /** Waits until the MaasMachine's condition `type` has `reason` (or status True when reason is "True"). */
  async waitForCondition(namespace: string, name: string, type: string, reason: string, timeoutMs = 60_000): Promise<MaasMachine> {
    return waitFor(`MaasMachine ${name} ${type}=${reason}`, async () => {
      const m = await this.maasMachine(namespace, name);
      const condition = m.status?.conditions?.find((c) => c.type === type);
      return (reason === "True" ? condition?.status === "True" : condition?.reason === reason) ? m : undefined;
    }, timeoutMs);
  }

  async readyMaasMachine(namespace: string, name: string, timeoutMs = 60_000): Promise<MaasMachine> {
    return this.waitForCondition(namespace, name, "Ready", "True", timeoutMs);
  }

  /** The simulator's successful calls of `op` made for this MaasMachine (by its agent_name). */
  allocationsFor(namespace: string, name: string) {
    return this.sim.requestLog().filter((e) => e.op === "allocate" && e.status === 200 && String(e.params.agent_name).includes(`/${namespace}/${name}/`));
  }

  /** MAAS machines the simulator has allocated or deployed (owner set). */
  heldMachines() {
    return this.sim.state().machines.filter((m) => m.owner !== null);
  }
}
