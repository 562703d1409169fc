// The MAAS simulator, run as the maas-sim command with a --state file, SIGKILLed while
// MaasMachines are being allocated and deployed, and started again on the same port
// from that file: the provider recovers by itself. Every machine converges on the MAAS
// machine held for it (calls cut by the kill included: what MAAS acknowledged is in
// the file, and the provider finds what it holds by its agent name), none is held
// twice, and delete leaves nothing held.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MaasReachableCondition, MaasUnavailableReason } from "../../../src/api/v1beta1/index.ts";
import { Testbed, createNamespace, waitFor } from "../controllers/provider-harness.ts";
import { allReady, assertOwnership, conditionOf, deleteAllAndAssertReleased, maasMachinesIn } from "./fault-support.ts";
import { heldFor } from "./maas-invariants.ts";
import { SimProcess } from "./sim-process.ts";

const COUNT = 6;

describe("when the MAAS simulator is killed and restarted from its state file", () => {
  let sim: SimProcess | undefined;
  let bed: Testbed | undefined;
  before(async () => {
    sim = await SimProcess.start({
      inventory: {
        zones: [{ name: "zone-a" }],
        domains: [{ name: "maas.test" }],
        bootResources: [{ name: "ubuntu/jammy" }],
        machines: Array.from({ length: COUNT + 2 }, (_, i) => ({ hostname: `restart-${String(i)}`, cpuCount: 4, memoryMiB: 16384, zone: "zone-a" })),
      },
      args: ["--deploy-seconds=3", "--release-seconds=1", "--seed=5"],
    });
    bed = new Testbed({ prefix: "sim-restart", maas: { endpoint: sim.endpoint, apiKey: sim.apiKey }, managerArgs: ["--maas-watch-interval=5s"] });
    await bed.start();
  });
  after(async () => {
    await bed?.stop();
    await sim?.stop();
  });

  it("recovers: every machine converges on the one MAAS holds for it, none held twice, and delete leaves nothing held", async () => {
    assert.ok(sim !== undefined && bed !== undefined);
    const maas = sim;
    const { client } = bed;
    const ns = await createNamespace(client, "sim-restart");
    await bed.readyCluster(ns, "c1");
    for (let i = 0; i < COUNT; i++) await bed.machineWithData(ns, "c1", `m-${String(i)}`, { minCPU: 2, minMemory: 4096 });

    // Mid-run: some machines allocated (and deploying), others not yet.
    await waitFor("half the machines allocated", async () => (await maasMachinesIn(client, ns)).filter((m) => m.spec.systemID !== undefined).length >= COUNT / 2);
    const { port, apiKey } = maas;
    const pid = maas.pid;
    await maas.kill();
    await assert.rejects(fetch(`${maas.endpoint}/api/2.0/version/`), "nothing listens while it is dead");
    const dead = await maasMachinesIn(client, ns);
    assert.ok(dead.some((m) => conditionOf(m, "Ready")?.status !== "True"), "killed mid-run, not after");
    await waitFor("a MaasMachine saying MAAS is unavailable", async () =>
      (await maasMachinesIn(client, ns)).some((m) => conditionOf(m, MaasReachableCondition)?.reason === MaasUnavailableReason),
    );

    await maas.restart();
    assert.notEqual(maas.pid, pid, "a new process");
    assert.equal(maas.port, port, "on the same port");
    assert.equal(maas.apiKey, apiKey, "with the state file's key");

    const ready = await allReady(client, ns, 180_000);
    assert.equal(ready.length, COUNT);
    assert.equal(new Set(ready.map((m) => m.spec.systemID)).size, COUNT, "each on its own MAAS machine");
    for (const m of ready) assert.equal(conditionOf(m, MaasReachableCondition)?.status, "True", `${m.metadata.name}: MAAS answers again`);
    const state = () => maas.state();
    await assertOwnership(client, ns, state);
    assert.equal(heldFor(await state(), ns).length, COUNT, "MAAS holds exactly one machine per MaasMachine");

    await deleteAllAndAssertReleased(client, ns, state);
  });
});
