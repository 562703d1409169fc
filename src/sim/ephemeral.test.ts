import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startHarness, type Harness } from "./test-support.ts";
import type { Inventory } from "./types.ts";

const inventory: Inventory = {
  bootResources: [
    { name: "ubuntu/bionic", alias: "18.04" },
    { name: "ubuntu/xenial", alias: "16.04" },
    { name: "ubuntu/jammy", alias: "22.04" },
    { name: "centos/centos8-stream", type: "uploaded", filetype: "root-tgz" },
    { name: "custom/rhel9", type: "uploaded", filetype: "ddgz" },
    { name: "ubuntu/noble", type: "synced", filetype: "root-dd" },
    { name: "windows/win2022", type: "uploaded", filetype: "ddtgz" },
  ],
  machines: [
    { systemId: "disk01", hostname: "disk01", deploySeconds: 1 },
    { systemId: "nodisk", hostname: "nodisk", disks: [], deploySeconds: 1 },
  ],
};

interface View {
  status: number;
  ephemeral_deploy?: boolean;
  status_name: string;
}

async function withSim(maasVersion: string, body: (h: Harness) => Promise<void>): Promise<void> {
  const h = await startHarness({ inventory, maasVersion, releaseSeconds: 1 });
  try {
    await body(h);
  } finally {
    await h.sim.close();
  }
}

