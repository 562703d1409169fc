import assert from "node:assert/strict";
import { get } from "node:http";
import { after, before, describe, it } from "node:test";
import { startHarness, type Harness } from "./test-support.ts";

describe("requests shaped like other MAAS clients", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ inventory: { tags: [{ name: "gpu" }], machines: [{ systemId: "lib001", tags: ["gpu"] }, { systemId: "spc001" }, { systemId: "pth001" }] } });
  });
  after(async () => {
    await h.sim.close();
  });

  describe("python-libmaas 0.6.8", () => {
    it("allocates and deploys with base64 multipart bodies and op in the query", async () => {
      const alloc = await h.client.post("machines/", "allocate", { tags: "gpu", cpu_count: "1" }, { encoding: "libmaas-multipart" });
      assert.equal(alloc.status, 200, alloc.text);
      assert.equal(alloc.json().system_id, "lib001");
      const deploy = await h.client.post("machines/lib001/", "deploy", { distro_series: "jammy", ephemeral_deploy: "true", user_data: "I2Nsb3VkLWNvbmZpZwo=\n" }, { encoding: "libmaas-multipart" });
      assert.equal(deploy.status, 200, deploy.text);
      assert.equal(deploy.json().distro_series, "jammy");
      assert.equal(deploy.json().ephemeral_deploy, true);
    });

    it("can send an empty multipart body for an operation without parameters", async () => {
      const r = await h.client.post("machines/lib001/", "power_off", {}, { encoding: "libmaas-multipart" });
      assert.equal(r.status, 200, r.text);
    });

    it("finds every handler it binds in describe/, with absolute URIs on the request's host", async () => {
      const d = (await h.client.get("describe/", {}, { auth: "none" })).json<{ resources: Array<{ name: string; anon: { uri: string } | null; auth: { name: string; uri: string; params: string[]; actions: Array<{ name: string; op: string | null; method: string }> } | null }> }>();
      const names = d.resources.map((r) => r.name);
      for (const needed of ["VersionHandler", "MachinesHandler", "MachineHandler", "ZonesHandler", "ZoneHandler", "ResourcePoolsHandler", "ResourcePoolHandler", "TagsHandler", "TagHandler", "DomainsHandler", "DomainHandler", "DNSResourcesHandler", "DNSResourceHandler", "BootResourcesHandler", "UsersHandler"]) {
        assert.ok(names.includes(needed), needed);
      }
      const machine = d.resources.find((r) => r.name === "MachineHandler")?.auth;
      assert.equal(machine?.uri, `${h.sim.endpoint}/api/2.0/machines/{system_id}/`);
      assert.deepEqual(machine?.params, ["system_id"]);
      assert.deepEqual(machine?.actions.find((a) => a.name === "deploy"), { method: "POST", name: "deploy", doc: "Deploy a machine", op: "deploy", restful: false });
      const version = d.resources.find((r) => r.name === "VersionHandler");
      assert.equal(version?.auth, null);
      assert.equal(version?.anon?.uri, `${h.sim.endpoint}/api/2.0/version/`);
    });
  });

  describe("spectrocloud maas-client-go", () => {
    it("sends op in the form body and is understood", async () => {
      const alloc = await h.client.post("machines/", null, { op: "allocate", system_id: "spc001" }, { auth: "hmac" });
      assert.equal(alloc.status, 200, alloc.text);
      const deploy = await h.client.post("machines/spc001/", null, { op: "deploy", distro_series: "jammy", ephemeral_deploy: "true", user_data: "dXNlcg==" }, { auth: "hmac" });
      assert.equal(deploy.status, 200, deploy.text);
      assert.equal(deploy.json().status, 9);
    });

    it("has idle keep-alive connections timed out, since it never closes them itself", async () => {
      const keepAlive = await new Promise<string | undefined>((resolve, reject) => {
        get(`${h.sim.endpoint}/api/2.0/version/`, { headers: { Connection: "keep-alive" } }, (res) => {
          res.resume();
          resolve(String(res.headers["keep-alive"]));
        }).on("error", reject);
      });
      assert.equal(keepAlive, "timeout=5");
    });

    it("calls path-style operations such as machines/{id}/op-power_on (MAAS 3.3+)", async () => {
      await h.client.post("machines/", "allocate", { system_id: "pth001" });
      const r = await h.client.post("machines/pth001/op-power_on", null, { comment: "x" });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json().status, 9); // power_on of an Allocated machine starts its deployment
    });
  });

  describe("the request log", () => {
    it("records ephemeral_deploy and user_data exactly as sent, and the op wherever it came from", async () => {
      const log = h.sim.requestLog().filter((e) => e.op === "deploy");
      const libmaas = log.find((e) => e.path.endsWith("/lib001/"));
      assert.equal(libmaas?.params.ephemeral_deploy, "true");
      assert.equal(libmaas?.params.user_data, "I2Nsb3VkLWNvbmZpZwo=\n");
      assert.equal(libmaas?.status, 200);
      assert.equal(libmaas?.user, "admin");
      const spectro = log.find((e) => e.path.endsWith("/spc001/"));
      assert.equal(spectro?.params.user_data, "dXNlcg==");
      assert.equal("op" in (spectro?.params ?? {}), false);
      assert.ok(log.every((e) => !Object.keys(e.params).some((k) => k.startsWith("oauth_"))));
    });
  });

  describe("unknown paths and operations", () => {
    it("answers MAAS's 404 for an unknown endpoint (trailing slash matters)", async () => {
      const r = await h.client.get("machines/lib001");
      assert.equal(r.status, 404);
      assert.equal(r.text, "Unknown API endpoint: /MAAS/api/2.0/machines/lib001.");
    });

    it("answers 'Unrecognised signature' for an operation MAAS does not have", async () => {
      const r = await h.client.post("machines/lib001/", "fly", {});
      assert.equal(r.status, 400);
      assert.equal(r.text, "Unrecognised signature: method=POST op=fly");
    });

    it("fails loudly on a MAAS operation the simulator does not model", async () => {
      const r = await h.client.post("machines/lib001/", "commission", {});
      assert.equal(r.status, 400);
      assert.match(r.text, /^The MAAS simulator does not support POST machines\/\{system_id\}\/ op=commission\.$/);
    });

    it("answers 405 for a method no operation uses", async () => {
      const r = await h.client.call("DELETE", "machines/");
      assert.equal(r.status, 405);
    });
  });
});
