import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startHarness, type Harness } from "./test-support.ts";

describe("other MAAS resources", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      inventory: {
        zones: [{ name: "az1", description: "first" }],
        pools: [{ name: "ci" }],
        users: [{ username: "bob", apiKey: "BC:BT:BS" }],
        machines: [{ systemId: "t00001", hostname: "web", zone: "az1" }, { systemId: "t00002", hostname: "db" }],
      },
    });
  });
  after(async () => {
    await h.sim.close();
  });

  describe("tags", () => {
    it("creates, reads, lists and updates a tag", async () => {
      const created = await h.client.post("tags/", null, { name: "fast", comment: "NVMe" }, { query: { op: "" } });
      assert.equal(created.status, 200, created.text);
      assert.deepEqual(created.json(), { name: "fast", definition: "", comment: "NVMe", kernel_opts: "", resource_uri: "/MAAS/api/2.0/tags/fast/" });
      assert.ok((await h.client.get("tags/")).json<Array<{ name: string }>>().some((t) => t.name === "fast"));
      const updated = await h.client.call("PUT", "tags/fast/", { form: { comment: "very" } });
      assert.equal(updated.json().comment, "very");
    });

    it("refuses a bad or duplicate name", async () => {
      assert.deepEqual((await h.client.post("tags/", null, { name: "bad name" })).json(), { name: ["Enter a valid value."] });
      assert.deepEqual((await h.client.post("tags/", null, { name: "fast" })).json(), { name: ["Tag with this Name already exists."] });
    });

    it("adds and removes machines with update_nodes and lists them with op=machines", async () => {
      const r = await h.client.post("tags/fast/", "update_nodes", { add: ["t00001", "t00002", "nosuch"] });
      assert.deepEqual(r.json(), { added: 2, removed: 0 });
      const tagged = (await h.client.get("tags/fast/", { op: "machines" })).json<Array<{ system_id: string; tag_names: string[] }>>();
      assert.deepEqual(tagged.map((m) => m.system_id), ["t00001", "t00002"]);
      assert.ok(tagged[0]?.tag_names.includes("fast"));
      assert.deepEqual((await h.client.post("tags/fast/", "update_nodes", { remove: "t00002" })).json(), { added: 0, removed: 1 });
      const allocated = await h.client.post("machines/", "allocate", { tags: "fast", dry_run: "true" });
      assert.equal(allocated.json().system_id, "t00001");
    });

    it("refuses update_nodes with a different definition (409) and from a non-admin (403)", async () => {
      const r = await h.client.post("tags/fast/", "update_nodes", { definition: "//node", add: "t00001" });
      assert.equal(r.status, 409);
      assert.equal(r.text, "Definition supplied '//node' doesn't match current definition ''");
      assert.equal((await h.client.post("tags/fast/", "update_nodes", { add: "t00001" }, { apiKey: "BC:BT:BS" })).status, 403);
    });

    it("deletes a tag with 204 and an empty body; then it is 404", async () => {
      const r = await h.client.call("DELETE", "tags/fast/");
      assert.equal(r.status, 204);
      assert.equal(r.text, "");
      const gone = await h.client.get("tags/fast/");
      assert.equal(gone.status, 404);
      assert.equal(gone.text, "No Tag matches the given query.");
    });
  });

  describe("zones and resource pools", () => {
    it("lists zones with MAAS's fields and reads one by name", async () => {
      const zones = (await h.client.get("zones/")).json<Array<Record<string, unknown>>>();
      assert.deepEqual(zones.map((z) => z.name), ["default", "az1"]);
      assert.deepEqual((await h.client.get("zones/az1/")).json(), { name: "az1", description: "first", id: 2, resource_uri: "/MAAS/api/2.0/zones/az1/" });
      assert.equal((await h.client.get("zones/nope/")).text, "No Zone matches the given query.");
    });

    it("lists pools with the default pool as id 0, read through the singular resourcepool/", async () => {
      const pools = (await h.client.get("resourcepools/")).json<Array<Record<string, unknown>>>();
      assert.deepEqual(pools[0], { name: "default", description: "Default pool", id: 0, resource_uri: "/MAAS/api/2.0/resourcepool/0/" });
      const ci = pools.find((p) => p.name === "ci");
      assert.equal((await h.client.get(`resourcepool/${String(ci?.id)}/`)).json().name, "ci");
      assert.equal((await h.client.get("resourcepools/1/")).status, 404);
    });

    it("takes names as MAAS's MODEL_NAME_VALIDATOR does: letters of any script, digits, spaces and dashes, not a leading dash", async () => {
      for (const [name, status] of [["zöne a", 200], ["東京-1", 200], ["-zone", 400], ["zone/a", 400]] as const) {
        const r = await h.client.post("zones/", null, { name });
        assert.equal(r.status, status, `${name}: ${r.text}`);
        if (status === 400) assert.deepEqual(r.json(), { name: ["Enter a valid value."] });
      }
    });

    it("refuses to delete the default zone", async () => {
      const r = await h.client.call("DELETE", "zones/default/");
      assert.equal(r.status, 400);
      assert.equal(r.text, "This zone is the default zone, it cannot be deleted.");
    });
  });

  describe("DNS resources", () => {
    let id = 0;
    it("creates a record from fqdn with space-separated addresses (admin)", async () => {
      const r = await h.client.post("dnsresources/", null, { fqdn: "cp.maas", ip_addresses: "10.0.0.5 10.0.0.6", address_ttl: "0" });
      assert.equal(r.status, 200, r.text);
      const body = r.json<{ id: number; fqdn: string; address_ttl: number; ip_addresses: Array<{ ip: string }>; resource_records: unknown[]; resource_uri: string }>();
      id = body.id;
      assert.equal(body.fqdn, "cp.maas");
      assert.equal(body.address_ttl, 0);
      assert.deepEqual(body.ip_addresses.map((a) => a.ip), ["10.0.0.5", "10.0.0.6"]);
      assert.deepEqual(body.resource_records, []);
      assert.equal(body.resource_uri, `/MAAS/api/2.0/dnsresources/${id}/`);
    });

    it("finds it by fqdn, by name and domain, and returns [] for a missing name", async () => {
      assert.equal((await h.client.get("dnsresources/", { fqdn: "cp.maas" })).json<unknown[]>().length, 1);
      assert.equal((await h.client.get("dnsresources/", { name: "cp", domain: "maas" })).json<unknown[]>().length, 1);
      assert.deepEqual((await h.client.get("dnsresources/", { fqdn: "nope.maas" })).json(), []);
      const unknownDomain = await h.client.get("dnsresources/", { fqdn: "x.nodomain" });
      assert.equal(unknownDomain.status, 404);
    });

    it("updates addresses with PUT and deletes with 204", async () => {
      const r = await h.client.call("PUT", `dnsresources/${id}/`, { form: { ip_addresses: "10.0.0.7", address_ttl: "0" } });
      assert.deepEqual(r.json<{ ip_addresses: Array<{ ip: string }> }>().ip_addresses.map((a) => a.ip), ["10.0.0.7"]);
      const d = await h.client.call("DELETE", `dnsresources/${id}/`);
      assert.equal(d.status, 204);
      assert.equal((await h.client.get(`dnsresources/${id}/`)).text, "No DNSResource matches the given query.");
    });

    it("refuses create to a non-admin", async () => {
      const r = await h.client.post("dnsresources/", null, { fqdn: "x.maas" }, { apiKey: "BC:BT:BS" });
      assert.equal(r.status, 403);
      assert.equal(r.text, "This method is reserved for admin users.");
    });

    it("adds implicit machine records with id -1 when all=true", async () => {
      await h.client.post("machines/t00002/", "deploy", {});
      const all = (await h.client.get("dnsresources/", { all: "true" })).json<Array<{ id: number; fqdn: string }>>();
      assert.ok(all.some((r) => r.id === -1 && r.fqdn === "db.maas"));
    });
  });

  describe("domains, boot resources and users", () => {
    it("lists the default domain", async () => {
      const [d] = (await h.client.get("domains/")).json<Array<Record<string, unknown>>>();
      assert.equal(d?.name, "maas");
      assert.equal(d?.is_default, true);
    });

    it("lists boot resources and reads one with its files", async () => {
      const list = (await h.client.get("boot-resources/")).json<Array<{ id: number; type: string; name: string }>>();
      assert.ok(list.some((r) => r.name === "ubuntu/jammy" && r.type === "Synced"));
      const one = (await h.client.get(`boot-resources/${list[0]?.id ?? 0}/`)).json<{ sets: Record<string, { files: Record<string, { filetype: string }> }> }>();
      assert.equal(Object.values(Object.values(one.sets)[0]?.files ?? {})[0]?.filetype, "squashfs");
      assert.equal((await h.client.get("boot-resources/", { type: "bogus" })).status, 400);
    });

    it("answers whoami", async () => {
      assert.deepEqual((await h.client.get("users/", { op: "whoami" }, { apiKey: "BC:BT:BS" })).json(), {
        is_superuser: false, username: "bob", email: "bob@example.com", is_local: true, resource_uri: "/MAAS/api/2.0/users/bob/",
      });
    });
  });

  describe("machines", () => {
    it("filters GET machines/ and refuses unknown filters like MAAS", async () => {
      const byHost = (await h.client.get("machines/", { hostname: "web" })).json<Array<{ system_id: string }>>();
      assert.deepEqual(byHost.map((m) => m.system_id), ["t00001"]);
      const byZone = (await h.client.get("machines/", { zone: "az1" })).json<Array<{ system_id: string }>>();
      assert.deepEqual(byZone.map((m) => m.system_id), ["t00001"]);
      const byStatus = (await h.client.get("machines/", { status: "deploying" })).json<Array<{ system_id: string }>>();
      assert.deepEqual(byStatus.map((m) => m.system_id), ["t00002"]);
      assert.deepEqual((await h.client.get("machines/", { colour: "red" })).json(), { colour: ["No such constraint."] });
    });

    it("updates a machine with PUT and returns it", async () => {
      const r = await h.client.call("PUT", "machines/t00001/", { form: { hostname: "web-1", swap_size: "2G", description: "frontend" } });
      assert.equal(r.status, 200, r.text);
      const m = r.json();
      assert.equal(m.hostname, "web-1");
      assert.equal(m.fqdn, "web-1.maas");
      assert.equal(m.swap_size, 2_000_000_000);
      assert.equal(typeof m.resource_uri, "string");
      const bad = await h.client.call("PUT", "machines/t00001/", { form: { hostname: "web_1" } });
      assert.deepEqual(bad.json(), { hostname: ["Host label cannot contain underscore: 'web_1'."] });
    });
  });
});
