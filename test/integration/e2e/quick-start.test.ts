// The spec's quick start, its migration guide both ways, scaling and deleting, run for
// real on one workload cluster: clusterctl generates the ephemeral flavor, the Cluster
// API managers and ours bring it up on simulated MAAS machines that boot (kubeadm init
// on the control-plane machine starts a real etcd and kube-apiserver; the workers join
// as Nodes), and the stories follow each other on that cluster.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { MAAS_MACHINE, type MaasMachine } from "../../../src/api/v1beta1/index.ts";
import { CAPI_CLUSTER } from "../../../src/capi/index.ts";
import { MachineStatus } from "../../../src/sim/status.ts";
import type { ClusterctlSandbox } from "../clusterctl/clusterctl-harness.ts";
import { createNamespace, type Testbed } from "../controllers/provider-harness.ts";
import {
  KUBEADM_CONTROL_PLANE,
  MACHINE_DEPLOYMENT,
  clusterAvailable,
  generateAndApply,
  isRunningWithNode,
  machinesOf,
  startE2eBed,
  waitForCluster,
  workloadKubeconfig,
  workloadKubectl,
} from "./e2e-bed.ts";

const CLUSTER = "quick";
const DEPLOYMENT = `${CLUSTER}-md-0`;
const MAAS_TEMPLATE_KIND = "MaasMachineTemplate";

interface WorkloadNode {
  metadata: { name: string };
  spec?: { providerID?: string };
  status?: { conditions?: Array<{ type: string; status: string }> };
}

