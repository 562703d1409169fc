import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startHarness, type Harness } from "./test-support.ts";
import type { Inventory } from "./types.ts";

// Costs (cpu_count + memory/1024) order the machines: small < split < wide < fast < bare < big.
const inventory: Inventory = {
  machines: [
    { systemId: "small1", cpuCount: 1, memoryMiB: 1024, disks: [{ sizeGB: 240 }] },
    { systemId: "split1", cpuCount: 2, memoryMiB: 1024, disks: [{ sizeGB: 240 }, { sizeGB: 1000, tags: ["rotary"] }] },
    { systemId: "wide01", cpuCount: 3, memoryMiB: 1024, disks: [{ sizeGB: 500 }, { sizeGB: 1000, tags: ["rotary"] }, { sizeGB: 200 }, { sizeGB: 600 }] },
    { systemId: "fast01", cpuCount: 4, memoryMiB: 1024, disks: [{ sizeGB: 2000, tags: ["nvme", "ssd"] }] },
    { systemId: "bare01", cpuCount: 5, memoryMiB: 1024, disks: [] },
    { systemId: "big001", cpuCount: 6, memoryMiB: 1024, disks: [{ sizeGB: 4000, tags: ["rotary"] }] },
  ],
};

type Disk = { id: number; size: number; partitions: Array<{ id: number; size: number }> };

