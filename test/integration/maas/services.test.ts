import { after, before, beforeEach, describe, it } from "node:test";
import { inspect } from "node:util";
import assert from "node:assert/strict";
import {
  MaasClient,
  MaasError,
  dnsResourceAddresses,
  supportsEphemeralDeploy,
} from "../../../src/maas/index.ts";
import { VIEWER_KEY, clientFor, logEntries, startTestSimulator, type Simulator } from "./sim-harness.ts";

describe("version, tags, zones, pools, domains, DNS and images against the simulator", () => {
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

  it("reads the version and decides ephemeral support from it", async () => {
    const info = await maas.version.get();
    assert.equal(info.version, "3.6.0");
    assert.equal(info.subversion, "");
    assert.ok(info.capabilities.includes("authenticate-api"));
    assert.equal(supportsEphemeralDeploy(info.version, "custom/k8s-image"), true);
  });

  it("lists and gets zones", async () => {
    const zones = await maas.zones.list();
    assert.ok(zones.some((z) => z.name === "zone-a"));
    assert.equal((await maas.zones.get("zone-a")).description, "rack A");
    await assert.rejects(maas.zones.get("no-such-zone"), { code: "NotFound" });
  });

  it("lists resource pools and gets one by id at resourcepool/{id}/", async () => {
    const pools = await maas.resourcePools.list();
    const capi = pools.find((p) => p.name === "capi");
    assert.ok(capi);
    assert.equal((await maas.resourcePools.get(capi.id)).name, "capi");
    assert.equal(logEntries(sim, "GET", /^\/resourcepool\/\d+\/$/).length, 1);
  });

  it("lists, gets and creates domains", async () => {
    const domains = await maas.domains.list();
    const example = domains.find((d) => d.name === "example.com");
    assert.ok(example);
    assert.equal((await maas.domains.get(example.id)).name, "example.com");
    const created = await maas.domains.create({ name: "clusters.example.com", authoritative: true });
    assert.equal(created.name, "clusters.example.com");
  });

  it("lists boot resources by name, architecture and type", async () => {
    const images = await maas.bootResources.list();
    const jammy = images.find((i) => i.name === "ubuntu/jammy");
    assert.ok(jammy);
    assert.match(jammy.architecture, /^amd64\//);
    assert.equal(jammy.type, "Synced");
    assert.equal(images.find((i) => i.name === "custom/k8s-image")?.type, "Uploaded");
  });

  it("creates, finds, updates and deletes a DNS resource", async () => {
    const fqdn = "cluster-1.example.com";
    assert.deepEqual(await maas.dnsResources.list({ fqdn }), []);
    const created = await maas.dnsResources.create({ fqdn, ipAddresses: ["10.20.0.11", "10.20.0.12"], addressTtlSeconds: 60 });
    assert.equal(created.fqdn, fqdn);
    assert.deepEqual(dnsResourceAddresses(created).sort(), ["10.20.0.11", "10.20.0.12"]);
    const [post] = logEntries(sim, "POST", /^\/dnsresources\/$/);
    assert.equal(post?.params.ip_addresses, "10.20.0.11 10.20.0.12");

    const [found] = await maas.dnsResources.list({ fqdn });
    assert.equal(found?.id, created.id);
    const updated = await maas.dnsResources.update(created.id, { ipAddresses: ["10.20.0.13"] });
    assert.deepEqual(dnsResourceAddresses(updated), ["10.20.0.13"]);
    assert.deepEqual(dnsResourceAddresses(await maas.dnsResources.get(created.id)), ["10.20.0.13"]);
    await maas.dnsResources.delete(created.id);
    assert.equal(logEntries(sim, "DELETE", /^\/dnsresources\/\d+\/$/)[0]?.status, 204);
    assert.deepEqual(await maas.dnsResources.list({ fqdn }), []);
  });

  it("creates a tag, tags machines through update_nodes, untags them and deletes the tag", async () => {
    const tag = await maas.tags.create({ name: "capi-worker", comment: "workers", kernelOpts: "console=ttyS0" });
    assert.equal(tag.name, "capi-worker");
    assert.equal((await maas.tags.get("capi-worker")).comment, "workers");
    assert.ok((await maas.tags.list()).some((t) => t.name === "capi-worker"));

    const machines = await maas.machines.list({ zone: "zone-a" });
    const ids = machines.map((m) => m.system_id);
    assert.deepEqual(await maas.tags.addMachines("capi-worker", ids), { added: ids.length, removed: 0 });
    const [call] = logEntries(sim, "POST", /^\/tags\/capi-worker\/$/, "update_nodes");
    assert.deepEqual(call?.params.add, ids);
    assert.deepEqual((await maas.machines.list({ tags: ["capi-worker"] })).map((m) => m.system_id).sort(), [...ids].sort());
    assert.deepEqual(await maas.tags.removeMachines("capi-worker", ids.slice(0, 1)), { added: 0, removed: 1 });

    await maas.tags.delete("capi-worker");
    await assert.rejects(maas.tags.get("capi-worker"), { code: "NotFound" });
  });

  describe("when the key is wrong or lacks rights", () => {
    const wrongKeys: Array<[string, () => string]> = [
      ["an unknown key", () => "wrongCK00000000000:wrongTK00000000000:wrongTS0000000000000000000000000"],
      // MAAS echoes the token key for a known consumer: "Invalid access token: '<token_key>'".
      ["a known consumer with an unknown token", () => `${sim.apiKey.split(":")[0] ?? ""}:wrongTK00000000000:wrongTS0000000000000000000000000`],
    ];
    for (const [name, wrongKey] of wrongKeys) {
      it(`answers Unauthorized for ${name}, without any part of the key in the error`, async () => {
        const key = wrongKey();
        const stranger = new MaasClient({ endpoint: sim.endpoint, apiKey: key });
        try {
          const error = await stranger.machines.list().catch((e: unknown) => e);
          assert.ok(error instanceof MaasError);
          assert.equal(error.code, "Unauthorized");
          assert.equal(error.status, 401);
          const text = `${error.message}\n${error.body ?? ""}\n${JSON.stringify(error)}\n${inspect(error, { depth: 5 })}\n${String(error)}`;
          for (const part of key.split(":")) assert.ok(!text.includes(part), `error leaks ${part}`);
        } finally {
          stranger.close();
        }
      });
    }

    it("answers Forbidden when a non-admin creates a DNS record", async () => {
      const viewer = new MaasClient({ endpoint: sim.endpoint, apiKey: VIEWER_KEY });
      try {
        await assert.rejects(viewer.dnsResources.create({ fqdn: "x.example.com", ipAddresses: ["10.20.0.50"] }), { code: "Forbidden", status: 403 });
        await assert.rejects(viewer.tags.addMachines("small", ["whatever"]), { code: "Forbidden", status: 403 });
      } finally {
        viewer.close();
      }
    });
  });
});
