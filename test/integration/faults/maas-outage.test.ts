// MAAS down for 60 s: the simulator stops listening (connections refused, not 503s)
// while MaasMachines are at every stage (deployed, deploying, allocated and waiting to
// deploy, one created and one deleted during the outage), then comes back on the same
// port from its state file. While it is down the conditions say so, naming the
// endpoint and nothing secret, the manager stays ready and nothing is lost or changed
// for the worse; afterwards every machine converges, and delete leaves nothing held.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  MAAS_CLUSTER,
  MaasReachableCondition,
  MaasUnavailableReason,
  MachineDeployedCondition,
  MachineDeployingReason,
} from "../../../src/api/v1beta1/index.ts";
import { CAPI_MACHINE } from "../../../src/capi/index.ts";
import type { SimulatorOptions } from "../../../src/sim/types.ts";
import { Testbed, createNamespace, startProviderSimulator, waitFor } from "../controllers/provider-harness.ts";
import { allReady, assertOwnership, conditionOf, deleteAllAndAssertReleased, keyParts, maasMachinesIn } from "./fault-support.ts";

/** The figure. */
const OUTAGE_MS = 60_000;
const STAGES = ["deployed", "deploying", "allocated", "new", "deleted"] as const;
type Stage = (typeof STAGES)[number];
const systemIdOf = (stage: Stage): string => `out${stage}`;

/** One MAAS machine per stage, each with a tag of its own, so each MaasMachine gets a known one. */
const simulator: Partial<SimulatorOptions> = {
  seed: 23,
  inventory: {
    zones: [{ name: "zone-a" }],
    domains: [{ name: "maas.test" }],
    bootResources: [{ name: "ubuntu/jammy" }],
    machines: STAGES.map((stage) => ({
      hostname: `outage-${stage}`,
      systemId: systemIdOf(stage),
      cpuCount: 4,
      memoryMiB: 16384,
      zone: "zone-a",
      tags: [`stage-${stage}`],
      // Still deploying when MAAS goes down; done by the time it is back.
      ...(stage === "deploying" ? { deploySeconds: 40 } : {}),
    })),
  },
};

