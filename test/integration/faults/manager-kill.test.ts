// The manager SIGKILLed again and again while machines are created and then deleted
// through their Machines (the real Cluster API core manager deletes the MaasMachines),
// restarted at once each time. Kill points are planned from a seed and fired by
// progress (each process dies at its k-th allocate, deploy or release, counted at the
// proxy in front of the simulator): before MAAS gets the call, while MAAS works on it, or
// after MAAS answered and before the manager heard — between allocate and the spec
// write, between deploy and the status, mid-release, before the finalizer removal.
// Deploys take 2 s, so kills land mid-deploy too; points left when the work is done
// strike the manager at rest. Checked against MAAS (the simulator's state and request
// log): every MaasMachine Ready on its own MAAS machine, none allocated twice, then every
// MAAS machine released exactly once and nothing left allocated.
//
// Size: CHAOS_MACHINES (default 30), CHAOS_KILLS (default 15, two thirds while creating),
// CHAOS_SEED (default 1; printed, so a failing plan can be replayed). The full run:
//   CHAOS_MACHINES=100 CHAOS_KILLS=50 node --import tsx test/testenv/with-testenv.ts -- \
//     node --import tsx --test --test-concurrency=1 test/integration/faults/manager-kill.test.ts
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { MaasMachine } from "../../../src/api/v1beta1/index.ts";
import { CAPI_MACHINE } from "../../../src/capi/index.ts";
import { Testbed, createNamespace, waitFor } from "../controllers/provider-harness.ts";
import { conditionOf, maasMachinesIn } from "./fault-support.ts";
import { KillChaos, chaosSizeFromEnv, planKills, type FiredKill } from "./kill-chaos.ts";
import { MaasProxy } from "./maas-proxy.ts";
import { leakedAfterDelete, ownershipProblems } from "./maas-invariants.ts";
import { allocationsByObject, notExactly, releasesBySystemId } from "./request-ledger.ts";

const size = chaosSizeFromEnv(process.env, { machines: 30, kills: 15, seed: 1 });
const { machines: COUNT } = size;
/** Generous: a restart costs a few seconds on a busy 2-core machine, and every machine deploys for 2 s. */
const PHASE_TIMEOUT_MS = 120_000 + COUNT * 2_000 + (size.createKills + size.deleteKills) * 15_000;

