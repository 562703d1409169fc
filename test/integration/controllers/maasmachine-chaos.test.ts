// Ten machines while one MAAS call in five fails or is slow (503 with Retry-After,
// connection resets, requests held and cut, answers seconds late): every MaasMachine
// still reaches Ready, each on its own MAAS machine, every machine MAAS holds belongs to
// exactly one live MaasMachine, and after deletion MAAS holds nothing for any of them.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MAAS_MACHINE } from "../../../src/api/v1beta1/index.ts";
import { leakedAfterDelete, ownershipProblems } from "../faults/maas-invariants.ts";
import { Testbed, createNamespace, waitFor } from "./provider-harness.ts";

const COUNT = 10;

describe("MaasMachines under MAAS faults", () => {
  const bed = new Testbed({
    prefix: "mm-chaos",
    simulator: {
      seed: 11,
      inventory: {
        zones: [{ name: "zone-a" }],
        domains: [{ name: "maas.test" }],
        bootResources: [{ name: "ubuntu/jammy" }],
        machines: Array.from({ length: COUNT + 2 }, (_, i) => ({ hostname: `chaos-${String(i)}`, cpuCount: 4, memoryMiB: 16384, zone: "zone-a" })),
      },
    },
  });
  before(() => bed.start());
  after(() => bed.stop());

  it("converges every machine with 20% of MAAS calls failing, and releases every one", async () => {
    const ns = await createNamespace(bed.client, "mm-chaos");
    await bed.readyCluster(ns, "c1");
    bed.sim.setFaults(
      [
        { kind: "unavailable", retryAfterSeconds: 1, probability: 0.06 },
        { kind: "reset", probability: 0.05 },
        { kind: "timeout", latencyMs: 1500, probability: 0.04 },
        { kind: "latency", latencyMs: 2500, probability: 0.05 },
      ],
      42,
    );
    const names = Array.from({ length: COUNT }, (_, i) => `m-${String(i)}`);
    for (const name of names) await bed.machineWithData(ns, "c1", name, { minCPU: 2, minMemory: 4096, ephemeral: name.endsWith("0") });
    const ready = [];
    for (const name of names) ready.push(await bed.readyMaasMachine(ns, name, 180_000));
    const faulted = bed.sim.requestLog().filter((e) => e.fault !== null && e.fault !== "latency").length;
    assert.ok(faulted > 0, "faults fired");
    assert.ok(bed.sim.requestLog().some((e) => e.fault === "latency" && e.status === 200), "slow answers came");
    const live = (await bed.client.list(MAAS_MACHINE, { namespace: ns })).items;
    assert.deepEqual(ownershipProblems(bed.sim.state(), ns, live), [], "every held machine has exactly one live MaasMachine");

    const systemIds = ready.map((m) => m.spec.systemID);
    assert.equal(new Set(systemIds).size, COUNT, "each on its own MAAS machine");
    const held = bed.heldMachines().filter((m) => m.agentName.includes(`/${ns}/`));
    assert.deepEqual(held.map((m) => m.systemId).sort(), [...systemIds].sort(), "MAAS holds exactly the machines the MaasMachines name");

    for (const name of names) await bed.client.delete(MAAS_MACHINE, { namespace: ns, name });
    await waitFor("every MaasMachine gone", async () => (await bed.client.list(MAAS_MACHINE, { namespace: ns })).items.length === 0, 180_000);
    assert.deepEqual(leakedAfterDelete(bed.sim.state(), ns), [], "nothing held once the MaasMachines are gone");
    bed.sim.clearFaults();
    await waitFor("every machine back in the pool", () => bed.sim.state().machines.every((m) => m.owner === null), 30_000);
  });
});