describe("ephemeral deploys (deploy to memory)", () => {
  describe("on MAAS 3.6", () => {
    it("deploys to memory, leaves the disks alone and reports ephemeral_deploy true", () =>
      withSim("3.6.0", async (h) => {
        const r = await h.client.post("machines/disk01/", "deploy", { distro_series: "jammy", ephemeral_deploy: "true" });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json<View>().ephemeral_deploy, true);
        await h.clock.advance(1_000);
        const m = (await h.client.get("machines/disk01/")).json<View & { netboot: boolean; current_installation_result_id: number | null }>();
        assert.equal(m.status, 6);
        assert.equal(m.netboot, true);
        assert.equal(m.current_installation_result_id, null);
        assert.equal(h.sim.state().machines.find((x) => x.systemId === "disk01")?.osOnDisk, null);
      }));

    for (const value of ["1", "yes", "on", "TRUE"]) {
      it(`reads ephemeral_deploy=${value} as true (StringBool)`, () =>
        withSim("3.6.0", async (h) => {
          const r = await h.client.post("machines/disk01/", "deploy", { ephemeral_deploy: value });
          assert.equal(r.json<View>().ephemeral_deploy, true);
        }));
    }

    it("refuses a value StringBool does not know, as text", () =>
      withSim("3.6.0", async (h) => {
        const r = await h.client.post("machines/disk01/", "deploy", { ephemeral_deploy: "sure" });
        assert.equal(r.status, 400);
        assert.equal(r.text, "Invalid ephemeral_deploy: Value should be 'true' or 'false'");
      }));

    it("keeps the flag through release and resets it on a deploy without the parameter", () =>
      withSim("3.6.0", async (h) => {
        await h.client.post("machines/disk01/", "deploy", { ephemeral_deploy: "true" });
        await h.clock.advance(1_000);
        const released = await h.client.post("machines/disk01/", "release", {});
        await h.clock.advance(1_000);
        assert.equal(released.json<View>().ephemeral_deploy, true);
        const ready = (await h.client.get("machines/disk01/")).json<View>();
        assert.equal(ready.status, 4);
        assert.equal(ready.ephemeral_deploy, true);
        const again = await h.client.post("machines/disk01/", "deploy", {});
        assert.equal(again.json<View>().ephemeral_deploy, false);
      }));

    it("does not erase the disks of an ephemeral machine on release unless asked", () =>
      withSim("3.6.0", async (h) => {
        await h.client.post("machines/disk01/", "deploy", { ephemeral_deploy: "true" });
        await h.clock.advance(1_000);
        assert.equal((await h.client.post("machines/disk01/", "release", {})).json<View>().status, 12);
        await h.clock.advance(1_000);
        await h.client.post("machines/disk01/", "deploy", { ephemeral_deploy: "true" });
        await h.clock.advance(1_000);
        assert.equal((await h.client.post("machines/disk01/", "release", { erase: "true" })).json<View>().status, 14);
      }));

    it("deploys an uploaded root-tgz image to memory", () =>
      withSim("3.6.0", async (h) => {
        const r = await h.client.post("machines/disk01/", "deploy", { distro_series: "centos/centos8-stream", ephemeral_deploy: "true" });
        assert.equal(r.status, 200, r.text);
      }));

    for (const [series, label] of [["custom/rhel9", "custom/rhel9"], ["noble", "ubuntu/noble"]] as const) {
      it(`refuses ${label}, whose image cannot run from memory, and leaves the machine Ready`, () =>
        withSim("3.6.0", async (h) => {
          const r = await h.client.post("machines/disk01/", "deploy", { distro_series: series, ephemeral_deploy: "true" });
          assert.equal(r.status, 400);
          assert.match(r.headers.get("content-type") ?? "", /^text\/plain/);
          assert.equal(r.text, `Deployment to memory not supported for ${label} on amd64/generic`);
          assert.equal((await h.client.get("machines/disk01/")).json<View>().status, 4);
        }));
    }

    it("refuses hardware sync for a non-Linux image (a deploy option check, not ephemeral)", () =>
      withSim("3.6.0", async (h) => {
        const r = await h.client.post("machines/disk01/", "deploy", { distro_series: "windows/win2022", enable_hw_sync: "true" });
        assert.equal(r.status, 400);
        assert.deepEqual(r.json(), { enable_hw_sync: ["Hardware sync is only supported for Linux based image deploys."] });
      }));

    it("refuses a VM host deployed to memory", () =>
      withSim("3.6.0", async (h) => {
        const r = await h.client.post("machines/disk01/", "deploy", { ephemeral_deploy: "true", register_vmhost: "true" });
        assert.equal(r.status, 400);
        assert.equal(r.text, "A machine can not be a VM host if it is deployed to memory.");
      }));

    it("deploys a diskless machine to memory without being asked", () =>
      withSim("3.6.0", async (h) => {
        const r = await h.client.post("machines/nodisk/", "deploy", {});
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json<View>().ephemeral_deploy, true);
      }));

    it("does not check memory size (MAAS has no such check)", async () => {
      const h = await startHarness({ maasVersion: "3.6.0", inventory: { machines: [{ systemId: "tiny01", memoryMiB: 512 }] } });
      try {
        const r = await h.client.post("machines/tiny01/", "deploy", { ephemeral_deploy: "true" });
        assert.equal(r.status, 200);
      } finally {
        await h.sim.close();
      }
    });
  });

  describe("on MAAS 3.4.2 (Ubuntu only)", () => {
    it("deploys Ubuntu Jammy to memory and shows the field", () =>
      withSim("3.4.2", async (h) => {
        const r = await h.client.post("machines/disk01/", "deploy", { distro_series: "jammy", ephemeral_deploy: "true" });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json<View>().ephemeral_deploy, true);
      }));

    for (const series of ["centos/centos8-stream", "xenial"]) {
      it(`refuses ${series} with the Bionic text`, () =>
        withSim("3.4.2", async (h) => {
          const r = await h.client.post("machines/disk01/", "deploy", { distro_series: series, ephemeral_deploy: "true" });
          assert.equal(r.status, 400);
          assert.equal(r.text, "Ephemeral deployments only supported on Ubuntu Bionic 18.04+");
        }));
    }

    it("refuses a VM host with the 3.x text", () =>
      withSim("3.4.2", async (h) => {
        const r = await h.client.post("machines/disk01/", "deploy", { ephemeral_deploy: "true", install_kvm: "true" });
        assert.equal(r.text, "Cannot deploy as a VM host for ephemeral deployments.");
      }));

    it("clears the flag on release, as _release() did before 3.5", () =>
      withSim("3.4.2", async (h) => {
        await h.client.post("machines/disk01/", "deploy", { ephemeral_deploy: "true" });
        await h.clock.advance(1_000);
        const r = await h.client.post("machines/disk01/", "release", {});
        assert.equal(r.json<View>().ephemeral_deploy, false);
      }));
  });

  describe("on MAAS 3.4.1 and 3.3.6 (before the LP#2033632 fix)", () => {
    for (const v of ["3.4.1", "3.3.6"]) {
      it(`${v} accepts the parameter but has no ephemeral_deploy field`, () =>
        withSim(v, async (h) => {
          const r = await h.client.post("machines/disk01/", "deploy", { ephemeral_deploy: "true" });
          assert.equal(r.status, 200);
          assert.equal("ephemeral_deploy" in r.json(), false);
          assert.equal(h.sim.state().machines.find((m) => m.systemId === "disk01")?.ephemeralDeploy, true);
        }));
    }
  });

  describe("on MAAS 2.6", () => {
    it("uses the 2.6 wording for install_kvm", () =>
      withSim("2.6.0", async (h) => {
        const r = await h.client.post("machines/disk01/", "deploy", { ephemeral_deploy: "true", install_kvm: "true" });
        assert.equal(r.text, "Cannot install KVM host for ephemeral deployments.");
      }));
  });

  describe("on MAAS 2.5 (no ephemeral deploy)", () => {
    it("ignores ephemeral_deploy, like any parameter deploy does not read", () =>
      withSim("2.5.3", async (h) => {
        const r = await h.client.post("machines/disk01/", "deploy", { ephemeral_deploy: "true" });
        assert.equal(r.status, 200);
        assert.equal(h.sim.state().machines.find((m) => m.systemId === "disk01")?.ephemeralDeploy, false);
      }));
  });

  describe("deployment_target constraint (3.5+)", () => {
    it("finds machines by their stored flag", () =>
      withSim("3.6.0", async (h) => {
        await h.client.post("machines/disk01/", "deploy", { ephemeral_deploy: "true" });
        const memory = (await h.client.get("machines/", { deployment_target: "memory" })).json<Array<{ system_id: string }>>();
        assert.deepEqual(memory.map((m) => m.system_id), ["disk01"]);
        const disk = (await h.client.get("machines/", { not_deployment_target: "memory" })).json<Array<{ system_id: string }>>();
        assert.deepEqual(disk.map((m) => m.system_id), ["nodisk"]);
      }));
  });
});
