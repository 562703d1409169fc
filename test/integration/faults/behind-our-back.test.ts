// Changes made behind the provider's back, each checked against the simulator's state
// and request log: a MAAS machine deleted in MAAS while it deploys; one released and
// taken by another MAAS user, or by another agent with the same key; the bootstrap data
// Secret missing before the deploy or deleted after it; a Machine deleted while its
// MAAS machine is Deploying. (A deployed machine released or deleted in MAAS is in
// controllers/maasmachine-lifecycle.test.ts.)
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MAAS_MACHINE, MachineDeployedCondition, MachineDeployingReason, MachineLostReason, MachineNotFoundReason, WaitingForBootstrapDataReason } from "../../../src/api/v1beta1/index.ts";
import { CAPI_MACHINE, SECRET } from "../../../src/capi/index.ts";
import { MaasClient } from "../../../src/maas/index.ts";
import { MachineStatus } from "../../../src/sim/index.ts";
import { CLOUD_INIT, Testbed, bootstrapSecret, createNamespace, machineObject, maasMachineObject, waitFor } from "../controllers/provider-harness.ts";
import { assertOwnership, conditionOf, deleteAllAndAssertReleased } from "./fault-support.ts";

const OTHER_USER = "other";
const OTHER_KEY = "OtherUserConsumer1:OtherUserTokenKey1:OtherUserTokenSecret000000000001";
/** One MAAS machine per case, picked by a tag of its own; "slow" ones stay Deploying for the whole test. */
const CASES = ["gone", "taken", "agent", "data", "kept", "deleting"] as const;
type Case = (typeof CASES)[number];
const SLOW: readonly Case[] = ["gone", "agent", "deleting"];
const systemIdOf = (c: Case): string => `behind${c}`;

