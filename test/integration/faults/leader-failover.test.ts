// Two managers with --leader-elect on one Lease, each behind its own proxy to the
// simulator so every MAAS call is known by sender. Twenty machines are rolled out with
// MAAS slow to allocate (1.5 s), and the leader is SIGKILLed while its allocations are
// in flight: MAAS completes them after the leader is gone, with nobody told. The other
// manager takes the Lease once it expires and finishes the rollout, adopting those
// machines rather than allocating again. Checked against MAAS: the follower sent
// nothing before the Lease named it, each MaasMachine was allocated once and ends on
// its own machine, and after the delete every machine is released once, none left.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { kindSpec } from "../../../src/api/v1beta1/index.ts";
import { CAPI_MACHINE } from "../../../src/capi/index.ts";
import type { KubeObject } from "../../../src/runtime/index.ts";
import { Testbed, createNamespace, newWatchFilter, startProviderManager, waitFor, type ProviderProcess } from "../controllers/provider-harness.ts";
import { conditionOf, maasMachinesIn } from "./fault-support.ts";
import { MaasProxy, type ProxiedCall } from "./maas-proxy.ts";
import { leakedAfterDelete, ownershipProblems } from "./maas-invariants.ts";
import { allocationsByObject, notExactly, releasesBySystemId } from "./request-ledger.ts";

const COUNT = 20;
/** The leader dies as it sends this allocation; the ones before it are still in MAAS's hands. */
const KILL_AT_ALLOCATION = 8;
const ALLOCATE_LATENCY_MS = 1_500;

interface Lease extends KubeObject {
  spec?: { holderIdentity?: string; leaseTransitions?: number };
}
const LEASE = kindSpec<Lease>({ group: "coordination.k8s.io", version: "v1", kind: "Lease", plural: "leases", namespaced: true });
const LEASE_NAMESPACE = "default";

interface Replica {
  name: string;
  proxy: MaasProxy;
  process: () => ProviderProcess | undefined;
}

