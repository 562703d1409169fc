// `clusterctl move` of a whole cluster, for real: the ephemeral flavor brought up to
// Available by the Cluster API managers and ours on one management cluster, moved by the
// real clusterctl to a second management cluster (a control plane of its own, with the
// same managers) in front of the same MAAS, then scaled and deleted there. MAAS must not
// notice the move: no machine is released, allocated or redeployed, and the machines'
// workload processes keep running; the first management cluster keeps nothing of the
// cluster, finalizers included; the second one's managers take the cluster over.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { MAAS_MACHINE, type MaasMachine } from "../../../src/api/v1beta1/index.ts";
import { CAPI_CLUSTER } from "../../../src/capi/index.ts";
import type { RequestLogEntry } from "../../../src/sim/types.ts";
import { startTestEnv, type TestEnv } from "../../testenv/index.ts";
import type { ClusterctlSandbox } from "../clusterctl/clusterctl-harness.ts";
import { createNamespace, type Testbed } from "../controllers/provider-harness.ts";
import {
  MACHINE_DEPLOYMENT,
  clusterAvailable,
  condition,
  generateAndApply,
  isRunningWithNode,
  machinesOf,
  startE2eBed,
  waitForCluster,
  workloadKubeconfig,
  workloadKubectl,
} from "./e2e-bed.ts";
import { asClusterctlInitLeavesIt, startSecondManagement, type ManagementCluster } from "./second-management.ts";

const CLUSTER = "moved";
const DEPLOYMENT = `${CLUSTER}-md-0`;

interface Listed {
  kind: string;
  metadata: { name: string; finalizers?: string[] };
}

/** Every Secret and Cluster API or MAAS object of the namespace (the kinds of the CRDs the control plane started with). */
async function clusterObjects(env: TestEnv, namespace: string): Promise<Listed[]> {
  const listed = await env.kubectl(["get", ["secrets", ...env.crds].join(","), "-n", namespace, "-o", "json"]);
  assert.equal(listed.code, 0, listed.stderr);
  return (JSON.parse(listed.stdout) as { items: Listed[] }).items;
}

const names = (objects: readonly Listed[]): string[] => objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();

/** What MAAS says of a machine someone holds: who, in which state, running what. */
function heldMachine(bed: Testbed, systemId: string): Record<string, unknown> {
  const m = bed.sim.state().machines.find((machine) => machine.systemId === systemId);
  const boot = bed.sim.bootState()?.machines.find((machine) => machine.systemId === systemId);
  return { systemId, owner: m?.owner, agentName: m?.agentName, status: m?.status, powerState: m?.powerState, ephemeralDeploy: m?.ephemeralDeploy, deployedAt: boot?.deployedAt, pids: boot?.pids };
}

/** Calls after `afterSeq` that change something in MAAS; a dry-run allocation (a template's capacity) changes nothing. */
function maasChanges(log: readonly RequestLogEntry[], afterSeq: number): string[] {
  return log
    .filter((e) => e.seq > afterSeq && e.method !== "GET" && !(e.op === "allocate" && e.params.dry_run === "true"))
    .map((e) => `${e.method} ${e.path}${e.op === null ? "" : `?op=${e.op}`} → ${String(e.status)}`);
}