describe("changes made behind the provider's back", () => {
  const bed = new Testbed({
    prefix: "behind",
    managerArgs: ["--maas-watch-interval=2s"],
    simulator: {
      seed: 31,
      inventory: {
        zones: [{ name: "zone-a" }],
        domains: [{ name: "maas.test" }],
        bootResources: [{ name: "ubuntu/jammy" }],
        users: [{ username: OTHER_USER, apiKey: OTHER_KEY, admin: false }],
        machines: CASES.map((c) => ({
          hostname: `behind-${c}`,
          systemId: systemIdOf(c),
          cpuCount: 4,
          memoryMiB: 16384,
          zone: "zone-a",
          tags: [`case-${c}`],
          ...(SLOW.includes(c) ? { deploySeconds: 600 } : {}),
        })),
      },
    },
  });
  before(() => bed.start());
  after(() => bed.stop());

  const admin = (): MaasClient => new MaasClient({ endpoint: bed.sim.endpoint, apiKey: bed.sim.apiKey });
  const mark = (): number => bed.sim.requestLog().at(-1)?.seq ?? 0;
  /** Successful calls of `op` on the machine since `since`, by anyone. */
  const callsOn = (op: string, systemId: string, since: number) =>
    bed.sim.requestLog().filter((e) => e.seq > since && e.op === op && e.status === 200 && e.path.endsWith(`/machines/${systemId}/`));
  const simMachine = (systemId: string) => bed.sim.state().machines.find((m) => m.systemId === systemId);
  const state = () => bed.sim.state();

  async function machineFor(ns: string, c: Case): Promise<void> {
    await bed.machineWithData(ns, "c1", c, { minCPU: 2, minMemory: 4096, tags: [`case-${c}`] });
  }

  async function releasedInMaas(systemId: string): Promise<void> {
    await admin().machines.release(systemId, { comment: "released by an admin" });
    await waitFor(`${systemId} Ready in MAAS`, () => simMachine(systemId)?.status === MachineStatus.READY);
  }

  describe("when the MAAS machine is deleted in MAAS while it deploys", () => {
    it("reports it not found, replaces nothing, and its deletion is neither blocked nor leaves anything held", async () => {
      const ns = await createNamespace(bed.client, "behind-gone");
      await bed.readyCluster(ns, "c1");
      await machineFor(ns, "gone");
      await bed.waitForCondition(ns, "gone", MachineDeployedCondition, MachineDeployingReason);
      await assertOwnership(bed.client, ns, state);
      const start = mark();
      await admin().machines.delete(systemIdOf("gone"));

      const missing = await bed.waitForCondition(ns, "gone", MachineDeployedCondition, MachineNotFoundReason);
      assert.equal(missing.spec.systemID, systemIdOf("gone"), "still names the machine it had");
      assert.ok((await bed.events(ns, "gone")).some((e) => e.type === "Warning" && e.reason === MachineNotFoundReason));
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      assert.equal(bed.sim.requestLog().filter((e) => e.seq > start && e.op === "allocate").length, 0, "no replacement allocated");
      await deleteAllAndAssertReleased(bed.client, ns, state, 60_000);
    });
  });

  describe("when the MAAS machine is released and taken by another MAAS user", () => {
    it("reports it taken, and neither deploys nor releases it, its deletion included", async () => {
      const ns = await createNamespace(bed.client, "behind-taken");
      await bed.readyCluster(ns, "c1");
      await machineFor(ns, "taken");
      await bed.readyMaasMachine(ns, "taken");
      const id = systemIdOf("taken");
      await releasedInMaas(id);
      await new MaasClient({ endpoint: bed.sim.endpoint, apiKey: OTHER_KEY }).machines.allocate({ systemId: id, agentName: "someone-else" });
      const start = mark();

      const lost = await waitFor("MachineLost saying it was taken", async () => {
        const m = await bed.maasMachine(ns, "taken");
        const condition = conditionOf(m, MachineDeployedCondition);
        return condition?.reason === MachineLostReason && /was taken/.test(condition.message ?? "") ? m : undefined;
      });
      assert.match(conditionOf(lost, MachineDeployedCondition)?.message ?? "", new RegExp(`for ${OTHER_USER} under another agent`));
      assert.equal(conditionOf(lost, "Ready")?.status, "False");
      assert.ok((await bed.events(ns, "taken")).some((e) => e.reason === MachineLostReason && e.note.includes("was taken")), "an Event says so");

      await deleteAllAndAssertReleased(bed.client, ns, state, 60_000);
      assert.deepEqual(callsOn("release", id, start), [], "never released: it is not ours");
      assert.deepEqual(callsOn("deploy", id, start), [], "never deployed");
      assert.equal(simMachine(id)?.owner, OTHER_USER, "still held by whoever took it");
      await new MaasClient({ endpoint: bed.sim.endpoint, apiKey: OTHER_KEY }).machines.release(id);
    });
  });

  describe("when the MAAS machine is released while it deploys and allocated by another agent with the same key", () => {
    it("never deploys it again, reports it taken, and its deletion releases nothing", async () => {
      const ns = await createNamespace(bed.client, "behind-agent");
      await bed.readyCluster(ns, "c1");
      await machineFor(ns, "agent");
      await bed.waitForCondition(ns, "agent", MachineDeployedCondition, MachineDeployingReason);
      const id = systemIdOf("agent");
      const start = mark();
      await releasedInMaas(id);
      await admin().machines.allocate({ systemId: id, agentName: "another-agent" });

      await waitFor("MachineLost saying it was taken", async () => {
        const condition = conditionOf(await bed.maasMachine(ns, "agent"), MachineDeployedCondition);
        return condition?.reason === MachineLostReason && /was taken/.test(condition.message ?? "");
      });
      // A few of the watcher's reads of the machine sitting Allocated.
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      assert.deepEqual(callsOn("deploy", id, start), [], "an Allocated machine that is not ours is never deployed");
      assert.equal(simMachine(id)?.status, MachineStatus.ALLOCATED);

      const beforeDelete = mark();
      await deleteAllAndAssertReleased(bed.client, ns, state, 60_000);
      assert.deepEqual(callsOn("release", id, beforeDelete), [], "never released: the other agent holds it");
      assert.equal(simMachine(id)?.agentName, "another-agent");
      await admin().machines.release(id);
    });
  });

  describe("when the bootstrap data Secret is missing", () => {
    it("waits with WaitingForBootstrapData and nothing allocated, then deploys once the Secret is there", async () => {
      const ns = await createNamespace(bed.client, "behind-data");
      await bed.readyCluster(ns, "c1");
      // The Machine names its data Secret, which is not there (deleted before the deploy).
      const owner = await bed.client.create(CAPI_MACHINE, machineObject({ filter: bed.filter, namespace: ns, name: "data", cluster: "c1", dataSecretName: "data-bootstrap" }));
      assert.ok(owner.metadata.uid !== undefined);
      await bed.client.create(MAAS_MACHINE, maasMachineObject(bed.filter, ns, "data", { minCPU: 2, minMemory: 4096, tags: ["case-data"] }));

      const waiting = await bed.waitForCondition(ns, "data", MachineDeployedCondition, WaitingForBootstrapDataReason);
      assert.match(conditionOf(waiting, MachineDeployedCondition)?.message ?? "", /data-bootstrap/);
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      assert.equal((await bed.maasMachine(ns, "data")).spec.systemID, undefined);
      assert.equal(bed.allocationsFor(ns, "data").length, 0, "no MAAS machine held while there is nothing to deploy it with");

      await bed.client.create(SECRET, bootstrapSecret(ns, "data-bootstrap", "c1", CLOUD_INIT));
      const ready = await bed.readyMaasMachine(ns, "data");
      assert.equal(ready.spec.systemID, systemIdOf("data"));
      assert.equal(simMachine(systemIdOf("data"))?.userData, Buffer.from(CLOUD_INIT).toString("base64"), "deployed with the Secret's data");
      await assertOwnership(bed.client, ns, state);
      await deleteAllAndAssertReleased(bed.client, ns, state, 60_000);
    });

    it("changes nothing for a machine already deployed: it stays Ready, is not deployed again, and deletes cleanly", async () => {
      const ns = await createNamespace(bed.client, "behind-kept");
      await bed.readyCluster(ns, "c1");
      await machineFor(ns, "kept");
      await bed.readyMaasMachine(ns, "kept");
      const start = mark();
      await bed.client.delete(SECRET, { namespace: ns, name: "kept-bootstrap" });
      // A spec-less change brings a reconcile, which must not need the data any more.
      await bed.client.patch(MAAS_MACHINE, { namespace: ns, name: "kept" }, { metadata: { labels: { touched: "yes" } } });
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      const kept = await bed.maasMachine(ns, "kept");
      assert.equal(conditionOf(kept, "Ready")?.status, "True");
      assert.equal(conditionOf(kept, MachineDeployedCondition)?.status, "True");
      assert.deepEqual(callsOn("deploy", systemIdOf("kept"), start), []);
      await assertOwnership(bed.client, ns, state);
      await deleteAllAndAssertReleased(bed.client, ns, state, 60_000);
      assert.equal(callsOn("release", systemIdOf("kept"), start).length, 1);
    });
  });

  describe("when the Machine is deleted while its MAAS machine is Deploying", () => {
    it("releases it (MAAS cancels the deployment), once, and nothing is left held", async () => {
      const ns = await createNamespace(bed.client, "behind-deleting");
      await bed.readyCluster(ns, "c1");
      await machineFor(ns, "deleting");
      await bed.waitForCondition(ns, "deleting", MachineDeployedCondition, MachineDeployingReason);
      const id = systemIdOf("deleting");
      assert.equal(simMachine(id)?.status, MachineStatus.DEPLOYING);
      const start = mark();
      await bed.client.delete(CAPI_MACHINE, { namespace: ns, name: "deleting" });
      await waitFor("the MaasMachine gone", async () => (await bed.client.list(MAAS_MACHINE, { namespace: ns })).items.length === 0);
      assert.equal(callsOn("release", id, start).length, 1, "released once, from Deploying");
      await waitFor("the machine back in the pool", () => simMachine(id)?.status === MachineStatus.READY);
      assert.equal(simMachine(id)?.owner, null);
      await deleteAllAndAssertReleased(bed.client, ns, state, 60_000);
    });
  });
});
