// What the end-to-end stories stand on: the shared control plane as the management
// cluster, the real Cluster API core, kubeadm bootstrap and kubeadm control-plane
// managers, our manager, and the MAAS simulator with booting on (deployed machines run
// kubeadm's init/join: a real etcd and kube-apiserver per control-plane machine, on
// loopback addresses). The managers reach each workload cluster by its MAAS DNS name
// through the simulator's DNS proxy (HTTPS_PROXY), as a management host whose resolver
// asks MAAS would. Clusters come from the repository's flavors through the real
// clusterctl, with the spec's variables.
import { randomInt } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import { kindSpec } from "../../../src/api/v1beta1/index.ts";
import { CAPI_CLUSTER, CAPI_MACHINE, SECRET, type Machine } from "../../../src/capi/index.ts";
import type { KubeObject } from "../../../src/runtime/index.ts";
import type { Inventory } from "../../../src/sim/types.ts";
import { bootBinaries } from "../boot/booting-sim.ts";
import { ClusterctlSandbox, SPEC_VARIABLES, forTestbed, parseObjects, type Flavor, type GeneratedObject } from "../clusterctl/clusterctl-harness.ts";
import { Testbed, waitFor } from "../controllers/provider-harness.ts";
import { runKubectl } from "../../testenv/kubectl.ts";
import type { TestEnvHandle } from "../../testenv/index.ts";

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}
type WithConditions = KubeObject & { spec?: Record<string, unknown>; status?: Record<string, unknown> & { conditions?: Condition[] } };

export const KUBEADM_CONTROL_PLANE = kindSpec<WithConditions>({ group: "controlplane.cluster.x-k8s.io", version: "v1beta2", kind: "KubeadmControlPlane", plural: "kubeadmcontrolplanes", namespaced: true });
export const MACHINE_DEPLOYMENT = kindSpec<WithConditions>({ group: "cluster.x-k8s.io", version: "v1beta2", kind: "MachineDeployment", plural: "machinedeployments", namespaced: true });
export const MACHINE_HEALTH_CHECK = kindSpec<WithConditions>({ group: "cluster.x-k8s.io", version: "v1beta2", kind: "MachineHealthCheck", plural: "machinehealthchecks", namespaced: true });

export const KUBERNETES_VERSION = "v1.34.2";

/** Enough machines for a control plane, workers scaled to three, and a rollout's surge machine, in two zones. */
const INVENTORY: Inventory = {
  zones: [{ name: "zone-a" }, { name: "zone-b" }],
  pools: [{ name: "capi" }],
  domains: [{ name: "maas.test", ttl: 30, authoritative: true }],
  tags: [{ name: "control-plane" }, { name: "worker" }],
  bootResources: [{ name: "ubuntu/jammy" }],
  machines: [
    ...[1, 2].map((n) => ({ hostname: `cp-${String(n)}`, cpuCount: 4, memoryMiB: 16384, zone: n % 2 === 1 ? "zone-a" : "zone-b", pool: "capi", tags: ["control-plane"] })),
    ...[1, 2, 3, 4, 5, 6].map((n) => ({ hostname: `worker-${String(n)}`, cpuCount: 4, memoryMiB: 8192, zone: n % 2 === 1 ? "zone-a" : "zone-b", pool: "capi", tags: ["worker"] })),
  ],
};

/** The spec's variables, with what the simulator's inventory has (pool capi, jammy, domain maas.test) and the workload API server's version. */
export function e2eVariables(bed: Testbed): Record<string, string> {
  return {
    ...SPEC_VARIABLES,
    MAAS_ENDPOINT: bed.sim.endpoint,
    MAAS_API_KEY: bed.sim.apiKey,
    KUBERNETES_VERSION,
    DNS_DOMAIN: "maas.test",
    CONTROL_PLANE_MACHINE_IMAGE: "ubuntu/jammy",
    WORKER_MACHINE_IMAGE: "ubuntu/jammy",
    CONTROL_PLANE_MACHINE_RESOURCEPOOL: "capi",
    WORKER_MACHINE_RESOURCEPOOL: "capi",
  };
}

/** `env`: a control plane of the test's own (it stops it) instead of the shared one. */
export async function startE2eBed(prefix: string, env?: TestEnvHandle): Promise<{ bed: Testbed; clusterctl: ClusterctlSandbox }> {
  const { binDir } = await bootBinaries();
  const bed = new Testbed({
    prefix,
    ...(env === undefined ? {} : { env }),
    capiManagers: ["core", "kubeadm-bootstrap", "kubeadm-control-plane"],
    simulator: {
      inventory: INVENTORY,
      subnet: `127.${String(randomInt(20, 250))}.0.0/16`,
      dnsProxyPort: 0,
      boot: { binDir },
      deploySeconds: 1,
      releaseSeconds: 0.5,
    },
    workloadsThroughSimDns: true,
  });
  await bed.start();
  for (const kind of [KUBEADM_CONTROL_PLANE, MACHINE_DEPLOYMENT, MACHINE_HEALTH_CHECK]) bed.client.registerKind(kind);
  const clusterctl = await ClusterctlSandbox.create();
  return { bed, clusterctl };
}

