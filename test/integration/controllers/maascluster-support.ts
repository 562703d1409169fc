// What the MaasCluster controller tests share: the shared kube-apiserver, a MAAS
// simulator on port 0, a Manager running only the MaasCluster controller against both,
// and builders for the objects CAPI would make (no CAPI controller runs here, so the
// tests set owner references, labels and MaasMachine status themselves).
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Registry } from "prom-client";
import {
  API_VERSION,
  ClusterNameLabel,
  GROUP,
  MAAS_CLUSTER,
  MAAS_MACHINE,
  MachineControlPlaneLabel,
  type Condition,
  type MaasCluster,
  type MaasClusterSpec,
  type MaasMachine,
} from "../../../src/api/v1beta1/index.ts";
import { CAPI_CLUSTER, CAPI_INDEXERS, CAPI_MACHINE, type Cluster, type Machine } from "../../../src/capi/index.ts";
import { systemClock } from "../../../src/clock/index.ts";
import { setupMaasClusterController } from "../../../src/controllers/maascluster/index.ts";
import { DEFAULT_SETTINGS, type ControllerDeps } from "../../../src/controllers/shared/deps.ts";
import { MaasConnection } from "../../../src/controllers/shared/maas-connection.ts";
import { createProviderMetrics } from "../../../src/controllers/shared/metrics.ts";
import { createMaasClient, type MaasClient } from "../../../src/maas/index.ts";
import { createLogger } from "../../../src/observability/index.ts";
import { KubeClient, KubeTransport, Manager, getCondition, isNotFound } from "../../../src/runtime/index.ts";
import { startSimulator, type RunningSimulator } from "../../../src/sim/index.ts";
import { useSharedTestEnv, type TestEnvHandle } from "../../testenv/index.ts";
import { createNamespace, deleteNamespace } from "../api/api-client.ts";

export const DOMAIN = "maas";
export const ZONES = ["zone-a", "zone-b"];
const logger = createLogger({ level: process.env.LOG_LEVEL ?? "silent" });
const CAPI_API_VERSION = "cluster.x-k8s.io/v1beta2";

export interface Harness {
  ns: string;
  sim: RunningSimulator;
  /** The test's own MAAS client, for records made behind the controller's back. */
  maas: MaasClient;
  /** The test's own Kubernetes client (not the manager's). */
  kube: KubeClient;
  /** The controller's MAAS connection, to take credentials away and give them back. */
  connection: MaasConnection;
  configureMaas(): void;
  stop(): Promise<void>;
}

export async function startHarness(prefix: string): Promise<Harness> {
  const env: TestEnvHandle = await useSharedTestEnv();
  const kubeConfig = env.kubeConfig();
  const ns = await createNamespace(kubeConfig, prefix);
  const sim = await startSimulator({
    port: 0,
    seed: 1,
    inventory: { zones: ZONES.map((name) => ({ name })), domains: [{ name: DOMAIN, default: true }], machines: [] },
  });
  const newMaasClient = (credentials: { endpoint: string; apiKey: string }): MaasClient =>
    createMaasClient({ ...credentials, timeoutMs: 5000, retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 50 } });
  const connection = new MaasConnection({ createClient: newMaasClient, clock: systemClock, logger, onMachineChange: () => undefined });
  const configureMaas = (): void => connection.configure({ endpoint: sim.endpoint, apiKey: sim.apiKey });
  configureMaas();
  const manager = new Manager({ kubeConfig, logger, probesPort: false, namespace: ns, indexers: CAPI_INDEXERS, metricsRegistry: new Registry() });
  const deps: ControllerDeps = {
    client: manager.client,
    events: manager.events,
    maas: connection,
    clock: systemClock,
    settings: DEFAULT_SETTINGS,
    metrics: createProviderMetrics(new Registry()),
  };
  setupMaasClusterController({ manager, deps, workers: 2, scope: {} });
  await manager.start();
  const kube = new KubeClient({
    transport: new KubeTransport({ kubeConfig }),
    fieldManager: "maascluster-test",
    kinds: [MAAS_CLUSTER, MAAS_MACHINE, CAPI_CLUSTER, CAPI_MACHINE],
  });
  const maas = newMaasClient({ endpoint: sim.endpoint, apiKey: sim.apiKey });
  return {
    ns,
    sim,
    maas,
    kube,
    connection,
    configureMaas,
    async stop() {
      try {
        await manager.stop();
      } finally {
        connection.close();
        maas.close();
        await kube.transport.close();
        await sim.close();
        await deleteNamespace(kubeConfig, ns);
        await env.stop();
      }
    },
  };
}

/** A CAPI v1beta2 Cluster pointing at the MaasCluster `infraName`. */
export async function createCluster(
  h: Harness,
  name: string,
  options: { infraName?: string; paused?: boolean; controlPlaneEndpoint?: { host: string; port: number } } = {},
): Promise<Cluster> {
  return h.kube.create<Cluster>(CAPI_CLUSTER, {
    apiVersion: CAPI_API_VERSION,
    kind: "Cluster",
    metadata: { name, namespace: h.ns },
    spec: {
      ...(options.paused === undefined ? {} : { paused: options.paused }),
      ...(options.controlPlaneEndpoint === undefined ? {} : { controlPlaneEndpoint: options.controlPlaneEndpoint }),
      infrastructureRef: { apiGroup: GROUP, kind: "MaasCluster", name: options.infraName ?? name },
    },
  } satisfies Cluster);
}

export interface MaasClusterOptions {
  name?: string;
  spec?: Partial<MaasClusterSpec>;
  annotations?: Record<string, string>;
}