describe(`the manager killed with SIGKILL at ${String(size.createKills + size.deleteKills)} planned points (seed ${String(size.seed)})`, () => {
  let proxy: MaasProxy;
  let bed: Testbed;
  let chaos: KillChaos;
  let ns: string;
  const names = Array.from({ length: COUNT }, (_, i) => `m-${String(i).padStart(3, "0")}`);
  const figures: string[] = [];
  let heldAtCreateEnd: string[] = [];

  before(async () => {
    process.stdout.write(`# kill chaos: CHAOS_SEED=${String(size.seed)} CHAOS_MACHINES=${String(COUNT)} CHAOS_KILLS=${String(size.createKills + size.deleteKills)}\n`);
    proxy = await MaasProxy.start(() => bed.sim.endpoint);
    bed = new Testbed({
      prefix: "kill-chaos",
      simulator: {
        seed: size.seed,
        deploySeconds: 2,
        releaseSeconds: 1,
        inventory: {
          zones: [{ name: "zone-a" }],
          domains: [{ name: "maas.test" }],
          bootResources: [{ name: "ubuntu/jammy" }],
          // A spare per kill while creating, so second allocations would succeed and show as such.
          machines: Array.from({ length: COUNT + size.createKills + 2 }, (_, i) => ({ hostname: `kill-${String(i)}`, cpuCount: 4, memoryMiB: 16384, zone: "zone-a" })),
        },
      },
      // Info, not the harness's debug: a hundred machines' MAAS calls would be most of the run's log.
      managerEnv: { MAAS_ENDPOINT: proxy.endpoint, LOG_LEVEL: "info" },
    });
    await bed.start();
    chaos = new KillChaos({
      proxy,
      plan: planKills(size),
      killManager: () => bed.provider?.kill() ?? Promise.resolve(),
      startManager: () => bed.startManager(),
    });
    ns = await createNamespace(bed.client, "kill-chaos");
    await bed.readyCluster(ns, "c1");
  });

  after(async () => {
    await chaos?.detach();
    await bed?.stop();
    await proxy?.close();
    for (const line of figures) process.stdout.write(`# ${line}\n`);
  });

  describe(`when ${String(COUNT)} machines are created and the manager is killed ${String(size.createKills)} times in allocate and deploy`, () => {
    it("brings every MaasMachine to Ready on its own MAAS machine and allocates none twice", { timeout: PHASE_TIMEOUT_MS + 60_000 }, async () => {
      const startedAt = Date.now();
      chaos.enter("create");
      await inParallel(names, 8, (name) => bed.machineWithData(ns, "c1", name, { minCPU: 2, minMemory: 4096 }));
      const ready = await waitFor(
        `all ${String(COUNT)} MaasMachines Ready`,
        async () => {
          const items = await maasMachinesIn(bed.client, ns);
          return items.length === COUNT && items.every(isReady) ? items : undefined;
        },
        PHASE_TIMEOUT_MS,
      );
      await chaos.settle();
      const createMs = Date.now() - startedAt;

      assert.deepEqual(chaos.errors, [], "every restart succeeded");
      assert.deepEqual(proxy.hookErrors, []);
      const fired = chaos.fired.filter((k) => k.phase === "create");
      assert.equal(fired.length, size.createKills, "every planned kill fired");
      assert.equal(chaos.restarts, chaos.fired.length, "a restart after every kill");
      // The objects as MAAS sees them now: settled, each holding exactly its own machine.
      const settled = await maasMachinesIn(bed.client, ns);
      assert.equal(settled.filter(isReady).length, COUNT, "still Ready after the last kill");
      assert.deepEqual(ownershipProblems(bed.sim.state(), ns, settled), []);
      const allocations = allocationsByObject(bed.sim.requestLog(), ns);
      assert.equal(allocations.size, COUNT, "every MaasMachine allocated");
      assert.deepEqual(notExactly(allocations, 1), [], "no MaasMachine allocated twice");
      heldAtCreateEnd = ready.map((m) => m.spec.systemID ?? "");
      assert.equal(new Set(heldAtCreateEnd).size, COUNT, "each on its own MAAS machine");

      figures.push(
        `create: ${String(COUNT)} machines Ready in ${seconds(createMs)} s; ${String(fired.length)} kills (${describeKills(fired)}), ` +
          `${String(chaos.restarts)} restarts so far, ${String(chaos.callsOf("create", "allocate"))} allocate and ${String(chaos.callsOf("create", "deploy"))} deploy calls seen, ` +
          `${String([...allocations.values()].reduce((a, b) => a + b, 0))} allocations, 0 double`,
      );
    });
  });

  describe(`when they are deleted through their Machines and the manager is killed ${String(size.deleteKills)} times in release`, () => {
    it("releases every MAAS machine exactly once and leaves nothing allocated", { timeout: PHASE_TIMEOUT_MS + 60_000 }, async () => {
      assert.equal(heldAtCreateEnd.length, COUNT, "the create phase finished");
      const startedAt = Date.now();
      const restartsBefore = chaos.restarts;
      chaos.enter("delete");
      await inParallel(names, 8, (name) => bed.client.delete(CAPI_MACHINE, { namespace: ns, name }));
      await waitFor(
        "every MaasMachine and Machine gone",
        async () => (await maasMachinesIn(bed.client, ns)).length === 0 && (await bed.client.list(CAPI_MACHINE, { namespace: ns })).items.length === 0,
        PHASE_TIMEOUT_MS,
      );
      await chaos.settle();
      const deleteMs = Date.now() - startedAt;

      assert.deepEqual(chaos.errors, [], "every restart succeeded");
      const fired = chaos.fired.filter((k) => k.phase === "delete");
      assert.equal(fired.length, size.deleteKills, "every planned kill fired");
      assert.equal(chaos.restarts, chaos.fired.length, "a restart after every kill");
      assert.deepEqual(leakedAfterDelete(bed.sim.state(), ns), []);
      const releases = releasesBySystemId(bed.sim.requestLog(), heldAtCreateEnd);
      assert.deepEqual(notExactly(releases, 1), [], "each MAAS machine released exactly once (system ID: releases)");

      figures.push(
        `delete: ${String(COUNT)} machines released in ${seconds(deleteMs)} s; ${String(fired.length)} kills (${describeKills(fired)}), ` +
          `${String(chaos.restarts - restartsBefore)} restarts, ${String([...releases.values()].reduce((a, b) => a + b, 0))} releases, 0 leaked`,
      );
      const restartMs = [...chaos.restartMs].sort((a, b) => a - b);
      figures.push(
        `total: ${String(chaos.fired.length)} kills, ${String(chaos.restarts)} restarts, SIGKILL to ready ` +
          `median ${seconds(restartMs[Math.floor(restartMs.length / 2)] ?? 0)} s, max ${seconds(restartMs.at(-1) ?? 0)} s`,
      );
    });
  });
});

function isReady(m: MaasMachine): boolean {
  return conditionOf(m, "Ready")?.status === "True";
}

/** e.g. "allocate/after 3, deploy/before 2, at rest 1". */
function describeKills(kills: readonly FiredKill[]): string {
  const counts = new Map<string, number>();
  for (const k of kills) {
    const key = k.onCall ? `${k.op}/${k.moment}` : "at rest";
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort().map(([key, n]) => `${key} ${String(n)}`).join(", ");
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}

async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
