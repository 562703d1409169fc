import assert from "node:assert/strict";
import { after, beforeEach, describe, it } from "node:test";
import { startHarness, type Harness } from "./test-support.ts";
import type { Inventory } from "./types.ts";

const inventory: Inventory = {
  machines: [
    { systemId: "aaa111", hostname: "one", deploySeconds: 30 },
    { systemId: "bbb222", hostname: "two", failDeployment: true },
    { systemId: "ccc333", hostname: "three", status: "broken" },
    { systemId: "ddd444", hostname: "four", status: "new" },
  ],
};

interface MachineView {
  status: number;
  status_name: string;
  owner: string | null;
  osystem: string;
  distro_series: string;
  hwe_kernel: string | null;
  ephemeral_deploy: boolean;
  power_state: string;
  ip_addresses: string[];
  netboot: boolean;
}

describe("machine lifecycle", () => {
  let h: Harness;
  const machine = async (id: string): Promise<MachineView> => (await h.client.get(`machines/${id}/`)).json<MachineView>();
  beforeEach(async () => {
    await h?.sim.close();
    h = await startHarness({ inventory, deploySeconds: 10, releaseSeconds: 4 });
  });
  after(async () => {
    await h.sim.close();
  });

  describe("a disk deployment", () => {
    it("goes Ready → Deploying → Deployed after the machine's deploySeconds", async () => {
      const r = await h.client.post("machines/aaa111/", "deploy", { distro_series: "jammy" });
      assert.equal(r.status, 200, r.text);
      const deploying = r.json<MachineView>();
      assert.equal(deploying.status, 9);
      assert.equal(deploying.status_name, "Deploying");
      assert.equal(deploying.owner, "admin"); // auto-allocated
      assert.equal(deploying.osystem, "ubuntu");
      assert.equal(deploying.distro_series, "jammy");
      assert.equal(deploying.hwe_kernel, "ga-22.04");
      assert.equal(deploying.ephemeral_deploy, false);
      assert.equal(deploying.power_state, "on");
      await h.clock.advance(29_000);
      assert.equal((await machine("aaa111")).status, 9);
      await h.clock.advance(1_000);
      const deployed = await machine("aaa111");
      assert.equal(deployed.status, 6);
      assert.equal(deployed.status_name, "Deployed");
      assert.equal(deployed.ip_addresses.length, 1);
      assert.equal(deployed.netboot, false);
      assert.equal(h.sim.state().machines.find((m) => m.systemId === "aaa111")?.osOnDisk, "ubuntu/jammy");
    });

    it("accepts distro_series as os/series and stores the series", async () => {
      const r = await h.client.post("machines/aaa111/", "deploy", { distro_series: "ubuntu/noble" });
      assert.equal(r.json<MachineView>().distro_series, "noble");
    });

    it("ends in Failed deployment for a machine set to fail", async () => {
      await h.client.post("machines/bbb222/", "deploy", {});
      await h.clock.advance(10_000);
      const m = await machine("bbb222");
      assert.equal(m.status, 11);
      assert.equal(m.status_name, "Failed deployment");
    });

    it("fails deployments at the seeded deployFailureRate, the same ones for the same seed", async () => {
      const outcomes: number[][] = [];
      for (let run = 0; run < 2; run++) {
        await h.sim.close();
        h = await startHarness({ machines: 8, seed: 7, deployFailureRate: 0.5, deploySeconds: 1 });
        const ids = h.sim.state().machines.map((m) => m.systemId);
        for (const id of ids) await h.client.post(`machines/${id}/`, "deploy", {});
        await h.clock.advance(1_000);
        outcomes.push(h.sim.state().machines.map((m) => m.status));
      }
      assert.deepEqual(outcomes[0], outcomes[1]);
      assert.ok(outcomes[0]?.includes(6) && outcomes[0]?.includes(11), `a mix of outcomes: ${outcomes[0]?.join(",")}`);
    });
  });

  describe("deploying from the wrong state", () => {
    it("refuses a Deployed machine with MAAS's 409 text", async () => {
      await h.client.post("machines/aaa111/", "deploy", {});
      await h.clock.advance(30_000);
      const r = await h.client.post("machines/aaa111/", "deploy", {});
      assert.equal(r.status, 409);
      assert.equal(r.text, "Can't deploy a machine that is in the 'Deployed' state");
    });

    for (const [id, label] of [["ccc333", "Broken"], ["ddd444", "New"]]) {
      it(`refuses a ${label} machine`, async () => {
        const r = await h.client.post(`machines/${id}/`, "deploy", {});
        assert.equal(r.status, 409);
        assert.equal(r.text, `Can't deploy a machine that is in the '${label}' state`);
      });
    }

    it("refuses a machine that is Deploying", async () => {
      await h.client.post("machines/aaa111/", "deploy", {});
      const r = await h.client.post("machines/aaa111/", "deploy", {});
      assert.equal(r.text, "Can't deploy a machine that is in the 'Deploying' state");
    });

    it("answers 404 for an unknown machine", async () => {
      const r = await h.client.post("machines/nope00/", "deploy", {});
      assert.equal(r.status, 404);
      assert.equal(r.text, "No Machine matches the given query.");
    });

    it("refuses an unknown distro_series with 400 JSON and leaves the machine Ready", async () => {
      const r = await h.client.post("machines/aaa111/", "deploy", { distro_series: "warty" });
      assert.equal(r.status, 400);
      assert.deepEqual(r.json(), {
        distro_series: ["'warty' is not a valid distro_series.  It should be one of: '', 'ubuntu/focal', 'ubuntu/jammy', 'ubuntu/noble'."],
      });
      assert.equal((await machine("aaa111")).status, 4);
    });
  });

  describe("release", () => {
    const deployed = async (id: string, form: Record<string, string> = {}): Promise<void> => {
      await h.client.post(`machines/${id}/`, "deploy", form);
      await h.clock.advance(30_000);
    };

    it("goes Releasing → Ready after releaseSeconds, clearing owner, OS and addresses", async () => {
      await deployed("aaa111");
      const r = await h.client.post("machines/aaa111/", "release", { comment: "done" });
      assert.equal(r.status, 200);
      const releasing = r.json<MachineView>();
      assert.equal(releasing.status, 12);
      assert.equal(releasing.osystem, "");
      assert.equal(releasing.distro_series, "");
      assert.equal(releasing.hwe_kernel, null);
      await h.clock.advance(4_000);
      const ready = await machine("aaa111");
      assert.equal(ready.status, 4);
      assert.equal(ready.owner, null);
      assert.equal(ready.power_state, "off");
      assert.deepEqual(ready.ip_addresses, []);
    });

    it("erases the disks in Disk erasing when asked", async () => {
      await deployed("aaa111");
      const r = await h.client.post("machines/aaa111/", "release", { erase: "true", quick_erase: "true" });
      assert.equal(r.json<MachineView>().status, 14);
      assert.equal(r.json<MachineView>().status_name, "Disk erasing");
      await h.clock.advance(4_000);
      assert.equal((await machine("aaa111")).status, 4);
      assert.equal(h.sim.state().machines.find((m) => m.systemId === "aaa111")?.osOnDisk, null);
    });

    it("makes a powered-off Allocated machine Ready at once, as MAAS's _release does", async () => {
      await h.client.post("machines/", "allocate", { system_id: "aaa111" });
      const r = await h.client.post("machines/aaa111/", "release", {});
      assert.equal(r.json<MachineView>().status, 4);
    });

    it("is a no-op on a Ready machine", async () => {
      const r = await h.client.post("machines/aaa111/", "release", {});
      assert.equal(r.status, 200);
      assert.equal(r.json<MachineView>().status, 4);
    });

    it("refuses a New machine with MAAS's 409 text", async () => {
      const r = await h.client.post("machines/ddd444/", "release", {});
      assert.equal(r.status, 409);
      assert.equal(r.text, "Machine cannot be released in its current state ('New').");
    });

    it("cancels a deployment in progress", async () => {
      await h.client.post("machines/aaa111/", "deploy", {});
      await h.client.post("machines/aaa111/", "release", {});
      await h.clock.advance(60_000);
      assert.equal((await machine("aaa111")).status, 4);
    });
  });

  describe("power operations", () => {
    it("refuses power_on for an unowned machine", async () => {
      const r = await h.client.post("machines/aaa111/", "power_on", {});
      assert.equal(r.status, 409);
      assert.equal(r.text, "Can't start node: it hasn't been allocated.");
    });

    it("reports and changes the power state", async () => {
      await h.client.post("machines/aaa111/", "deploy", {});
      await h.clock.advance(30_000);
      assert.deepEqual((await h.client.get("machines/aaa111/", { op: "query_power_state" })).json(), { state: "on" });
      const off = await h.client.post("machines/aaa111/", "power_off", { stop_mode: "soft" });
      assert.equal(off.json<MachineView>().power_state, "off");
      assert.equal(off.json<MachineView>().status, 6);
      const on = await h.client.post("machines/aaa111/", "power_on", { comment: "back" });
      assert.equal(on.json<MachineView>().power_state, "on");
    });
  });
});