/** A MaasCluster as CAPI leaves it: owned by the Cluster and labelled with its name. */
export async function createMaasCluster(h: Harness, cluster: Cluster, options: MaasClusterOptions = {}): Promise<MaasCluster> {
  const owner = { apiVersion: CAPI_API_VERSION, kind: "Cluster", name: cluster.metadata.name, uid: cluster.metadata.uid ?? "" };
  return h.kube.create<MaasCluster>(MAAS_CLUSTER, {
    apiVersion: API_VERSION,
    kind: "MaasCluster",
    metadata: {
      name: options.name ?? cluster.metadata.name,
      namespace: h.ns,
      labels: { [ClusterNameLabel]: cluster.metadata.name },
      ownerReferences: [owner],
      ...(options.annotations === undefined ? {} : { annotations: options.annotations }),
    },
    spec: { dnsDomain: DOMAIN, ...options.spec },
  } satisfies MaasCluster);
}

/** A CAPI Machine and the MaasMachine it owns, as a control-plane or a worker member of `clusterName`. */
export async function createMachinePair(
  h: Harness,
  clusterName: string,
  name: string,
  options: { controlPlane: boolean; finalizers?: string[] },
): Promise<{ machine: Machine; maasMachine: MaasMachine }> {
  const labels = { [ClusterNameLabel]: clusterName, ...(options.controlPlane ? { [MachineControlPlaneLabel]: "" } : {}) };
  const machine = await h.kube.create<Machine>(CAPI_MACHINE, {
    apiVersion: CAPI_API_VERSION,
    kind: "Machine",
    metadata: { name, namespace: h.ns, labels },
    spec: { clusterName, bootstrap: { dataSecretName: `${name}-bootstrap` }, infrastructureRef: { apiGroup: GROUP, kind: "MaasMachine", name } },
  } satisfies Machine);
  const maasMachine = await h.kube.create<MaasMachine>(MAAS_MACHINE, {
    apiVersion: API_VERSION,
    kind: "MaasMachine",
    metadata: {
      name,
      namespace: h.ns,
      labels: { [ClusterNameLabel]: clusterName },
      ownerReferences: [{ apiVersion: CAPI_API_VERSION, kind: "Machine", name, uid: machine.metadata.uid ?? "" }],
      ...(options.finalizers === undefined ? {} : { finalizers: options.finalizers }),
    },
    spec: { minCPU: 2, minMemory: 4096, image: "ubuntu/jammy" },
  } satisfies MaasMachine);
  return { machine, maasMachine };
}

/** Writes the status the MaasMachine controller would write for a machine MAAS reports in `state`. */
export async function setMachineState(h: Harness, name: string, state: string, internalIp?: string): Promise<void> {
  const deployed = state === "Deployed";
  const addresses = internalIp === undefined ? [] : [{ type: "InternalIP", address: internalIp }, { type: "Hostname", address: name }];
  await h.kube.patch(MAAS_MACHINE, { namespace: h.ns, name }, { status: { machineState: state, initialization: { provisioned: deployed }, addresses } }, { type: "merge", subresource: "status" });
}

export async function getMaasCluster(h: Harness, name: string): Promise<MaasCluster | undefined> {
  try {
    return await h.kube.get(MAAS_CLUSTER, { namespace: h.ns, name });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export function condition(obj: MaasCluster | undefined, type: string): Condition | undefined {
  return getCondition(obj?.status?.conditions, type);
}

/** Polls until the MaasCluster satisfies `ok`; fails with what it last saw. */
export async function waitForMaasCluster(h: Harness, name: string, ok: (c: MaasCluster) => boolean, what: string): Promise<MaasCluster> {
  let last: MaasCluster | undefined;
  return eventually(async () => {
    last = await getMaasCluster(h, name);
    return last !== undefined && ok(last) ? last : undefined;
  }, () => `${what}; last seen: ${JSON.stringify({ metadata: last?.metadata, spec: last?.spec, status: last?.status })}`);
}

export async function waitForGone(h: Harness, name: string): Promise<void> {
  await eventually(async () => ((await getMaasCluster(h, name)) === undefined ? true : undefined), () => `MaasCluster ${name} deleted`);
}

/** The simulator's stored DNS records as fqdn → sorted IPs. */
export function simRecords(h: Harness): Map<string, string[]> {
  const state = h.sim.state();
  const domainName = (id: number): string => state.domains.find((d) => d.id === id)?.name ?? "?";
  return new Map(state.dnsResources.map((r) => [`${r.name}.${domainName(r.domainId)}`, [...r.ipAddresses].sort()]));
}

export async function waitForRecord(h: Harness, fqdn: string, ips: string[]): Promise<void> {
  const want = [...ips].sort().join(" ");
  await eventually(() => (simRecords(h).get(fqdn)?.join(" ") === want ? true : undefined), () => `${fqdn} → [${want}]; MAAS has ${JSON.stringify([...simRecords(h)])}`);
}

/** How many writes (POST, PUT, DELETE) the simulator got on dnsresources. */
export function dnsWrites(h: Harness): number {
  return h.sim.requestLog().filter((e) => e.method !== "GET" && /\/dnsresources\//.test(e.path)).length;
}

/** Long enough for a reconcile the change would have caused to have run. */
export function settle(): Promise<void> {
  return sleep(1500);
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 6)}`;
}

async function eventually<T>(probe: () => T | undefined | Promise<T | undefined>, describe: () => string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${describe()}`);
    await sleep(50);
  }
}
