import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { buildStoreData, loadInventoryFile } from "./inventory.ts";
import { InventoryError } from "./inventory-schema.ts";
import type { Inventory } from "./types.ts";

const admin = { username: "admin", consumerKey: "a", tokenKey: "b", tokenSecret: "c" };
const build = (inventory: Inventory, seed = 1, machines = 5, source?: string) => buildStoreData({ inventory, machines, seed, maasVersion: "3.6.0", admin, source });

describe("inventory", () => {
  const dir = mkdtempSync(join(tmpdir(), "maas-sim-inv-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe("generated machines", () => {
    it("are the same for the same seed and differ for another", () => {
      const a = build({}, 42).state.machines.map((m) => [m.systemId, m.hostname, m.cpuCount, m.memoryMiB]);
      const b = build({}, 42).state.machines.map((m) => [m.systemId, m.hostname, m.cpuCount, m.memoryMiB]);
      const c = build({}, 43).state.machines.map((m) => [m.systemId, m.hostname, m.cpuCount, m.memoryMiB]);
      assert.deepEqual(a, b);
      assert.notDeepEqual(a, c);
      assert.equal(a.length, 5);
    });

    it("keep their names for a seed however many there are, each name used once", () => {
      const machines = build({}, 1, 2000).state.machines;
      // Pinned: a CI run's inventory must not change under its users when the generator is reworked.
      assert.deepEqual([0, 1, 1999].map((i) => [machines[i]?.systemId, machines[i]?.hostname]), [["cbe9bn", "prime-jackal"], ["q98yfc", "calm-ferret"], ["6aykp4", "brave-lemur-54"]]);
      assert.equal(new Set(machines.map((m) => m.systemId)).size, 2000);
      assert.equal(new Set(machines.map((m) => m.hostname)).size, 2000);
    });

    it("follow a generate block: zones, pools and tags round-robin, sizes from the lists", () => {
      const data = build({ zones: [{ name: "z1" }, { name: "z2" }], pools: [{ name: "p" }], generate: { count: 4, cpuCounts: [8], memoryMiB: [16384], zones: ["z1", "z2"], pools: ["p"], tags: ["t"] } });
      const zones = data.state.machines.map((m) => data.state.zones.find((z) => z.id === m.zoneId)?.name);
      assert.deepEqual(zones, ["z1", "z2", "z1", "z2"]);
      assert.ok(data.state.machines.every((m) => m.cpuCount === 8 && m.memoryMiB === 16384 && m.tags[0] === "t"));
    });
  });

  describe("a YAML file", () => {
    it("loads zones, boot resources and machines", () => {
      const file = join(dir, "good.yaml");
      writeFileSync(file, [
        "zones: [{name: rack-1}]",
        "bootResources:",
        "  - {name: ubuntu/jammy, alias: '22.04'}",
        "  - {name: custom/win, type: uploaded, filetype: ddraw}",
        "machines:",
        "  - {hostname: node-1, cpuCount: 8, memoryMiB: 16384, zone: rack-1, disks: [{sizeGB: 240}, {sizeGB: 1000}]}",
        "  - {hostname: node-2, disks: []}",
      ].join("\n"));
      const data = build(loadInventoryFile(file));
      assert.equal(data.state.machines.length, 2);
      assert.equal(data.state.machines[0]?.disks.length, 2);
      assert.equal(data.state.machines[1]?.disks.length, 0);
      assert.equal(data.state.bootResources[1]?.type, "Uploaded");
    });

    const bad: Array<[string, string, RegExp]> = [
      ["a misspelt top-level field", "machine: []", /unknown field machine; known fields here: zones, pools/],
      ["memory as text", "machines: [{memoryMiB: 8G}]", /machines\[0\]\.memoryMiB is invalid \(got "8G"\); write a whole number ≥ 1 \(MiB as a number, e\.g\. memoryMiB: 8192\)/],
      ["an undeclared zone when zones are listed", "zones: [{name: a}]\nmachines: [{zone: b}]", /machines\[0\]\.zone "b" is not listed under zones; add \{name: b\} there or fix the name/],
      ["an unknown status", "machines: [{status: happy}]", /machines\[0\]\.status is invalid \(got "happy"\); write one of new, commissioning/],
      ["an API key with two parts", "users: [{username: x, apiKey: 'a:b'}]", /users\[0\]\.apiKey is invalid .*write consumer_key:token_key:token_secret/],
      ["an API key with a quote, which would break the OAuth header", `users: [{username: x, apiKey: 'a"b:c:d'}]`, /users\[0\]\.apiKey is invalid .*letters, digits/],
      ["broken YAML", "machines: [", /not valid YAML\/JSON/],
    ];
    for (const [name, text, message] of bad) {
      it(`refuses ${name}, naming the field and the fix`, () => {
        const file = join(dir, "bad.yaml");
        writeFileSync(file, text);
        assert.throws(() => build(loadInventoryFile(file), 1, 5, `inventory ${file}`), (e: unknown) => e instanceof InventoryError && message.test(e.message) && e.message.includes(file));
      });
    }

    it("refuses a duplicate system ID", () => {
      assert.throws(() => build({ machines: [{ systemId: "abcd" }, { systemId: "abcd" }] }), /machines\[1\]\.systemId "abcd" is used twice; make it unique/);
    });
  });
});