describe("when MAAS is down for 60 s", () => {
  let stateDir = "";
  let options: Partial<SimulatorOptions> = {};
  let bed: Testbed;
  before(async () => {
    stateDir = await mkdtemp(join(tmpdir(), "outage-"));
    options = { ...simulator, stateFile: join(stateDir, "maas.json") };
    bed = new Testbed({ prefix: "outage", simulator: options, managerArgs: ["--maas-watch-interval=10s"] });
    await bed.start();
  });
  after(async () => {
    await bed?.stop();
    await rm(stateDir, { recursive: true, force: true });
  });

  it("says so on every object while the manager stays ready, loses nothing, and converges once MAAS is back", async () => {
    const ns = await createNamespace(bed.client, "outage");
    await bed.readyCluster(ns, "c1");
    const create = (stage: Stage) => bed.machineWithData(ns, "c1", stage, { minCPU: 2, minMemory: 4096, tags: [`stage-${stage}`] });

    // ── Before: machines at every stage ──
    await create("deployed");
    await create("deleted");
    await bed.readyMaasMachine(ns, "deployed");
    await bed.readyMaasMachine(ns, "deleted");
    // MAAS refuses this one's deploy for now, so it waits allocated.
    bed.sim.setFaults([{ kind: "unavailable", op: "deploy", path: `^/machines/${systemIdOf("allocated")}/$`, retryAfterSeconds: 1 }]);
    await create("allocated");
    await waitFor("allocated, its deploy refused", async () => {
      const m = await bed.maasMachine(ns, "allocated");
      return m.spec.systemID === systemIdOf("allocated") && conditionOf(m, MachineDeployedCondition)?.reason === MaasUnavailableReason;
    });
    await create("deploying");
    await bed.waitForCondition(ns, "deploying", MachineDeployedCondition, MachineDeployingReason);
    const before = new Map((await maasMachinesIn(bed.client, ns)).map((m) => [m.metadata.name, m]));

    // ── MAAS goes away: nothing listens on its port ──
    const { endpoint, apiKey, port } = bed.sim;
    const logBefore = bed.sim.requestLog();
    await bed.sim.close();
    const downAt = Date.now();
    await assert.rejects(fetch(`${endpoint}/api/2.0/version/`), "connections are refused");

    await create("new");
    await bed.client.delete(CAPI_MACHINE, { namespace: ns, name: "deleted" });

    const reachable = (object: Parameters<typeof conditionOf>[0]) => conditionOf(object, MaasReachableCondition);
    await waitFor(
      "every MaasMachine and the MaasCluster saying MAAS is unavailable",
      async () => {
        const machines = await maasMachinesIn(bed.client, ns);
        const cluster = await bed.client.get(MAAS_CLUSTER, { namespace: ns, name: "c1" });
        return machines.length === STAGES.length && [...machines, cluster].every((o) => reachable(o)?.reason === MaasUnavailableReason);
      },
      OUTAGE_MS / 2,
    );

    // Everything the objects say while MAAS is down, checked until the outage has lasted its 60 s.
    const secrets = keyParts(apiKey);
    let checks = 0;
    while (Date.now() - downAt < OUTAGE_MS) {
      const probe = await fetch(`http://127.0.0.1:${String(bed.provider?.probePort ?? 0)}/readyz`);
      assert.equal(probe.status, 200, "the manager stays ready");
      const now = new Map((await maasMachinesIn(bed.client, ns)).map((m) => [m.metadata.name, m]));
      const cluster = await bed.client.get(MAAS_CLUSTER, { namespace: ns, name: "c1" });
      for (const object of [...now.values(), cluster]) {
        const condition = reachable(object);
        assert.equal(condition?.status, "False", `${object.metadata.name}: MaasReachable`);
        assert.equal(condition?.reason, MaasUnavailableReason);
        assert.ok(condition?.message?.includes(endpoint), `${object.metadata.name}: the message names ${endpoint}: ${condition?.message ?? ""}`);
        for (const secret of secrets) assert.ok(!JSON.stringify(object.status).includes(secret), `${object.metadata.name}: no part of the API key in its status`);
      }
      for (const [name, was] of before) {
        const is = now.get(name);
        assert.ok(is !== undefined, `${name} is not lost`);
        assert.equal(is.spec.systemID, was.spec.systemID, `${name} keeps its MAAS machine`);
        assert.equal(is.spec.providerID, was.spec.providerID);
      }
      const deployed = now.get("deployed");
      assert.equal(conditionOf(deployed, "Ready")?.status, "True", "a deployed machine stays Ready: it runs whether MAAS answers or not");
      assert.equal(deployed?.status?.initialization?.provisioned, true);
      assert.deepEqual(deployed?.status?.addresses, before.get("deployed")?.status?.addresses);
      for (const name of ["deploying", "allocated", "new"]) {
        assert.equal(conditionOf(now.get(name), MachineDeployedCondition)?.reason, MaasUnavailableReason, `${name}: waits on MAAS`);
      }
      assert.equal(now.get("new")?.spec.systemID, undefined, "nothing allocated while MAAS is down");
      assert.ok(now.get("deleted")?.metadata.deletionTimestamp !== undefined, "the deleted one waits to release its machine");
      checks++;
      await new Promise((resolve) => setTimeout(resolve, 5_000));
    }
    assert.ok(checks >= 5, `checked ${String(checks)} times while MAAS was down`);
    assert.ok(!(await bed.provider?.logText())?.includes(secrets.at(-1) ?? "?"), "no token secret in the manager's log");

    // ── MAAS is back on the same port with the same state ──
    bed.sim = await startProviderSimulator({ ...options, port });
    assert.equal(bed.sim.apiKey, apiKey, "the same MAAS");
    const ready = await allReady(bed.client, ns, 180_000);
    assert.deepEqual(ready.map((m) => m.metadata.name).sort(), ["allocated", "deployed", "deploying", "new"]);
    for (const m of ready) {
      assert.equal(m.spec.systemID, systemIdOf(m.metadata.name as Stage), `${m.metadata.name} on its own machine`);
      assert.equal(conditionOf(m, MaasReachableCondition)?.status, "True");
    }
    await waitFor("the MaasCluster saying MAAS answers", async () => {
      const cluster = await bed.client.get(MAAS_CLUSTER, { namespace: ns, name: "c1" });
      return conditionOf(cluster, MaasReachableCondition)?.status === "True";
    });
    const released = bed.sim.state().machines.find((m) => m.systemId === systemIdOf("deleted"));
    assert.equal(released?.owner, null, "the machine of the MaasMachine deleted during the outage is released");
    await assertOwnership(bed.client, ns, () => bed.sim.state());
    const allocations = [...logBefore, ...bed.sim.requestLog()].filter((e) => e.op === "allocate" && e.status === 200 && String(e.params.agent_name).includes(`/${ns}/`));
    assert.equal(allocations.length, STAGES.length, "one allocation per MaasMachine, none repeated after the outage");

    await deleteAllAndAssertReleased(bed.client, ns, () => bed.sim.state());
  });
});
