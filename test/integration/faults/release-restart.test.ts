// The one kill point the chaos run makes often and that deserves its own cases: the
// manager SIGKILLed after MAAS answered a release and before the MaasMachine's finalizer
// came off. The restarted manager cannot tell from its own memory whether it released,
// so it must ask MAAS before it sends a release: a second release is at best redundant,
// and at worst, when MAAS gave the machine to someone else while the manager was down
// (another MAAS user, or a new MaasMachine of the same rollout), it takes that machine
// away from its new holder.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MAAS_MACHINE } from "../../../src/api/v1beta1/index.ts";
import { CAPI_MACHINE } from "../../../src/capi/index.ts";
import { createMaasClient } from "../../../src/maas/index.ts";
import { MachineStatus } from "../../../src/sim/index.ts";
import { Testbed, createNamespace, waitFor } from "../controllers/provider-harness.ts";
import { MaasProxy } from "./maas-proxy.ts";
import { leakedAfterDelete, ownershipProblems } from "./maas-invariants.ts";
import { releasesBySystemId } from "./request-ledger.ts";

const PAUSED = "cluster.x-k8s.io/paused";

describe("the manager killed between MAAS's release answer and the finalizer removal", () => {
  let proxy: MaasProxy;
  let bed: Testbed;
  let ns: string;

  before(async () => {
    proxy = await MaasProxy.start(() => bed.sim.endpoint);
    bed = new Testbed({
      prefix: "release-restart",
      simulator: {
        releaseSeconds: 0.5,
        inventory: {
          zones: [{ name: "zone-a" }],
          domains: [{ name: "maas.test" }],
          tags: [{ name: "solo" }],
          bootResources: [{ name: "ubuntu/jammy" }],
          machines: [
            ...["plain-1", "plain-2", "plain-3"].map((hostname) => ({ hostname, cpuCount: 4, memoryMiB: 16384, zone: "zone-a" })),
            // The one machine a `solo` MaasMachine can get: the old and the new one of a rollout compete for it.
            { hostname: "solo", cpuCount: 8, memoryMiB: 32768, zone: "zone-a", tags: ["solo"] },
          ],
        },
      },
      managerEnv: { MAAS_ENDPOINT: proxy.endpoint },
    });
    await bed.start();
    ns = await createNamespace(bed.client, "release-restart");
    await bed.readyCluster(ns, "c1");
  });

  after(async () => {
    await bed?.stop();
    await proxy?.close();
  });

  /**
   * Deletes the Machine, lets MAAS release, and kills the manager before it hears the
   * answer; resolves once it is dead, with the machine and the request log's last entry
   * before the delete (machines are reused from case to case).
   */
  async function deleteAndKillAtRelease(name: string): Promise<{ systemId: string; afterSeq: number }> {
    const ready = await bed.readyMaasMachine(ns, name, 90_000);
    const systemId = ready.spec.systemID ?? "";
    const afterSeq = bed.sim.requestLog().at(-1)?.seq ?? 0;
    let struck = false;
    proxy.hook = (call) => {
      if (struck || call.op !== "release" || !call.path.includes(`/machines/${systemId}/`)) return undefined;
      struck = true;
      return "after";
    };
    proxy.kill = () => void bed.provider?.kill();
    await bed.client.delete(CAPI_MACHINE, { namespace: ns, name });
    await waitFor("the manager killed after MAAS released the machine", () => struck && bed.provider?.child.hasExited === true, 60_000);
    proxy.hook = undefined;
    const finalizers = (await bed.maasMachine(ns, name)).metadata.finalizers ?? [];
    assert.ok(finalizers.length > 0, "the MaasMachine still waits on its finalizer");
    return { systemId, afterSeq };
  }

  async function gone(name: string): Promise<void> {
    await waitFor(`MaasMachine ${name} gone`, async () => (await bed.client.list(MAAS_MACHINE, { namespace: ns })).items.every((m) => m.metadata.name !== name), 90_000);
  }

  describe("when the machine is back in MAAS's pool and nobody took it", () => {
    it("removes the finalizer without sending a second release", async () => {
      await bed.machineWithData(ns, "c1", "again", { minCPU: 2, minMemory: 4096 });
      const { systemId, afterSeq } = await deleteAndKillAtRelease("again");
      await bed.startManager();
      await gone("again");
      assert.deepEqual(Object.fromEntries(releasesBySystemId(bed.sim.requestLog(), [systemId], afterSeq)), { [systemId]: 1 });
      assert.deepEqual(leakedAfterDelete(bed.sim.state(), ns), []);
    });
  });

  describe("when MAAS handed the machine to someone else before the manager came back", () => {
    it("leaves the new holder's machine allocated and lets the MaasMachine go", async () => {
      await bed.machineWithData(ns, "c1", "handed-on", { minCPU: 2, minMemory: 4096 });
      const { systemId, afterSeq } = await deleteAndKillAtRelease("handed-on");
      await waitFor("the machine back in the pool", () => bed.sim.state().machines.find((m) => m.systemId === systemId)?.status === MachineStatus.READY, 30_000);
      // Another MAAS client (another cluster, a person) takes that very machine.
      const other = createMaasClient({ endpoint: bed.sim.endpoint, apiKey: bed.sim.apiKey });
      try {
        await other.machines.allocate({ systemId, agentName: "another-tool" });
        await bed.startManager();
        await gone("handed-on");
        const machine = bed.sim.state().machines.find((m) => m.systemId === systemId);
        assert.equal(machine?.agentName, "another-tool", "still held by its new holder");
        assert.notEqual(machine?.owner, null);
        assert.deepEqual(Object.fromEntries(releasesBySystemId(bed.sim.requestLog(), [systemId], afterSeq)), { [systemId]: 1 });
        await other.machines.release(systemId);
      } finally {
        other.close();
      }
    });
  });

  describe("when a new MaasMachine got the machine after the restart, before the old one's delete went on", () => {
    it("releases nothing more: the new MaasMachine keeps the machine and the old one goes", async () => {
      await bed.machineWithData(ns, "c1", "old", { minCPU: 2, minMemory: 4096, tags: ["solo"] });
      const { systemId, afterSeq } = await deleteAndKillAtRelease("old");
      // Paused, the old object waits while the restarted manager gives its machine to the new
      // one; unpaused, its delete goes on in a process that follows the machine for another object.
      await bed.client.patch(MAAS_MACHINE, { namespace: ns, name: "old" }, { metadata: { annotations: { [PAUSED]: "" } } });
      await waitFor("the machine back in the pool", () => bed.sim.state().machines.find((m) => m.systemId === systemId)?.status === MachineStatus.READY, 30_000);
      await bed.machineWithData(ns, "c1", "new", { minCPU: 2, minMemory: 4096, tags: ["solo"] });
      await bed.startManager();
      const fresh = await bed.readyMaasMachine(ns, "new", 90_000);
      assert.equal(fresh.spec.systemID, systemId, "the new MaasMachine got the machine");
      await bed.client.patch(MAAS_MACHINE, { namespace: ns, name: "old" }, { metadata: { annotations: { [PAUSED]: null } } });
      await gone("old");
      assert.deepEqual(ownershipProblems(bed.sim.state(), ns, [await bed.maasMachine(ns, "new")]), []);
      assert.deepEqual(Object.fromEntries(releasesBySystemId(bed.sim.requestLog(), [systemId], afterSeq)), { [systemId]: 1 });
      await bed.client.delete(CAPI_MACHINE, { namespace: ns, name: "new" });
      await gone("new");
      assert.deepEqual(leakedAfterDelete(bed.sim.state(), ns), []);
    });
  });
});