describe("clusterctl move of a whole cluster to a second management cluster in front of the same MAAS", () => {
  let sourceEnv: TestEnv | undefined;
  let source: Testbed | undefined;
  let clusterctl: ClusterctlSandbox | undefined;
  let second: ManagementCluster | undefined;
  let ns: string;
  let dir: string | undefined;
  const timings: Record<string, number> = {};
  const started = Date.now();

  // Filled by the move, read by the takeover.
  let beforeMove: { objects: string[]; systemIds: Map<string, string>; held: Array<Record<string, unknown>>; dns: unknown; seq: number };

  const from = (): Testbed => source ?? assert.fail("the first management cluster did not start");
  const fromEnv = (): TestEnv => sourceEnv ?? assert.fail("the first control plane did not start");
  const to = (): Testbed => second?.bed ?? assert.fail("the second management cluster did not start");
  const toEnv = (): TestEnv => second?.env ?? assert.fail("the second control plane did not start");
  const sandbox = (): ClusterctlSandbox => clusterctl ?? assert.fail("no clusterctl sandbox");
  const maasMachines = async (bed: Testbed): Promise<MaasMachine[]> => (await bed.client.list(MAAS_MACHINE, { namespace: ns })).items;
  const dnsRecord = (): unknown => from().sim.state().dnsResources.filter((r) => r.name === CLUSTER).map((r) => ({ name: r.name, ips: r.ipAddresses }));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "e2e-move-"));
    // Both management clusters on control planes of their own: clusterctl's labels and
    // inventory stay out of the shared one.
    sourceEnv = await startTestEnv({ log: () => undefined });
    ({ bed: source, clusterctl } = await startE2eBed("e2e-move", sourceEnv));
    ns = await createNamespace(source.client, "move");
    await asClusterctlInitLeavesIt(sourceEnv, clusterctl);
  });
  after(async () => {
    timings.wholeTest = (Date.now() - started) / 1000;
    process.stdout.write(`# e2e move timings (s): ${JSON.stringify(timings)}\n`);
    // Each one stopped even when another fails to stop: the second cluster's managers before the simulator they use.
    const stops = [() => second?.bed.stop(), () => second?.env.stop(), () => source?.stop(), () => sourceEnv?.stop(), () => clusterctl?.remove()];
    const failures: unknown[] = [];
    for (const stop of stops) await Promise.resolve(stop()).catch((err: unknown) => failures.push(err));
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    if (failures.length > 0) throw new AggregateError(failures, "stopping the test beds failed");
  });

  it("the ephemeral flavor becomes Available on the first management cluster while the second one starts", async () => {
    const t0 = Date.now();
    const bed = from();
    const [starting, available] = await Promise.allSettled([
      startSecondManagement(bed, "e2e-move-target").then(async (management) => {
        second = management;
        await asClusterctlInitLeavesIt(management.env, sandbox());
      }),
      (async () => {
        await generateAndApply(bed, sandbox(), "ephemeral", CLUSTER, ns, { WORKER_MACHINE_COUNT: "1" });
        await clusterAvailable(bed, ns, CLUSTER, 600_000);
        await waitForCluster(bed, ns, CLUSTER, "the control-plane machine and the worker Running with Nodes", async () => {
          const machines = await machinesOf(bed, ns, CLUSTER);
          return machines.length === 2 && machines.every(isRunningWithNode);
        }, 180_000);
      })(),
    ]);
    for (const outcome of [starting, available]) if (outcome.status === "rejected") throw outcome.reason;
    timings.availableOnSource = (Date.now() - t0) / 1000;
    assert.equal(bed.heldMachines().length, 2);
  });

  it("clusterctl move takes every Cluster API and MAAS object to the second management cluster and leaves none, nor a finalizer, on the first", async () => {
    const bed = from();
    const objects = await clusterObjects(fromEnv(), ns);
    const kinds = objects.map((o) => o.kind);
    for (const [kind, count] of [["MaasCluster", 1], ["MaasMachine", 2], ["MaasMachineTemplate", 2], ["Machine", 2], ["Cluster", 1]] as const) {
      assert.equal(kinds.filter((k) => k === kind).length, count, `${kind} on the first management cluster: ${names(objects).join(", ")}`);
    }
    const systemIds = new Map((await maasMachines(bed)).map((m) => [m.metadata.name, m.spec.systemID ?? ""]));
    const held = [...systemIds.values()].sort().map((id) => heldMachine(bed, id));
    beforeMove = { objects: names(objects), systemIds, held, dns: dnsRecord(), seq: bed.sim.requestLog().at(-1)?.seq ?? 0 };
    assert.equal((beforeMove.dns as unknown[]).length, 1, "the cluster's MAAS DNS resource");

    const t0 = Date.now();
    const moved = await sandbox().clusterctlRun(
      ["move", "--kubeconfig", bed.env.kubeconfigPath, "--to-kubeconfig", to().env.kubeconfigPath, "--namespace", ns],
      { timeoutMs: 300_000 },
    );
    timings.move = (Date.now() - t0) / 1000;
    assert.equal(moved.code, 0, `clusterctl move failed:\n${moved.stderr}\n${moved.stdout}`);
    // The first management cluster's managers saw every object deleted: none of that reached MAAS.
    assert.deepEqual(maasChanges(bed.sim.requestLog(), beforeMove.seq), [], "MAAS was asked to change nothing");

    const left = await clusterObjects(fromEnv(), ns);
    assert.deepEqual(left.map((o) => `${o.kind}/${o.metadata.name} finalizers=${JSON.stringify(o.metadata.finalizers ?? [])}`), []);
    assert.deepEqual(names(await clusterObjects(toEnv(), ns)), beforeMove.objects);
  });

  it("the second management cluster's managers take the cluster over: Available again, the same MAAS machines Ready, nothing released, allocated or redeployed", async () => {
    const bed = to();
    const t0 = Date.now();
    await clusterAvailable(bed, ns, CLUSTER, 300_000);
    await waitForCluster(bed, ns, CLUSTER, "both Machines Running with Nodes and both MaasMachines Ready on the second management cluster", async () => {
      const machines = await machinesOf(bed, ns, CLUSTER);
      const maas = await maasMachines(bed);
      return machines.length === 2 && machines.every(isRunningWithNode) &&
        maas.length === 2 && maas.every((m) => condition(m, "Ready")?.status === "True" && m.status?.initialization?.provisioned === true);
    }, 180_000);
    timings.takeover = (Date.now() - t0) / 1000;

    const cluster = await bed.client.get(CAPI_CLUSTER, { namespace: ns, name: CLUSTER });
    assert.equal(cluster.spec?.paused ?? false, false, "clusterctl unpaused the moved Cluster");
    const now = new Map((await maasMachines(bed)).map((m) => [m.metadata.name, m.spec.systemID ?? ""]));
    assert.deepEqual(now, beforeMove.systemIds, "each MaasMachine names the MAAS machine it held before the move");
    assert.deepEqual(maasChanges(bed.sim.requestLog(), beforeMove.seq), [], "MAAS was asked to change nothing");
    assert.deepEqual([...now.values()].sort().map((id) => heldMachine(bed, id)), beforeMove.held, "MAAS holds the same machines, deployed once, their workload processes running");
    assert.deepEqual(dnsRecord(), beforeMove.dns);
  });

  it("scaling the MachineDeployment on the second management cluster allocates a new MAAS machine whose Node joins", async () => {
    const bed = to();
    const t0 = Date.now();
    const scaled = await bed.env.kubectl(["scale", "machinedeployment", DEPLOYMENT, "-n", ns, "--replicas=2"]);
    assert.equal(scaled.code, 0, scaled.stderr);
    await waitForCluster(bed, ns, CLUSTER, "two workers Running with Nodes", async () => {
      const md = await bed.client.get(MACHINE_DEPLOYMENT, { namespace: ns, name: DEPLOYMENT });
      if ((md.status as { availableReplicas?: number } | undefined)?.availableReplicas !== 2) return false;
      const workers = await machinesOf(bed, ns, CLUSTER, DEPLOYMENT);
      return workers.length === 2 && workers.every(isRunningWithNode);
    }, 300_000);
    timings.scaleOnTarget = (Date.now() - t0) / 1000;

    const added = (await maasMachines(bed)).filter((m) => !beforeMove.systemIds.has(m.metadata.name));
    assert.equal(added.length, 1);
    const systemId = added[0]?.spec.systemID ?? "";
    assert.ok(![...beforeMove.systemIds.values()].includes(systemId), "a machine MAAS did not hold for the cluster before");
    assert.equal(bed.allocationsFor(ns, added[0]?.metadata.name ?? "").length, 1, "allocated once, for the MaasMachine the second management cluster made");
    assert.equal(bed.heldMachines().length, 3);
    const kubeconfig = await workloadKubeconfig(bed, ns, CLUSTER, dir ?? assert.fail("no temp dir"));
    const nodes = (JSON.parse(await workloadKubectl(bed, kubeconfig, ["get", "nodes", "-o", "json"])) as { items: Array<{ spec?: { providerID?: string } }> }).items;
    assert.equal(nodes.length, 3);
    assert.ok(nodes.some((n) => n.spec?.providerID?.endsWith(`/${systemId}`)), `a Node for ${systemId}: ${JSON.stringify(nodes.map((n) => n.spec?.providerID))}`);
  });

  it("deleting the Cluster on the second management cluster releases every MAAS machine and removes the DNS resource", async () => {
    const bed = to();
    const t0 = Date.now();
    await bed.client.delete(CAPI_CLUSTER, { namespace: ns, name: CLUSTER });
    await waitForCluster(bed, ns, CLUSTER, "the Cluster gone", async () => (await bed.client.list(CAPI_CLUSTER, { namespace: ns })).items.length === 0, 300_000);
    await waitForCluster(bed, ns, CLUSTER, "every MAAS machine released", () => Promise.resolve(bed.heldMachines().length === 0), 60_000);
    timings.deleteOnTarget = (Date.now() - t0) / 1000;
    assert.deepEqual(dnsRecord(), []);
    // What only owner references tie to the Cluster waits for a garbage collector the test control planes do not run.
    assert.deepEqual(names(await clusterObjects(toEnv(), ns)).filter((n) => /^(MaasCluster|MaasMachine|Machine|Cluster)\//.test(n)), []);
  });
});