/** `clusterctl generate cluster NAME --from templates/<flavor> --target-namespace NS` with the e2e variables, applied with kubectl. */
export async function generateAndApply(bed: Testbed, clusterctl: ClusterctlSandbox, flavor: Flavor, name: string, namespace: string, overrides: Record<string, string> = {}): Promise<GeneratedObject[]> {
  const result = await clusterctl.generate(flavor, { ...e2eVariables(bed), ...overrides }, { name, namespace });
  if (result.code !== 0) throw new Error(`clusterctl generate cluster failed: ${result.stderr}`);
  const objects = forTestbed(parseObjects(result.stdout), bed.filter);
  const applied = await bed.env.kubectl(["apply", "-f", "-"], { input: objects.map((o) => stringify(o)).join("---\n") });
  if (applied.code !== 0) throw new Error(`kubectl apply failed: ${applied.stderr}`);
  return objects;
}

export function condition(object: { status?: { conditions?: Condition[] } } | undefined, type: string): Condition | undefined {
  return object?.status?.conditions?.find((c) => c.type === type);
}

/** What is going on, for a failed wait: the Cluster's, KCP's and MachineDeployments' conditions, Machines, and the simulator's boot state. */
export async function describeCluster(bed: Testbed, namespace: string, name: string): Promise<string> {
  const lines: string[] = [];
  const conditions = (o: WithConditions | undefined): string => (o?.status?.conditions ?? []).filter((c) => c.status !== "True").map((c) => `${c.type}=${c.status} ${c.reason ?? ""}: ${c.message ?? ""}`).join("; ");
  const cluster = await bed.client.get(CAPI_CLUSTER, { namespace, name }).catch(() => undefined);
  lines.push(`Cluster: ${conditions(cluster as WithConditions | undefined)}`);
  for (const kcp of (await bed.client.list(KUBEADM_CONTROL_PLANE, { namespace })).items) lines.push(`KCP ${kcp.metadata.name}: ${JSON.stringify(kcp.status?.replicas)} ready ${JSON.stringify(kcp.status?.readyReplicas)}; ${conditions(kcp)}`);
  for (const md of (await bed.client.list(MACHINE_DEPLOYMENT, { namespace })).items) lines.push(`MD ${md.metadata.name}: ${conditions(md)}`);
  for (const m of (await bed.client.list(CAPI_MACHINE, { namespace })).items) lines.push(`Machine ${m.metadata.name} ${m.status?.phase ?? ""} node=${m.status?.nodeRef?.name ?? "-"}: ${conditions(m as WithConditions)}`);
  const boot = bed.sim.bootState();
  for (const m of boot?.machines ?? []) lines.push(`boot ${m.hostname} ${m.phase} ${m.step ?? ""} ${m.message ?? ""}`);
  return lines.join("\n");
}

/** Waits for `check`, adding describeCluster to a timeout's message. */
export async function waitForCluster<T>(bed: Testbed, namespace: string, name: string, what: string, check: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  try {
    return await waitFor(what, check, timeoutMs);
  } catch (err) {
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${await describeCluster(bed, namespace, name)}`);
  }
}

export async function clusterAvailable(bed: Testbed, namespace: string, name: string, timeoutMs: number): Promise<void> {
  await waitForCluster(bed, namespace, name, `Cluster ${name} Available`, async () => {
    const cluster = await bed.client.get(CAPI_CLUSTER, { namespace, name });
    return condition(cluster as WithConditions, "Available")?.status === "True";
  }, timeoutMs);
}

/** The cluster's Machines, the MachineDeployment's (by its label) or all. */
export async function machinesOf(bed: Testbed, namespace: string, cluster: string, deployment?: string): Promise<Machine[]> {
  const selector = deployment === undefined ? `cluster.x-k8s.io/cluster-name=${cluster}` : `cluster.x-k8s.io/deployment-name=${deployment}`;
  return (await bed.client.list(CAPI_MACHINE, { namespace, labelSelector: selector })).items;
}

export function isRunningWithNode(machine: Machine): boolean {
  return machine.status?.phase === "Running" && (machine.status.nodeRef?.name ?? "") !== "" && machine.metadata.deletionTimestamp === undefined;
}

/** The workload cluster's kubeconfig (the `<cluster>-kubeconfig` Secret CAPI wrote), written to `dir`. */
export async function workloadKubeconfig(bed: Testbed, namespace: string, cluster: string, dir: string): Promise<string> {
  const secret = await bed.client.get(SECRET, { namespace, name: `${cluster}-kubeconfig` });
  const path = join(dir, `${cluster}.kubeconfig`);
  await writeFile(path, Buffer.from(secret.data?.value ?? "", "base64").toString("utf8"), { mode: 0o600 });
  return path;
}

/** kubectl on the workload cluster, through the simulator's DNS proxy, as a user on the management host would with HTTPS_PROXY set. */
export async function workloadKubectl(bed: Testbed, kubeconfigPath: string, args: string[]): Promise<string> {
  const { binDir } = await bootBinaries();
  const result = await runKubectl(join(binDir, "kubectl"), kubeconfigPath, args, { env: bed.workloadProxyEnv() ?? {} });
  if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")} on the workload cluster failed: ${result.stderr}`);
  return result.stdout;
}

