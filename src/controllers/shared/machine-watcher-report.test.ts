import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MachineStatus } from "../../maas/index.ts";
import { FAST_MS, SLOW_MS, machine, watching } from "./machine-watcher-fixtures.ts";

/** unchangedReportMs for these tests: three fast reads. */
const REPORT_MS = FAST_MS * 3;
const options = { unchangedReportMs: REPORT_MS };

describe("MachineWatcher observe() with reportNextRead", () => {
  it("fires for an unchanged machine on the first read once unchangedReportMs has passed, then only on change", async () => {
    const b = await watching(["a"], options, MachineStatus.Allocated);
    b.maas.update("a", { status: MachineStatus.Deploying });
    b.watcher.observe(machine("a", { status: MachineStatus.Deploying }), { reportNextRead: true });
    await b.clock.advance(REPORT_MS - 1);
    assert.ok(b.maas.calls.length >= 3, "read fast meanwhile");
    assert.deepEqual(b.changed, [], "not yet: a fast MAAS would have moved on");
    assert.equal(b.watcher.reportPending("a"), true);
    await b.clock.advance(FAST_MS);
    assert.deepEqual(b.changed, ["ns/a"]);
    assert.equal(b.watcher.reportPending("a"), false);
    await b.clock.advance(FAST_MS * 5);
    assert.deepEqual(b.changed, ["ns/a"], "reported once, not on every read");
  });

  it("fires at once, and once, when the next read finds a change", async () => {
    const b = await watching(["a"], options, MachineStatus.Allocated);
    b.watcher.observe(machine("a", { status: MachineStatus.Deploying }), { reportNextRead: true });
    b.maas.update("a", { status: MachineStatus.Deployed });
    await b.clock.advance(FAST_MS);
    assert.deepEqual(b.changed, ["ns/a"]);
    await b.clock.advance(REPORT_MS * 2);
    assert.deepEqual(b.changed, ["ns/a"]);
  });

  it("reads at fastIntervalMs even for a machine at rest until it has reported", async () => {
    const b = await watching(["a"], options, MachineStatus.Allocated);
    const observedAt = b.clock.now();
    b.watcher.observe(machine("a", { status: MachineStatus.Allocated }), { reportNextRead: true });
    await b.clock.advance(REPORT_MS);
    assert.deepEqual(b.callTimes().slice(1), [1, 2, 3].map((n) => observedAt + n * FAST_MS));
    assert.deepEqual(b.changed, ["ns/a"]);
    await b.clock.advance(SLOW_MS - 1);
    assert.equal(b.maas.calls.length, 4, "slow again once reported");
  });

  it("fires when the next read fails, so the reconcile writes what it last saw", async () => {
    const b = await watching(["a", "b"], options, MachineStatus.Allocated);
    b.maas.failing = true;
    // The first failed read fires for every machine (MAAS went down); the ones after it do not.
    await b.clock.advance(SLOW_MS);
    b.changed.length = 0;
    b.watcher.observe(machine("a", { status: MachineStatus.Deploying }), { reportNextRead: true });
    await b.clock.advance(FAST_MS);
    assert.deepEqual(b.changed, ["ns/a"], "only the machine whose status waited on the read");
    await b.clock.advance(SLOW_MS);
    assert.deepEqual(b.changed, ["ns/a"]);
  });

  it("waits for a read that starts after the observation, not one already in flight", async () => {
    const b = await watching(["a"], options, MachineStatus.Allocated);
    b.maas.hold = true;
    await b.clock.advance(SLOW_MS);
    b.watcher.observe(machine("a", { status: MachineStatus.Deploying }), { reportNextRead: true });
    b.maas.release();
    await b.clock.advance(0);
    assert.deepEqual(b.changed, [], "the older read is dropped, and with it no report");
    b.maas.hold = false;
    b.maas.update("a", { status: MachineStatus.Deploying });
    await b.clock.advance(REPORT_MS + FAST_MS);
    assert.deepEqual(b.changed, ["ns/a"]);
  });
});