describe("the spec's quick start and migration guide, on machines that boot", () => {
  let bed: Testbed;
  let clusterctl: ClusterctlSandbox;
  let ns: string;
  let dir: string;
  let kubeconfig: string;
  const timings: Record<string, number> = {};

  before(async () => {
    ({ bed, clusterctl } = await startE2eBed("e2e-quick"));
    ns = await createNamespace(bed.client, "quick");
    dir = await mkdtemp(join(tmpdir(), "e2e-quick-"));
  });
  after(async () => {
    if (Object.keys(timings).length > 0) process.stdout.write(`# e2e timings (s): ${JSON.stringify(timings)}\n`);
    await clusterctl.remove();
    await bed.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const maasMachines = async (): Promise<MaasMachine[]> => (await bed.client.list(MAAS_MACHINE, { namespace: ns })).items;
  const workerMaasMachines = async (): Promise<MaasMachine[]> => (await maasMachines()).filter((m) => m.metadata.labels?.["cluster.x-k8s.io/deployment-name"] === DEPLOYMENT);
  const nodes = async (): Promise<WorkloadNode[]> => (JSON.parse(await workloadKubectl(bed, kubeconfig, ["get", "nodes", "-o", "json"])) as { items: WorkloadNode[] }).items;

  /** Waits until the MachineDeployment has `replicas` Machines Running with Nodes, all from `template`, and no other Machine. */
  const workersSettled = async (replicas: number, template: string, timeoutMs: number): Promise<void> => {
    await waitForCluster(bed, ns, CLUSTER, `${String(replicas)} workers from ${template}, Running with Nodes`, async () => {
      const md = await bed.client.get(MACHINE_DEPLOYMENT, { namespace: ns, name: DEPLOYMENT });
      const status = md.status as { replicas?: number; readyReplicas?: number; availableReplicas?: number; upToDateReplicas?: number } | undefined;
      if (status?.replicas !== replicas || status.availableReplicas !== replicas || status.upToDateReplicas !== replicas) return false;
      const machines = await machinesOf(bed, ns, CLUSTER, DEPLOYMENT);
      if (machines.length !== replicas || !machines.every(isRunningWithNode)) return false;
      const workers = await workerMaasMachines();
      return workers.length === replicas && workers.every((m) => m.metadata.annotations?.["cluster.x-k8s.io/cloned-from-name"] === template);
    }, timeoutMs);
  };

  /** Every held MAAS machine belongs to a MaasMachine of the cluster, and each MaasMachine holds one. */
  const nothingLeaked = async (): Promise<void> => {
    // A released machine keeps its owner until MAAS finishes Releasing.
    await waitForCluster(bed, ns, CLUSTER, "MAAS holding exactly the MaasMachines' machines", async () => {
      const held = bed.sim.state().machines.filter((m) => m.owner !== null).map((m) => m.systemId).sort();
      const claimed = (await maasMachines()).map((m) => m.spec.systemID ?? "").sort();
      return JSON.stringify(held) === JSON.stringify(claimed);
    }, 60_000);
  };

  it("quick start: the ephemeral flavor as clusterctl generates it becomes an Available cluster of in-memory machines that are Nodes", async () => {
    const started = Date.now();
    await generateAndApply(bed, clusterctl, "ephemeral", CLUSTER, ns);
    await clusterAvailable(bed, ns, CLUSTER, 600_000);
    timings.available = (Date.now() - started) / 1000;

    const kcp = await bed.client.get(KUBEADM_CONTROL_PLANE, { namespace: ns, name: `${CLUSTER}-control-plane` });
    assert.equal(kcp.status?.readyReplicas, 1);
    assert.equal(kcp.status?.availableReplicas, 1);
    await workersSettled(2, DEPLOYMENT, 120_000);
    const machines = await machinesOf(bed, ns, CLUSTER);
    assert.equal(machines.length, 3);
    assert.ok(machines.every(isRunningWithNode), JSON.stringify(machines.map((m) => m.status)));

    kubeconfig = await workloadKubeconfig(bed, ns, CLUSTER, dir);
    const workloadNodes = await nodes();
    const byName = new Map(workloadNodes.map((n) => [n.metadata.name, n]));
    const state = bed.sim.state();
    for (const maasMachine of await maasMachines()) {
      const machine = machines.find((m) => m.spec.infrastructureRef?.name === maasMachine.metadata.name);
      const node = byName.get(machine?.status?.nodeRef?.name ?? "");
      assert.ok(node !== undefined, `no workload Node for ${maasMachine.metadata.name}`);
      const simMachine = state.machines.find((m) => m.systemId === maasMachine.spec.systemID);
      assert.equal(node.metadata.name, simMachine?.hostname, "the Node is named like the MAAS hostname");
      const zone = state.zones.find((z) => z.id === simMachine?.zoneId)?.name ?? "";
      assert.equal(node.spec?.providerID, `maas:///${zone}/${simMachine?.systemId ?? ""}`);
      assert.equal(node.status?.conditions?.find((c) => c.type === "Ready")?.status, "True");
      assert.equal(simMachine?.status, MachineStatus.DEPLOYED);
      assert.equal(simMachine?.ephemeralDeploy, true, `${simMachine?.hostname ?? ""} is deployed into memory`);
      assert.equal(maasMachine.status?.deploymentTarget, "memory");
    }
    assert.equal(workloadNodes.length, 3);
    // The endpoint every manager reached: the MAAS DNS record the provider points at the control plane.
    const controlPlane = state.machines.find((m) => m.hostname === machines.find((m) => m.metadata.labels?.["cluster.x-k8s.io/control-plane"] !== undefined)?.status?.nodeRef?.name);
    assert.deepEqual(state.dnsResources.find((r) => r.name === CLUSTER)?.ipAddresses, controlPlane?.ipAddresses);
    await nothingLeaked();
  });

  it("migration guide: switching the workers' template to a disk one replaces them one by one with disk machines, and back to memory", async () => {
    const ephemeralTemplate = DEPLOYMENT;
    const diskTemplate = `${DEPLOYMENT}-disk`;
    const current = await bed.env.kubectl(["get", MAAS_TEMPLATE_KIND, "-n", ns, ephemeralTemplate, "-o", "json"]);
    assert.equal(current.code, 0, current.stderr);
    const template = JSON.parse(current.stdout) as { metadata: Record<string, unknown>; spec: { template: { spec: Record<string, unknown> } } };
    const disk = {
      apiVersion: "infrastructure.cluster.x-k8s.io/v1beta1",
      kind: MAAS_TEMPLATE_KIND,
      metadata: { name: diskTemplate, namespace: ns, labels: template.metadata.labels },
      spec: { template: { spec: { ...template.spec.template.spec, ephemeral: false } } },
    };
    const created = await bed.env.kubectl(["apply", "-f", "-"], { input: JSON.stringify(disk) });
    assert.equal(created.code, 0, created.stderr);

    const switchTo = async (name: string): Promise<void> => {
      const patch = { spec: { template: { spec: { infrastructureRef: { name } } } } };
      const patched = await bed.env.kubectl(["patch", "machinedeployment", DEPLOYMENT, "-n", ns, "--type", "merge", "-p", JSON.stringify(patch)]);
      assert.equal(patched.code, 0, patched.stderr);
    };
    const before = new Set((await workerMaasMachines()).map((m) => m.spec.systemID));

    let started = Date.now();
    await switchTo(diskTemplate);
    await workersSettled(2, diskTemplate, 600_000);
    timings.migrateToDisk = (Date.now() - started) / 1000;
    const onDisk = await workerMaasMachines();
    for (const worker of onDisk) {
      assert.equal(worker.spec.ephemeral, false);
      assert.equal(worker.status?.deploymentTarget, "disk");
      assert.equal(bed.sim.state().machines.find((m) => m.systemId === worker.spec.systemID)?.ephemeralDeploy, false);
    }
    // maxSurge 1, maxUnavailable 0: the MachineDeployment never ran fewer than 2 workers, so each old one went only after a new one was up.
    // Each replaced worker's MAAS machine was released (MAAS may hand the same machine to a new worker afterwards).
    const released = new Set(bed.sim.requestLog().filter((e) => e.op === "release" && e.status === 200).map((e) => /\/machines\/([^/]+)\/$/.exec(e.path)?.[1]));
    for (const systemId of before) assert.ok(released.has(systemId), `${String(systemId)} released`);
    await clusterAvailable(bed, ns, CLUSTER, 120_000);
    await nothingLeaked();

    started = Date.now();
    await switchTo(ephemeralTemplate);
    await workersSettled(2, ephemeralTemplate, 600_000);
    timings.migrateToMemory = (Date.now() - started) / 1000;
    for (const worker of await workerMaasMachines()) {
      assert.equal(worker.spec.ephemeral, true);
      assert.equal(bed.sim.state().machines.find((m) => m.systemId === worker.spec.systemID)?.ephemeralDeploy, true);
    }
    await clusterAvailable(bed, ns, CLUSTER, 120_000);
    await nothingLeaked();
    const names = (await nodes()).map((n) => n.metadata.name);
    assert.equal(names.length, 3, `the replaced workers' Nodes are gone: ${names.join(", ")}`);
  });

  it("scales the workers 2 → 3 → 1, allocating and releasing MAAS machines to match", async () => {
    const scale = async (replicas: number): Promise<void> => {
      const patched = await bed.env.kubectl(["scale", "machinedeployment", DEPLOYMENT, "-n", ns, `--replicas=${String(replicas)}`]);
      assert.equal(patched.code, 0, patched.stderr);
    };
    let started = Date.now();
    await scale(3);
    await workersSettled(3, DEPLOYMENT, 300_000);
    timings.scaleTo3 = (Date.now() - started) / 1000;
    assert.equal(bed.heldMachines().length, 4);
    await nothingLeaked();

    started = Date.now();
    await scale(1);
    await workersSettled(1, DEPLOYMENT, 300_000);
    timings.scaleTo1 = (Date.now() - started) / 1000;
    await waitForCluster(bed, ns, CLUSTER, "two MAAS machines held (the others released)", () => Promise.resolve(bed.heldMachines().length === 2), 60_000);
    await nothingLeaked();
    assert.equal((await nodes()).length, 2);
  });

  it("deleting the Cluster releases every MAAS machine, removes the DNS resource and stops every workload process", async () => {
    const pids = (bed.sim.bootState()?.machines ?? []).flatMap((m) => Object.values(m.pids));
    assert.ok(pids.length >= 3, `the control-plane machine runs etcd, kube-apiserver and the kubelet stub: ${JSON.stringify(pids)}`);
    const started = Date.now();
    await bed.client.delete(CAPI_CLUSTER, { namespace: ns, name: CLUSTER });
    await waitForCluster(bed, ns, CLUSTER, "the Cluster gone", async () => {
      const list = await bed.client.list(CAPI_CLUSTER, { namespace: ns });
      return list.items.length === 0;
    }, 300_000);
    timings.delete = (Date.now() - started) / 1000;
    await waitForCluster(bed, ns, CLUSTER, "every MAAS machine released", () => Promise.resolve(bed.heldMachines().length === 0), 60_000);
    const state = bed.sim.state();
    assert.deepEqual(state.dnsResources.filter((r) => r.name === CLUSTER), []);
    // A released machine's processes stop after the release answers: the kubelet stub, kube-apiserver (given its grace), then etcd.
    await waitForCluster(bed, ns, CLUSTER, "every workload process stopped", () => Promise.resolve((bed.sim.bootState()?.machines ?? []).every((m) => Object.keys(m.pids).length === 0)), 60_000);
    timings.processesStopped = (Date.now() - started) / 1000;
    for (const pid of pids) assert.throws(() => process.kill(pid, 0), `pid ${String(pid)} stopped`);
  });
});
