// Deploy to memory where MAAS cannot: an image this MAAS version cannot run from memory
// is refused before anything is allocated, and MAAS's own refusal is terminal too, with
// the allocated machine given back. Neither retries into a storm of MAAS calls.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Testbed, createNamespace, waitFor } from "./provider-harness.ts";

const machines = [
  { hostname: "m-1", cpuCount: 4, memoryMiB: 32768, zone: "zone-a", tags: ["worker"] },
  { hostname: "m-2", cpuCount: 4, memoryMiB: 32768, zone: "zone-a", tags: ["worker"] },
];

function inventory(bootResources: Array<{ name: string; type?: "synced" | "uploaded"; filetype?: string }>) {
  return { zones: [{ name: "zone-a" }], tags: [{ name: "worker" }], domains: [{ name: "maas.test" }], bootResources, machines };
}

describe("deploying into memory on a MAAS that cannot", () => {
  describe("when MAAS 3.4 is asked to run a non-Ubuntu image from memory", () => {
    const bed = new Testbed({
      prefix: "mm-v34",
      simulator: { maasVersion: "3.4.2", inventory: inventory([{ name: "ubuntu/jammy" }, { name: "centos/8" }]) },
    });
    before(() => bed.start());
    after(() => bed.stop());

    it("sets a terminal EphemeralNotSupported naming the version and image, and allocates nothing", async () => {
      const ns = await createNamespace(bed.client, "mm-v34");
      await bed.readyCluster(ns, "c1");
      await bed.machineWithData(ns, "c1", "centos", { minCPU: 2, minMemory: 4096, image: "centos/8", ephemeral: true });
      const refused = await bed.waitForCondition(ns, "centos", "MachineDeployed", "EphemeralNotSupported");
      const message = refused.status?.conditions?.find((c) => c.type === "MachineDeployed")?.message ?? "";
      assert.match(message, /MAAS 3\.4\.2/);
      assert.match(message, /centos\/8/);
      assert.equal(refused.status?.conditions?.find((c) => c.type === "Ready")?.status, "False");
      assert.equal(refused.status?.failureReason, "InvalidConfiguration");
      // Several resyncs' worth of time: still nothing asked of MAAS but its version.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const calls = bed.sim.requestLog().filter((e) => e.op === "allocate" || e.op === "deploy");
      assert.equal(calls.length, 0, "no allocate, no deploy");
      assert.ok(bed.sim.requestLog().filter((e) => e.path.endsWith("/version/")).length <= 2, "the version is read once per endpoint");
      assert.deepEqual(bed.heldMachines(), []);
    });

    it("deploys an Ubuntu image into memory on the same MAAS", async () => {
      const ns = await createNamespace(bed.client, "mm-v34-ok");
      await bed.readyCluster(ns, "c2");
      await bed.machineWithData(ns, "c2", "jammy", { minCPU: 2, minMemory: 4096, image: "ubuntu/jammy", ephemeral: true });
      const ready = await bed.readyMaasMachine(ns, "jammy");
      assert.equal(ready.status?.deploymentTarget, "memory");
    });
  });

  describe("when MAAS itself refuses to deploy the image into memory", () => {
    const bed = new Testbed({
      prefix: "mm-v36",
      simulator: { maasVersion: "3.6.0", inventory: inventory([{ name: "ubuntu/jammy" }, { name: "custom/ddimage", type: "uploaded", filetype: "ddgz" }]) },
    });
    before(() => bed.start());
    after(() => bed.stop());

    it("sets the same terminal condition with MAAS's text, releases the machine, and does not try again", async () => {
      const ns = await createNamespace(bed.client, "mm-v36");
      await bed.readyCluster(ns, "c3");
      await bed.machineWithData(ns, "c3", "dd", { minCPU: 2, minMemory: 4096, image: "custom/ddimage", ephemeral: true });
      const refused = await bed.waitForCondition(ns, "dd", "MachineDeployed", "EphemeralNotSupported");
      const message = refused.status?.conditions?.find((c) => c.type === "MachineDeployed")?.message ?? "";
      assert.match(message, /Deployment to memory not supported for custom\/ddimage/);
      assert.equal(refused.spec.systemID, undefined, "the machine is no longer named");
      await waitFor("the machine back in the pool", () => bed.heldMachines().length === 0);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      assert.equal(bed.allocationsFor(ns, "dd").length, 1, "allocated once, not again");
    });
  });
});