describe("two managers with leader election when the leader is SIGKILLed mid-rollout", () => {
  const leaseName = newWatchFilter("capmaas-failover");
  const electionArgs = ["--leader-elect", `--leader-elect-namespace=${LEASE_NAMESPACE}`, `--leader-elect-id=${leaseName}`];
  let bed: Testbed;
  let proxyA: MaasProxy;
  let proxyB: MaasProxy;
  let processB: ProviderProcess | undefined;
  let ns: string;
  const names = Array.from({ length: COUNT }, (_, i) => `r-${String(i).padStart(2, "0")}`);

  before(async () => {
    proxyA = await MaasProxy.start(() => bed.sim.endpoint);
    proxyB = await MaasProxy.start(() => bed.sim.endpoint);
    bed = new Testbed({
      prefix: "failover",
      simulator: {
        deploySeconds: 2,
        releaseSeconds: 1,
        inventory: {
          zones: [{ name: "zone-a" }],
          domains: [{ name: "maas.test" }],
          bootResources: [{ name: "ubuntu/jammy" }],
          // As many spares, so second allocations would succeed and show as such.
          machines: Array.from({ length: 2 * COUNT }, (_, i) => ({ hostname: `fo-${String(i)}`, cpuCount: 4, memoryMiB: 16384, zone: "zone-a" })),
        },
      },
      managerArgs: electionArgs,
      managerEnv: { MAAS_ENDPOINT: proxyA.endpoint, LOG_LEVEL: "info" },
    });
    // The bed's manager is replica A; B is started beside it on the same Lease.
    await bed.start();
    bed.client.registerKind(LEASE);
    processB = await startProviderManager({
      // The manager's own least-privilege user, as the bed's manager runs (its Lease rights granted by the bed).
      kubeconfigPath: bed.env.managerKubeconfigPath,
      sim: bed.sim,
      watchFilter: bed.filter,
      args: electionArgs,
      env: { MAAS_ENDPOINT: proxyB.endpoint, LOG_LEVEL: "info" },
    });
    ns = await createNamespace(bed.client, "failover");
    await bed.readyCluster(ns, "c1");
  });

  after(async () => {
    // No kill from a hook while the managers stop.
    for (const proxy of [proxyA, proxyB]) if (proxy !== undefined) proxy.hook = undefined;
    await processB?.stop();
    await bed?.stop();
    await proxyA?.close();
    await proxyB?.close();
    await bed?.client.delete(LEASE, { namespace: LEASE_NAMESPACE, name: leaseName }).catch(() => undefined);
  });

  let leader: Replica;
  let follower: Replica;
  let heldAfterRollout: string[] = [];

  it("lets the other manager take over and finish the rollout, sending nothing to MAAS before the Lease names it, allocating each machine once", { timeout: 300_000 }, async () => {
    const replicas: Replica[] = [
      { name: "A", proxy: proxyA, process: () => bed.provider },
      { name: "B", proxy: proxyB, process: () => processB },
    ];
    const leading = await waitFor("one replica leading", async () => {
      const status = await Promise.all(replicas.map(async (r) => ({ r, leads: await leads(r.process(), leaseName) })));
      const leaders = status.filter((s) => s.leads);
      return leaders.length === 1 ? leaders[0]?.r : undefined;
    });
    leader = leading;
    follower = replicas.find((r) => r !== leading) as Replica;
    const leaderIdentity = (await lease()).spec?.holderIdentity ?? "";
    assert.notEqual(leaderIdentity, "");

    // The follower's first MAAS call waits here while the Lease is read: who held it then.
    let holderAtFollowersFirstCall: string | undefined;
    follower.proxy.hook = async (call: ProxiedCall) => {
      if (call.seq === 1) holderAtFollowersFirstCall = (await lease()).spec?.holderIdentity ?? "";
      return undefined;
    };
    let killedAtMs = 0;
    let allocationsSeen = 0;
    leader.proxy.hook = (call) => {
      if (call.op !== "allocate" || ++allocationsSeen !== KILL_AT_ALLOCATION) return undefined;
      killedAtMs = Date.now();
      return "in-flight";
    };
    leader.proxy.kill = () => void leader.process()?.kill();
    bed.sim.setFaults([{ op: "allocate", kind: "latency", latencyMs: ALLOCATE_LATENCY_MS }]);

    await Promise.all(names.map((name) => bed.machineWithData(ns, "c1", name, { minCPU: 2, minMemory: 4096 })));
    await waitFor("the leader killed mid-rollout", () => killedAtMs > 0, 120_000);
    const ready = await waitFor(
      `all ${String(COUNT)} MaasMachines Ready under the new leader`,
      async () => {
        const items = await maasMachinesIn(bed.client, ns);
        return items.length === COUNT && items.every((m) => conditionOf(m, "Ready")?.status === "True") ? items : undefined;
      },
      240_000,
    );
    bed.sim.clearFaults();

    assert.deepEqual(follower.proxy.calls.filter((c) => c.atMs <= killedAtMs), [], "the follower sent nothing while the leader lived");
    const after = await lease();
    assert.equal(holderAtFollowersFirstCall, after.spec?.holderIdentity, "the Lease named the follower when it sent its first MAAS call");
    assert.notEqual(after.spec?.holderIdentity, leaderIdentity, "the Lease changed hands");
    assert.ok(leader.proxy.calls.length > 0, "the leader did the first part of the rollout");
    assert.equal(await leads(follower.process(), leaseName), true);

    const settled = await maasMachinesIn(bed.client, ns);
    assert.deepEqual(ownershipProblems(bed.sim.state(), ns, settled), []);
    const allocations = allocationsByObject(bed.sim.requestLog(), ns);
    assert.equal(allocations.size, COUNT, "every MaasMachine allocated");
    assert.deepEqual(notExactly(allocations, 1), [], "no MaasMachine allocated twice");
    heldAfterRollout = ready.map((m) => m.spec.systemID ?? "");
    assert.equal(new Set(heldAfterRollout).size, COUNT, "each on its own MAAS machine");

    const firstFollowerCall = follower.proxy.calls[0]?.atMs ?? Number.NaN;
    // Allocations the leader sent that MAAS made after it died (the answer was still held back).
    const orphaned = bed.sim.requestLog().filter((e) => e.op === "allocate" && e.status === 200 && Date.parse(e.time) > killedAtMs).length - follower.proxy.calls.filter((c) => c.op === "allocate").length;
    process.stdout.write(
      `# failover: leader ${leader.name} killed as it sent allocation ${String(KILL_AT_ALLOCATION)}, ${String(orphaned)} allocations completed in MAAS after it died; ` +
        `follower ${follower.name}'s first MAAS call ${String(firstFollowerCall - killedAtMs)} ms after the kill; ` +
        `leader sent ${String(leader.proxy.calls.length)} MAAS calls, follower ${String(follower.proxy.calls.length)}\n`,
    );
  });

  it("releases every machine once through the new leader when the Machines are deleted, and leaves none allocated", { timeout: 180_000 }, async () => {
    assert.equal(heldAfterRollout.length, COUNT, "the rollout finished");
    await Promise.all(names.map((name) => bed.client.delete(CAPI_MACHINE, { namespace: ns, name })));
    await waitFor("every MaasMachine gone", async () => (await maasMachinesIn(bed.client, ns)).length === 0, 150_000);
    assert.deepEqual(leakedAfterDelete(bed.sim.state(), ns), []);
    assert.deepEqual(notExactly(releasesBySystemId(bed.sim.requestLog(), heldAfterRollout), 1), [], "each released exactly once (system ID: releases)");
    assert.equal(follower.proxy.calls.filter((c) => c.op === "release").length >= COUNT, true, "the new leader released them");
  });

  async function lease(): Promise<Lease> {
    return bed.client.get(LEASE, { namespace: LEASE_NAMESPACE, name: leaseName });
  }
});

/** Whether this process reports holding the Lease (its leader gauge on /metrics). */
async function leads(process: ProviderProcess | undefined, leaseName: string): Promise<boolean> {
  if (process === undefined || process.child.hasExited) return false;
  const text = await (await fetch(`http://127.0.0.1:${String(process.probePort)}/metrics`)).text();
  return text.includes(`leader_election_master_status{name="${leaseName}"} 1`);
}
