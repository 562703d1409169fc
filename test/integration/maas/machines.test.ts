import { after, before, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  MachineStatus,
  MaasBadRequestError,
  MaasError,
  deploymentTarget,
  type MaasClient,
} from "../../../src/maas/index.ts";
import { AGENT, clientFor, logEntries, startTestSimulator, type Simulator } from "./sim-harness.ts";

const BOOTSTRAP = "#cloud-config\nruncmd:\n  - kubeadm init --config /run/kubeadm/kubeadm.yaml\n";

describe("machines against the simulator", () => {
  let sim: Simulator;
  let maas: MaasClient;

  before(async () => {
    sim = await startTestSimulator();
    maas = clientFor(sim);
  });
  after(async () => {
    maas.close();
    await sim.close();
  });
  beforeEach(() => sim.clearRequestLog());

  describe("finding machines", () => {
    it("lists every machine and filters by zone, pool, tags, hostname and system id", async () => {
      const all = await maas.machines.list();
      assert.equal(all.length, 5);
      const first = all[0];
      assert.ok(first);
      assert.equal(typeof first.system_id, "string");
      assert.equal(first.status, MachineStatus.Ready);

      const byZone = await maas.machines.list({ zone: "zone-b" });
      assert.deepEqual(byZone.map((m) => m.hostname).sort(), ["big-1", "cp-2"]);
      const byTags = await maas.machines.list({ tags: ["control-plane"], pool: "capi" });
      assert.deepEqual(byTags.map((m) => m.hostname).sort(), ["cp-1", "cp-2"]);
      const byHostname = await maas.machines.list({ hostnames: ["small-1", "big-1"] });
      assert.equal(byHostname.length, 2);
      const ids = byHostname.map((m) => m.system_id);
      const byId = await maas.machines.list({ systemIds: ids });
      assert.deepEqual(byId.map((m) => m.system_id).sort(), [...ids].sort());

      const [listCall] = logEntries(sim, "GET", /^\/machines\/$/).filter((e) => e.params.tags !== undefined);
      assert.deepEqual(listCall?.params, { tags: "control-plane", pool: "capi" });
    });

    it("gets one machine with its zone, pool and the fields MAAS adds", async () => {
      const [listed] = await maas.machines.list({ hostnames: ["cp-1"] });
      assert.ok(listed);
      const machine = await maas.machines.get(listed.system_id);
      assert.equal(machine.hostname, "cp-1");
      assert.equal(machine.zone.name, "zone-a");
      assert.equal(machine.pool?.name, "capi");
      assert.equal(machine.cpu_count, 4);
      assert.equal(machine.memory, 8192);
      assert.equal(machine.ephemeral_deploy, false);
      assert.ok("resource_uri" in machine, "fields outside the typed view are kept");
    });

    it("answers NotFound for an unknown system id", async () => {
      await assert.rejects(maas.machines.get("nosuch"), (error: unknown) => {
        assert.ok(error instanceof MaasError);
        assert.equal(error.code, "NotFound");
        assert.equal(error.status, 404);
        assert.equal(error.op, "GET machines/nosuch/");
        return true;
      });
    });
  });

  describe("allocating", () => {
    it("allocates the cheapest match and finds it again by agent name", async () => {
      const machine = await maas.machines.allocate({ cpuCount: 3, memoryMiB: 6000, tags: ["control-plane"], zone: "zone-b", agentName: AGENT, comment: "ns/m1" });
      assert.equal(machine.hostname, "cp-2");
      assert.equal(machine.status, MachineStatus.Allocated);
      assert.ok(machine.owner);
      const [call] = logEntries(sim, "POST", /^\/machines\/$/, "allocate");
      assert.deepEqual(call?.params, { cpu_count: "3", mem: "6000", tags: "control-plane", zone: "zone-b", agent_name: AGENT, comment: "ns/m1" });
      const held = await maas.machines.list({ agentName: AGENT });
      assert.deepEqual(held.map((m) => m.system_id), [machine.system_id]);
      await maas.machines.release(machine.system_id);
    });

    it("honours not_tags, pool and system_id", async () => {
      const notControlPlane = await maas.machines.allocate({ pool: "capi", notTags: ["small"], cpuCount: 4, dryRun: true });
      assert.ok(["cp-1", "cp-2"].includes(notControlPlane.hostname), notControlPlane.hostname);
      const [big2] = await maas.machines.list({ hostnames: ["big-2"] });
      assert.ok(big2);
      const bySystemId = await maas.machines.allocate({ systemId: big2.system_id, agentName: AGENT });
      assert.equal(bySystemId.hostname, "big-2");
      await assert.rejects(maas.machines.allocate({ pool: "capi", notTags: ["small", "control-plane"] }), { code: "Conflict", status: 409 });
      const calls = logEntries(sim, "POST", /^\/machines\/$/, "allocate").map((e) => e.params);
      assert.deepEqual(calls[0], { pool: "capi", not_tags: "small", cpu_count: "4", dry_run: "true" });
      assert.deepEqual(calls[2], { pool: "capi", not_tags: ["small", "control-plane"] });
      await maas.machines.release(bySystemId.system_id);
    });

    it("does nothing on a dry run", async () => {
      const machine = await maas.machines.allocate({ tags: ["small"], dryRun: true });
      assert.equal(machine.hostname, "small-1");
      assert.equal((await maas.machines.get(machine.system_id)).status, MachineStatus.Ready);
    });

    it("answers Conflict when no machine matches", async () => {
      await assert.rejects(maas.machines.allocate({ cpuCount: 1000 }), (error: unknown) => {
        assert.ok(error instanceof MaasError);
        assert.equal(error.code, "Conflict");
        assert.equal(error.status, 409);
        assert.match(error.body ?? "", /No available machine matches constraints/);
        return true;
      });
      assert.equal(logEntries(sim, "POST", /^\/machines\/$/, "allocate").length, 1);
    });

    describe("by storage", () => {
      it("sends MAAS's storage constraint: the root disk first, then a further unused disk", async () => {
        const machine = await maas.machines.allocate({ storage: "root:400,data:1500(rotary)", dryRun: true });
        assert.equal(machine.hostname, "big-2");
        const [call] = logEntries(sim, "POST", /^\/machines\/$/, "allocate");
        assert.deepEqual(call?.params, { storage: "root:400,data:1500(rotary)", dry_run: "true" });
        const byType = machine.constraints_by_type as { storage?: Record<string, unknown[]> } | undefined;
        assert.deepEqual(Object.keys(byType?.storage ?? {}), ["root", "data"]);
      });

      it("reads sizes in decimal GB: a 500 GB root disk meets root:500, not root:500.1", async () => {
        assert.equal((await maas.machines.allocate({ storage: "root:500", tags: ["small"], dryRun: true })).hostname, "small-1");
        await assert.rejects(maas.machines.allocate({ storage: "root:500.1" }), { code: "Conflict", status: 409 });
      });

      it("answers BadRequest naming storage for a malformed value", async () => {
        await assert.rejects(maas.machines.allocate({ storage: "root: 40" }), (error: unknown) => {
          assert.ok(error instanceof MaasBadRequestError);
          assert.deepEqual(error.fieldErrors, { storage: ['Malformed storage constraint, "root: 40".'] });
          return true;
        });
      });
    });

    it("answers BadRequest with field errors for an unknown tag", async () => {
      await assert.rejects(maas.machines.allocate({ tags: ["no-such-tag"] }), (error: unknown) => {
        assert.ok(error instanceof MaasBadRequestError);
        assert.equal(error.code, "BadRequest");
        assert.deepEqual(Object.keys(error.fieldErrors ?? {}), ["tags"]);
        assert.match(error.fieldErrors?.tags?.[0] ?? "", /No such tag/);
        return true;
      });
    });
  });

  /** The machine once MAAS reports it Deployed (or as it is after 5 s). */
  async function deployedMachine(systemId: string): Promise<Awaited<ReturnType<typeof maas.machines.get>>> {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const machine = await maas.machines.get(systemId);
      if (machine.status === MachineStatus.Deployed || Date.now() > deadline) return machine;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  describe("deploying", () => {
    it("deploys to memory with ephemeral_deploy=true and base64 user data", async () => {
      const allocated = await maas.machines.allocate({ tags: ["control-plane"], agentName: AGENT });
      const deploying = await maas.machines.deploy(allocated.system_id, { osystem: "ubuntu", distroSeries: "jammy", userData: BOOTSTRAP, ephemeralDeploy: true });
      assert.ok([MachineStatus.Deploying, MachineStatus.Deployed].includes(deploying.status as 9 | 6));
      const [call] = logEntries(sim, "POST", /^\/machines\/[^/]+\/$/, "deploy");
      assert.equal(call?.params.ephemeral_deploy, "true");
      assert.equal(call?.params.distro_series, "ubuntu/jammy");
      assert.equal(call?.params.user_data, Buffer.from(BOOTSTRAP).toString("base64"));
      assert.equal(call?.params.osystem, undefined);
      // deploySeconds 0 still finishes on a timer, which a GET sent at once may overtake.
      const deployed = await deployedMachine(allocated.system_id);
      assert.equal(deployed.status, MachineStatus.Deployed);
      assert.equal(deploymentTarget(deployed), "memory");
      assert.equal(deployed.osystem, "ubuntu");
      assert.equal(deployed.distro_series, "jammy");
      const released = await maas.machines.release(allocated.system_id, { comment: "done" });
      assert.ok([MachineStatus.Releasing, MachineStatus.Ready].includes(released.status as 12 | 4));
    });

    it("deploys to disk without sending ephemeral_deploy at all", async () => {
      const allocated = await maas.machines.allocate({ tags: ["small"], agentName: AGENT });
      const deploying = await maas.machines.deploy(allocated.system_id, { distroSeries: "ubuntu/noble", userData: BOOTSTRAP, ephemeralDeploy: false });
      assert.equal(deploymentTarget(deploying), "disk");
      const [call] = logEntries(sim, "POST", /^\/machines\/[^/]+\/$/, "deploy");
      assert.ok(call);
      assert.ok(!("ephemeral_deploy" in call.params), JSON.stringify(call.params));
      assert.equal(call.params.distro_series, "ubuntu/noble");
      await maas.machines.release(allocated.system_id, { erase: true, quickErase: true });
      const [release] = logEntries(sim, "POST", /^\/machines\/[^/]+\/$/, "release");
      assert.deepEqual(release?.params, { erase: "true", quick_erase: "true" });
    });

    it("answers Conflict for a deploy in a state that cannot deploy", async () => {
      const allocated = await maas.machines.allocate({ tags: ["small"], agentName: AGENT });
      await maas.machines.deploy(allocated.system_id, { distroSeries: "jammy" });
      await assert.rejects(maas.machines.deploy(allocated.system_id, { distroSeries: "jammy" }), { code: "Conflict", status: 409 });
      const releasing = await maas.machines.release(allocated.system_id, { erase: true, secureErase: true, force: true, comment: "bye" });
      assert.ok([MachineStatus.DiskErasing, MachineStatus.Ready].includes(releasing.status as 14 | 4), releasing.status_name);
      const [release] = logEntries(sim, "POST", /^\/machines\/[^/]+\/$/, "release");
      assert.deepEqual(release?.params, { erase: "true", secure_erase: "true", force: "true", comment: "bye" });
    });
  });

  describe("power and updates", () => {
    it("powers a machine on and off and renames it", async () => {
      const allocated = await maas.machines.allocate({ name: "big-1", agentName: AGENT });
      const on = await maas.machines.powerOn(allocated.system_id, { comment: "test" });
      assert.equal(on.system_id, allocated.system_id);
      assert.equal((await maas.machines.get(allocated.system_id)).power_state, "on");
      await maas.machines.powerOff(allocated.system_id, { stopMode: "hard" });
      assert.equal((await maas.machines.get(allocated.system_id)).power_state, "off");
      const [off] = logEntries(sim, "POST", /^\/machines\/[^/]+\/$/, "power_off");
      assert.equal(off?.params.stop_mode, "hard");
      const renamed = await maas.machines.update(allocated.system_id, { hostname: "big-1-renamed", swapSize: 1073741824 });
      assert.equal(renamed.hostname, "big-1-renamed");
      assert.equal(renamed.swap_size, 1073741824);
      const [put] = logEntries(sim, "PUT", /^\/machines\/[^/]+\/$/);
      assert.deepEqual(put?.params, { hostname: "big-1-renamed", swap_size: "1073741824" });
      await maas.machines.update(allocated.system_id, { hostname: "big-1" });
      await maas.machines.release(allocated.system_id);
    });
  });
});