describe("the storage constraint", () => {
  let h: Harness;
  let disks: Record<string, Disk[]>;
  const allocate = (storage: string, extra: Record<string, string> = {}) => h.client.post("machines/", "allocate", { storage, dry_run: "true", ...extra });

  before(async () => {
    h = await startHarness({ inventory });
    const list = (await h.client.get("machines/")).json<Array<{ system_id: string; blockdevice_set: Disk[] }>>();
    disks = Object.fromEntries(list.map((m) => [m.system_id, m.blockdevice_set]));
  });
  after(async () => {
    await h.sim.close();
  });
  const diskId = (systemId: string, index: number): number => disks[systemId]?.[index]?.id ?? -1;

  describe("when allocating", () => {
    // nodes_by_storage: the first entry is the disk holding "/", sizes in decimal GB.
    const picks: Array<[string, string, string]> = [
      ["takes the cheapest machine whose root disk is at least the size", "root:300", "wide01"],
      ["reads sizes as decimal GB (10^9 bytes): a 240 GB disk is 240, not 223.5 GiB", "240", "small1"],
      ["accepts fractional sizes", "root:239.5", "small1"],
      ["never counts a bigger second disk for the root entry", "root:900", "fast01"],
      ["needs every tag of the root entry on the root disk", "root:10(ssd,nvme)", "fast01"],
      ["matches the root entry by tags alone with a size of 0", "0(rotary)", "big001"],
      ["needs an unused disk for each further entry", "root:10,data:900", "split1"],
      ["needs the further entry's tags on that disk", "root:10,data:10(ssd)", "wide01"],
      ["never gives one disk to two entries", "root:10,a:500,b:500", "wide01"],
      ["measures a root entry tagged partition against the root partition (the disk less 8 MiB)", "root:239.9(partition)", "small1"],
      ["so a 240 GB disk's partition is too small for 240(partition)", "root:240(partition)", "wide01"],
    ];
    for (const [name, storage, expected] of picks) {
      it(name, async () => {
        const r = await allocate(storage);
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json().system_id, expected);
      });
    }

    it("returns which disks each labelled entry took in constraints_by_type", async () => {
      // The tagged entry is matched before the untagged one (get_storage_constraints_from_string
      // sorts further entries by tag count), and each takes the smallest disk that fits.
      const r = await allocate("root:10,big:150,fast:150(ssd)");
      assert.equal(r.json().system_id, "wide01");
      assert.deepEqual(r.json().constraints_by_type, {
        storage: { root: [diskId("wide01", 0)], fast: [diskId("wide01", 2)], big: [diskId("wide01", 3)] },
      });
    });

    it("lists several disks under a label used twice and leaves unlabelled entries out", async () => {
      const r = await allocate("10,data:10,data:10");
      assert.equal(r.json().system_id, "wide01");
      assert.deepEqual(r.json().constraints_by_type, { storage: { data: [diskId("wide01", 2), diskId("wide01", 3)] } });
      const unlabelled = await allocate("10");
      assert.deepEqual(unlabelled.json().constraints_by_type, {});
    });

    it("keys a matched root partition as partition:<id>", async () => {
      const r = await allocate("root:10(partition)");
      const partition = disks.small1?.[0]?.partitions[0]?.id;
      assert.deepEqual(r.json().constraints_by_type, { storage: { root: [`partition:${partition}`] } });
    });

    it("reads the last of repeated storage values, as a CharField does", async () => {
      const r = await h.client.post("machines/", "allocate", { storage: ["root:3000", "root:300"], dry_run: "true" });
      assert.equal(r.json().system_id, "wide01");
    });

    it("treats an empty value as no constraint", async () => {
      const r = await allocate("");
      assert.equal(r.json().system_id, "small1");
    });
  });

  describe("when no machine matches", () => {
    const none: Array<[string, string]> = [
      ["a root entry larger than every root disk", "root:5000"],
      ["a further entry on machines with one disk only, the root one", "root:1500,data:1"],
      ["a further entry tagged partition (only the root partition exists, and it is in use)", "root:10,10(partition)"],
      ["a root partition with a tag (simulated partitions have none)", "root:10(partition,ssd)"],
      ["a root entry asking for a tag the disk lacks", "root:10(hdd)"],
    ];
    for (const [name, storage] of none) {
      it(`answers 409 for ${name}`, async () => {
        const r = await allocate(storage);
        assert.equal(r.status, 409, r.text);
      });
    }

    it("never offers a diskless machine, which has no root disk", async () => {
      const r = await allocate("0", { system_id: "bare01" });
      assert.equal(r.status, 409);
      assert.equal(r.text, "No machine with system ID bare01 available.");
    });

    it("describes the constraint as given", async () => {
      const r = await h.client.post("machines/", "allocate", { storage: " root:5000(ssd) " });
      assert.equal(r.text, `No available machine matches constraints: [('storage', [' root:5000(ssd) '])] (resolved to "storage=root:5000(ssd)")`);
    });
  });

  describe("with a malformed value", () => {
    // storage_validator: what STORAGE_REGEX finds must re-assemble into the whole value.
    const malformed = ["abc", "root:", "10,", "10(ssd", "10)", "(ssd)10", "root:10, data:20", "a:b:10", "root_disk:10", "10GB"];
    for (const value of malformed) {
      it(`refuses ${JSON.stringify(value)} with MAAS's field error`, async () => {
        const r = await allocate(value);
        assert.equal(r.status, 400);
        assert.match(r.headers.get("content-type") ?? "", /^application\/json/);
        assert.deepEqual(r.json(), { storage: [`Malformed storage constraint, "${value}".`] });
      });
    }

    it("answers 500 for a size the validator passes but Python's float() refuses", async () => {
      const r = await allocate("root:1.2.3");
      assert.equal(r.status, 500);
      assert.equal(r.text, "could not convert string to float: '1.2.3'");
    });

    it("reports the storage error with the other field errors, in form order", async () => {
      const r = await h.client.post("machines/", "allocate", { cpu_count: "x", storage: "bad", zone: "nowhere" });
      assert.deepEqual(Object.keys(r.json()), ["zone", "storage", "cpu_count"]);
    });
  });

  it("refuses verbose=true with storage loudly: MAAS's verbose_storage is keyed by internal node ids", async () => {
    const r = await allocate("10", { verbose: "true" });
    assert.equal(r.status, 400);
    assert.match(r.text, /does not support verbose=true together with the storage constraint/);
  });

  it("filters GET machines/ the same way", async () => {
    const r = await h.client.get("machines/", { storage: "root:10,data:900" });
    assert.deepEqual(r.json<Array<{ system_id: string }>>().map((m) => m.system_id).sort(), ["split1", "wide01"]);
    const bad = await h.client.get("machines/", { storage: "x" });
    assert.deepEqual(bad.json(), { storage: ['Malformed storage constraint, "x".'] });
  });

  it("shows each disk's tags in the machine JSON", () => {
    assert.deepEqual(disks.split1?.map((d) => (d as unknown as { tags: string[] }).tags), [["ssd"], ["rotary"]]);
  });
});
