import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startHarness, type Harness } from "./test-support.ts";
import type { Inventory } from "./types.ts";

const inventory: Inventory = {
  zones: [{ name: "zone-a" }, { name: "zone-b" }],
  pools: [{ name: "gpu-pool" }],
  tags: [{ name: "gpu" }, { name: "ssd" }, { name: "spare" }],
  machines: [
    { systemId: "small1", hostname: "small", cpuCount: 2, memoryMiB: 4096, zone: "zone-a", tags: ["ssd"] },
    { systemId: "mid001", hostname: "mid", cpuCount: 4, memoryMiB: 8192, zone: "zone-b", tags: ["ssd", "gpu"] },
    { systemId: "big001", hostname: "big", cpuCount: 16, memoryMiB: 65536, zone: "zone-b", pool: "gpu-pool", tags: ["gpu"] },
    { systemId: "brk001", hostname: "broken", cpuCount: 1, memoryMiB: 1024, status: "broken" },
  ],
};

describe("POST machines/?op=allocate", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ inventory });
  });
  after(async () => {
    await h.sim.close();
  });

  // Each case allocates with dry_run=true so the machines stay Ready for the next.
  const picks: Array<[string, Record<string, string | string[]>, string]> = [
    ["takes the cheapest Ready machine when there are no constraints", {}, "small1"],
    ["honours a minimum cpu_count", { cpu_count: "3" }, "mid001"],
    ["honours a minimum mem in MiB", { mem: "10000" }, "big001"],
    ["takes a machine with exactly cpu_count CPUs (at least, not more than)", { cpu_count: "4" }, "mid001"],
    ["takes a machine with exactly mem MiB (at least, not more than)", { mem: "8192" }, "mid001"],
    ["requires every tag", { tags: ["ssd", "gpu"] }, "mid001"],
    ["reads comma-separated tags as a list", { tags: "gpu,ssd" }, "mid001"],
    ["excludes machines with any not_tags", { not_tags: "ssd" }, "big001"],
    ["filters on the zone", { zone: "zone-b" }, "mid001"],
    ["excludes not_in_zone", { not_in_zone: "zone-a" }, "mid001"],
    ["filters on the pool", { pool: "gpu-pool" }, "big001"],
    ["excludes not_in_pool", { not_in_pool: "default" }, "big001"],
    ["matches name as hostname", { name: "big" }, "big001"],
    ["matches name as hostname.domain", { name: "mid.maas" }, "mid001"],
    ["matches system_id", { system_id: "big001" }, "big001"],
    ["accepts ignored fields (agent_name, comment, bridge_all, verbose)", { agent_name: "capi", comment: "hi", bridge_all: "false", verbose: "false" }, "small1"],
  ];
  for (const [name, form, expected] of picks) {
    it(name, async () => {
      const r = await h.client.post("machines/", "allocate", { ...form, dry_run: "true" });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json().system_id, expected);
    });
  }

  it("marks the machine Allocated to the caller, records agent_name and adds constraints_by_type", async () => {
    const r = await h.client.post("machines/", "allocate", { system_id: "small1", agent_name: "capi-test" });
    assert.equal(r.status, 200);
    const m = r.json();
    assert.equal(m.status, 10);
    assert.equal(m.status_name, "Allocated");
    assert.equal(m.owner, "admin");
    assert.deepEqual(m.constraints_by_type, {});
    assert.equal(h.sim.state().machines.find((x) => x.systemId === "small1")?.agentName, "capi-test");
  });

  it("never offers a machine that is not Ready", async () => {
    const r = await h.client.post("machines/", "allocate", { system_id: "brk001" });
    assert.equal(r.status, 409);
    assert.equal(r.text, "No machine with system ID brk001 available.");
  });

  describe("when nothing matches", () => {
    it("answers 409 text/plain with the constraints as MAAS prints them", async () => {
      const r = await h.client.post("machines/", "allocate", { cpu_count: "64", tags: "gpu", agent_name: "x" });
      assert.equal(r.status, 409);
      assert.match(r.headers.get("content-type") ?? "", /^text\/plain/);
      assert.equal(r.text, `No available machine matches constraints: [('cpu_count', ['64']), ('tags', ['gpu']), ('agent_name', ['x'])] (resolved to "cpu_count=64.0 tags=gpu")`);
    });

    it("says 'No machine available.' when only ignored fields were given", async () => {
      const all = await Promise.all(["mid001", "big001"].map((id) => h.client.post("machines/", "allocate", { system_id: id })));
      assert.deepEqual(all.map((r) => r.status), [200, 200]);
      const r = await h.client.post("machines/", "allocate", { agent_name: "x" });
      assert.equal(r.status, 409);
      assert.equal(r.text, "No machine available.");
    });
  });

  describe("with bad parameters", () => {
    const cases: Array<[string, Record<string, string>, Record<string, string[]>]> = [
      ["an unknown parameter", { foo: "1" }, { foo: ["No such constraint."] }],
      ["ephemeral_deploy, which is a deploy option", { ephemeral_deploy: "true" }, { ephemeral_deploy: ["No such constraint."] }],
      ["an unknown tag", { tags: "nope" }, { tags: ["No such tag(s): 'nope'."] }],
      ["an unknown zone", { zone: "nowhere" }, { zone: ["No such zone(s): nowhere."] }],
      ["an unknown pool", { pool: "nopool" }, { pool: ["No such pool(s): nopool."] }],
      ["a non-numeric cpu_count", { cpu_count: "many" }, { cpu_count: ["Invalid CPU count: number required."] }],
      ["a non-numeric mem", { mem: "8G" }, { mem: ["Invalid memory: number of MiB required."] }],
    ];
    for (const [name, form, errors] of cases) {
      it(`refuses ${name} with 400 JSON`, async () => {
        const r = await h.client.post("machines/", "allocate", form);
        assert.equal(r.status, 400);
        assert.match(r.headers.get("content-type") ?? "", /^application\/json/);
        assert.deepEqual(r.json(), errors);
      });
    }

    it("refuses an invalid StringBool option before the constraints, as text", async () => {
      const r = await h.client.post("machines/", "allocate", { dry_run: "maybe", foo: "1" });
      assert.equal(r.status, 400);
      assert.equal(r.text, "Invalid dry_run: Value should be 'true' or 'false'");
    });
  });
});

describe("allocate on MAAS before 3.3", () => {
  it("names an unknown zone the old way", async () => {
    const h = await startHarness({ maasVersion: "3.2.0" });
    try {
      const r = await h.client.post("machines/", "allocate", { zone: "nowhere" });
      assert.deepEqual(r.json(), { zone: ["No such zone: 'nowhere'."] });
      const target = await h.client.post("machines/", "allocate", { deployment_target: "memory" });
      assert.deepEqual(target.json(), { deployment_target: ["No such constraint."] });
    } finally {
      await h.sim.close();
    }
  });
});
