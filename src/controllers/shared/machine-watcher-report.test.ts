import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MachineStatus } from "../../maas/index.ts";
import { FAST_MS, SLOW_MS, machine, watching } from "./machine-watcher-fixtures.ts";

describe("MachineWatcher observe() with reportNextRead", () => {
  it("fires after the next read even when MAAS still answers what was observed, then only on change", async () => {
    const b = await watching(["a"], {}, MachineStatus.Allocated);
    b.maas.update("a", { status: MachineStatus.Deploying });
    b.watcher.observe(machine("a", { status: MachineStatus.Deploying }), { reportNextRead: true });
    await b.clock.advance(FAST_MS);
    assert.deepEqual(b.changed, ["ns/a"]);
    await b.clock.advance(FAST_MS * 3);
    assert.deepEqual(b.changed, ["ns/a"], "reported once, not on every read");
  });

  it("fires once when the next read also finds a change", async () => {
    const b = await watching(["a"], {}, MachineStatus.Allocated);
    b.watcher.observe(machine("a", { status: MachineStatus.Deploying }), { reportNextRead: true });
    b.maas.update("a", { status: MachineStatus.Deployed });
    await b.clock.advance(FAST_MS);
    assert.deepEqual(b.changed, ["ns/a"]);
  });

  it("brings the next read forward to fastIntervalMs even for a machine at rest", async () => {
    const b = await watching(["a"], {}, MachineStatus.Allocated);
    const observedAt = b.clock.now();
    b.watcher.observe(machine("a", { status: MachineStatus.Allocated }), { reportNextRead: true });
    await b.clock.advance(FAST_MS);
    assert.equal(b.maas.calls.at(-1)?.atMs, observedAt + FAST_MS);
    assert.deepEqual(b.changed, ["ns/a"]);
  });

  it("fires when the next read fails, so the reconcile writes what it last saw", async () => {
    const b = await watching(["a", "b"], {}, MachineStatus.Allocated);
    b.watcher.observe(machine("a", { status: MachineStatus.Deploying }), { reportNextRead: true });
    b.maas.failing = true;
    await b.clock.advance(FAST_MS);
    assert.deepEqual(b.changed, ["ns/a"], "only the machine whose status waited on the read");
    await b.clock.advance(SLOW_MS);
    assert.deepEqual(b.changed, ["ns/a"]);
  });

  it("waits for a read that starts after the observation, not one already in flight", async () => {
    const b = await watching(["a"], {}, MachineStatus.Allocated);
    b.maas.hold = true;
    await b.clock.advance(SLOW_MS);
    b.watcher.observe(machine("a", { status: MachineStatus.Deploying }), { reportNextRead: true });
    b.maas.release();
    await b.clock.advance(0);
    assert.deepEqual(b.changed, [], "the older read is dropped, and with it no report");
    b.maas.hold = false;
    b.maas.update("a", { status: MachineStatus.Deploying });
    await b.clock.advance(FAST_MS);
    assert.deepEqual(b.changed, ["ns/a"]);
  });
});
