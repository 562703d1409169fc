import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MachineStatus, type Machine } from "../../maas/index.ts";
import { FAST_MS, SETTLE_MS, SLOW_MS, bed, machine, watching } from "./machine-watcher-fixtures.ts";

describe("MachineWatcher", () => {
  describe("when machines are watched", () => {
    it("reads a burst of watches in one GET once settleMs has passed", async () => {
      const b = bed();
      b.maas.put(machine("a"), machine("b"), machine("c"));
      b.watcher.watch("a", "ns/a");
      await b.clock.advance(20);
      b.watcher.watch("b", "ns/b");
      b.watcher.watch("c", "ns/c");
      await b.clock.advance(SETTLE_MS - 21);
      assert.equal(b.maas.calls.length, 0, "nothing is read before settleMs");

      await b.clock.advance(1);
      assert.equal(b.maas.calls.length, 1);
      assert.deepEqual([...(b.maas.calls[0]?.systemIds ?? [])].sort(), ["a", "b", "c"]);
      assert.equal(b.watcher.snapshot("b")?.machine?.system_id, "b");
      assert.equal(b.watcher.snapshot("b")?.observedAtMs, SETTLE_MS);
    });

    it("reads more IDs than batchSize in ceil(n / batchSize) GETs on every poll", async () => {
      const ids = Array.from({ length: 7 }, (_, i) => `m${String(i)}`);
      const b = await watching(ids, { batchSize: 3 });
      assert.deepEqual(b.maas.calls.map((c) => c.systemIds.length), [3, 3, 1]);
      assert.deepEqual(b.maas.calls.flatMap((c) => c.systemIds).sort(), ids);

      await b.clock.advance(SLOW_MS);
      assert.equal(b.maas.calls.length, 6, "the next poll reads every batch again");
      assert.equal(b.watcher.reads, 6);
    });

    it("re-keys an ID watched again without reading it again", async () => {
      const b = await watching(["a"]);
      b.watcher.watch("a", "ns/renamed");
      await b.clock.advance(SLOW_MS - 1);
      assert.equal(b.maas.calls.length, 1);
      assert.deepEqual(b.watcher.keys(), ["ns/renamed"]);

      b.maas.update("a", { power_state: "off" });
      await b.clock.advance(1);
      assert.deepEqual(b.changed, ["ns/renamed"]);
    });

    it("keeps only the typed fields of what it read or was shown, not MAAS's whole machine", async () => {
      const b = bed();
      b.maas.put(machine("a", { interface_set: [{ id: 1 }], blockdevice_set: [{ id: 2 }] } as Partial<Machine>));
      b.watcher.watch("a", "ns/a");
      await b.clock.advance(SETTLE_MS);
      const read = b.watcher.snapshot("a")?.machine;
      assert.equal(read?.system_id, "a");
      assert.equal(read !== undefined && "interface_set" in read, false);
      b.watcher.observe(machine("a", { status: MachineStatus.Deploying, blockdevice_set: [] } as Partial<Machine>));
      const shown = b.watcher.snapshot("a")?.machine;
      assert.equal(shown?.status, MachineStatus.Deploying);
      assert.equal(shown !== undefined && "blockdevice_set" in shown, false);
    });

    it("makes no GET while nothing is watched", async () => {
      const b = bed();
      await b.clock.advance(SLOW_MS * 5);
      assert.equal(b.maas.calls.length, 0);
    });
  });

  describe("onChange", () => {
    it("fires once for each machine on its first read", async () => {
      const b = bed();
      b.maas.put(machine("a"), machine("b"));
      b.watcher.watch("a", "ns/a");
      b.watcher.watch("b", "ns/b");
      await b.clock.advance(SETTLE_MS);
      assert.deepEqual(b.changed.sort(), ["ns/a", "ns/b"]);
    });

    it("does not fire when a read finds every machine as it was", async () => {
      const b = await watching(["a", "b"]);
      b.maas.update("a", { status_message: "a new event", description: "edited" });
      await b.clock.advance(SLOW_MS * 3);
      assert.equal(b.maas.calls.length, 4);
      assert.deepEqual(b.changed, []);
    });

    const changes: ReadonlyArray<[string, Partial<Machine>]> = [
      ["status", { status: MachineStatus.Releasing }],
      ["power_state", { power_state: "off" }],
      ["owner", { owner: null }],
      ["ephemeral_deploy", { ephemeral_deploy: true }],
      ["hostname", { hostname: "renamed" }],
      ["fqdn", { fqdn: "renamed.maas" }],
      ["ip_addresses", { ip_addresses: ["10.0.0.1", "10.0.0.2"] }],
      ["zone", { zone: { name: "zone-b" } }],
    ];
    for (const [field, fields] of changes) {
      it(`fires only for the machine whose ${field} changed`, async () => {
        const b = await watching(["a", "b", "c"]);
        b.maas.update("b", fields);
        await b.clock.advance(SLOW_MS);
        assert.deepEqual(b.changed, ["ns/b"]);
      });
    }

    it("fires for a machine MAAS no longer has, leaving a snapshot without a machine, and only once", async () => {
      const b = await watching(["a", "b"]);
      b.maas.machines.delete("a");
      await b.clock.advance(SLOW_MS);
      assert.deepEqual(b.changed, ["ns/a"]);
      const snapshot = b.watcher.snapshot("a");
      assert.ok(snapshot !== undefined);
      assert.equal(snapshot.machine, undefined);
      assert.equal(snapshot.observedAtMs, SETTLE_MS + SLOW_MS);

      await b.clock.advance(SLOW_MS);
      assert.deepEqual(b.changed, ["ns/a"], "still gone is no change");
    });
  });

  describe("the interval between reads", () => {
    for (const [name, status] of [
      ["Deploying", MachineStatus.Deploying],
      ["Releasing", MachineStatus.Releasing],
      ["Disk erasing", MachineStatus.DiskErasing],
      ["Commissioning", MachineStatus.Commissioning],
    ] as const) {
      it(`is fastIntervalMs while any watched machine is ${name}`, async () => {
        const b = await watching(["rest"]);
        b.maas.put(machine("moving", { status }));
        b.watcher.watch("moving", "ns/moving");
        await b.clock.advance(SETTLE_MS + FAST_MS * 3);
        const times = b.callTimes();
        assert.deepEqual(times.slice(1), [2 * SETTLE_MS, 2 * SETTLE_MS + FAST_MS, 2 * SETTLE_MS + 2 * FAST_MS, 2 * SETTLE_MS + 3 * FAST_MS]);
      });
    }

    it("reads machines at rest (Deployed, Ready, Allocated, gone) once their last view is slowIntervalMs old, with those nearly as old in the same GET", async () => {
      const b = await watching(["deployed"]);
      const deployedReadAt = b.clock.now();
      b.maas.put(machine("ready", { status: MachineStatus.Ready }), machine("allocated", { status: MachineStatus.Allocated }));
      for (const id of ["ready", "allocated", "gone"]) b.watcher.watch(id, `ns/${id}`);
      await b.clock.advance(SETTLE_MS);
      const last = b.callTimes().at(-1) ?? 0;
      assert.deepEqual([...(b.maas.calls.at(-1)?.systemIds ?? [])].sort(), ["allocated", "gone", "ready"], "only the new ones: deployed was just read");
      await b.clock.advance(deployedReadAt + SLOW_MS - 1 - b.clock.now());
      assert.equal(b.callTimes().at(-1), last, "no read before deployed's view is slowIntervalMs old");
      await b.clock.advance(1);
      assert.equal(b.callTimes().at(-1), deployedReadAt + SLOW_MS);
      assert.deepEqual([...(b.maas.calls.at(-1)?.systemIds ?? [])].sort(), ["allocated", "deployed", "gone", "ready"]);
      await b.clock.advance(SLOW_MS);
      assert.equal(b.callTimes().at(-1), deployedReadAt + 2 * SLOW_MS, "then every slowIntervalMs");
    });

    it("reads only the moving machines every fastIntervalMs, not those at rest beside them", async () => {
      const atRest = ["r1", "r2", "r3"];
      const b = await watching(atRest);
      b.maas.put(machine("moving", { status: MachineStatus.Deploying }));
      b.watcher.watch("moving", "ns/moving");
      await b.clock.advance(SETTLE_MS);
      const before = b.maas.calls.length;
      await b.clock.advance(FAST_MS * 5);
      const reads = b.maas.calls.slice(before);
      assert.ok(reads.length >= 5, `read fast: ${String(reads.length)}`);
      assert.deepEqual([...new Set(reads.flatMap((c) => c.systemIds))], ["moving"]);
    });

    it("slows down when the last moving machine comes to rest", async () => {
      const b = await watching(["a"], {}, MachineStatus.Deploying);
      await b.clock.advance(FAST_MS);
      b.maas.update("a", { status: MachineStatus.Deployed });
      await b.clock.advance(FAST_MS);
      const arrived = b.clock.now();
      assert.deepEqual(b.changed, ["ns/a"]);
      await b.clock.advance(SLOW_MS * 2);
      assert.deepEqual(b.callTimes().filter((t) => t > arrived), [arrived + SLOW_MS, arrived + 2 * SLOW_MS]);
    });

    it("is fastIntervalMs while a watched machine has not been read yet", async () => {
      // A long settle, so only the "not read yet" rule can bring the read forward.
      const settleMs = 10 * FAST_MS;
      const b = bed({ settleMs });
      b.maas.put(machine("a"), machine("late"));
      b.watcher.watch("a", "ns/a");
      await b.clock.advance(settleMs);
      b.maas.hold = true;
      await b.clock.advance(SLOW_MS);
      assert.equal(b.maas.calls.length, 2, "a poll is in flight");
      // Watched while the poll that already chose its IDs is running.
      b.watcher.watch("late", "ns/late");
      b.maas.hold = false;
      b.maas.release();
      const pollEnded = b.clock.now();
      await b.clock.advance(FAST_MS);
      assert.equal(b.callTimes().at(-1), pollEnded + FAST_MS);
      assert.equal(b.watcher.snapshot("late")?.machine?.system_id, "late");
    });
  });

  describe("observe()", () => {
    it("makes the next read compare against the observed machine, so an unchanged machine fires nothing", async () => {
      const b = await watching(["a"], {}, MachineStatus.Allocated);
      // A reconcile deploys the machine and records MAAS's answer.
      b.maas.update("a", { status: MachineStatus.Deploying });
      b.watcher.observe(machine("a", { status: MachineStatus.Deploying }));
      assert.equal(b.watcher.snapshot("a")?.machine?.status, MachineStatus.Deploying);
      await b.clock.advance(SLOW_MS);
      assert.ok(b.maas.calls.length > 1);
      assert.deepEqual(b.changed, []);
    });

    it("still fires when MAAS then moves on from the observed machine", async () => {
      const b = await watching(["a"], {}, MachineStatus.Allocated);
      b.watcher.observe(machine("a", { status: MachineStatus.Deploying }));
      b.maas.update("a", { status: MachineStatus.Deployed });
      await b.clock.advance(FAST_MS);
      assert.deepEqual(b.changed, ["ns/a"]);
    });

    it("brings the next read forward to fastIntervalMs for a machine observed moving", async () => {
      const b = await watching(["a"], {}, MachineStatus.Allocated);
      const observedAt = b.clock.now();
      b.watcher.observe(machine("a", { status: MachineStatus.Deploying }));
      await b.clock.advance(FAST_MS);
      assert.deepEqual(b.callTimes(), [SETTLE_MS, observedAt + FAST_MS]);
    });

    it("keeps an observed machine when a read that started before the observation answers with older state", async () => {
      const b = await watching(["a"], {}, MachineStatus.Allocated);
      b.maas.hold = true;
      await b.clock.advance(SLOW_MS); // a read starts while MAAS still says Allocated
      const reads = b.maas.calls.length;
      b.watcher.observe(machine("a", { status: MachineStatus.Deploying })); // the deploy's answer
      b.maas.release();
      await b.clock.advance(0);
      assert.equal(b.maas.calls.length, reads);
      assert.equal(b.watcher.snapshot("a")?.machine?.status, MachineStatus.Deploying, "not sent back to Allocated");
      assert.deepEqual(b.changed, []);
    });

    it("ignores a machine that is not watched", async () => {
      const b = await watching(["a"]);
      b.watcher.observe(machine("stranger", { status: MachineStatus.Deploying }));
      assert.equal(b.watcher.snapshot("stranger"), undefined);
      await b.clock.advance(SLOW_MS - 1);
      assert.equal(b.maas.calls.length, 1);
    });
  });

  describe("unwatch()", () => {
    it("stops reading that ID", async () => {
      const b = await watching(["a", "b"]);
      b.watcher.unwatch("a");
      await b.clock.advance(SLOW_MS);
      assert.deepEqual(b.maas.calls.at(-1)?.systemIds, ["b"]);
      assert.deepEqual(b.watcher.keys(), ["ns/b"]);
      assert.equal(b.watcher.snapshot("a"), undefined);

      b.watcher.unwatch("b");
      await b.clock.advance(SLOW_MS * 3);
      assert.equal(b.maas.calls.length, 2, "nothing watched, nothing read");
    });

    it("drops a machine unwatched while its read is in flight, without firing for it", async () => {
      const b = bed();
      b.maas.put(machine("a"), machine("b"));
      b.maas.hold = true;
      b.watcher.watch("a", "ns/a");
      b.watcher.watch("b", "ns/b");
      await b.clock.advance(SETTLE_MS);
      b.watcher.unwatch("a");
      b.maas.release();
      await b.clock.advance(0);
      assert.deepEqual(b.changed, ["ns/b"]);
      assert.equal(b.watcher.snapshot("a"), undefined);
    });
  });

  describe("when MAAS fails", () => {
    it("backs off, doubling from fastIntervalMs up to slowIntervalMs, then recovers", async () => {
      const b = await watching(["a"], {}, MachineStatus.Deploying);
      b.maas.failing = true;
      const firstFailure = b.clock.now() + FAST_MS;
      await b.clock.advance(FAST_MS + 2 * FAST_MS + 4 * FAST_MS + 8 * FAST_MS + SLOW_MS + SLOW_MS);
      const gaps = b.callTimes().filter((t) => t >= firstFailure).map((t, i, all) => t - (all[i - 1] ?? t)).slice(1);
      assert.deepEqual(gaps, [2 * FAST_MS, 4 * FAST_MS, 8 * FAST_MS, SLOW_MS, SLOW_MS]);
      assert.deepEqual(b.changed, ["ns/a"], "the first failed read, not the ones after it");
      assert.equal(b.watcher.snapshot("a")?.machine?.status, MachineStatus.Deploying, "the last snapshot is kept");

      b.maas.failing = false;
      b.maas.update("a", { ip_addresses: ["10.0.0.9"] });
      b.changed.length = 0;
      await b.clock.advance(SLOW_MS);
      const recoveredAt = b.clock.now();
      assert.equal(b.callTimes().at(-1), recoveredAt);
      assert.deepEqual([...new Set(b.changed)], ["ns/a"]);
      await b.clock.advance(FAST_MS);
      assert.equal(b.callTimes().at(-1), recoveredAt + FAST_MS, "one success ends the backoff");
    });
  });

  describe("readFailure()", () => {
    it("is undefined while reads succeed, and says since when and why once they fail", async () => {
      const b = await watching(["a"]);
      assert.equal(b.watcher.readFailure(), undefined);
      assert.equal(b.watcher.lastReadMs(), SETTLE_MS);
      b.maas.failing = true;
      await b.clock.advance(SLOW_MS);
      const first = b.clock.now();
      await b.clock.advance(SLOW_MS);
      const failure = b.watcher.readFailure();
      assert.equal(failure?.sinceMs, first);
      assert.equal(failure?.lastMs, b.callTimes().at(-1), "the last failed read");
      assert.ok((failure?.lastMs ?? 0) > first);
      assert.match(String(failure?.error), /down/);
      assert.equal(b.watcher.lastReadMs(), SETTLE_MS, "no read has succeeded since");
    });

    it("fires onChange for every watched machine, changed or not, when reads start failing and again when one succeeds", async () => {
      const transitions: Array<boolean> = [];
      const b = await watching(["a", "b"], { onReadFailureChange: (failure) => transitions.push(failure !== undefined) });
      b.maas.failing = true;
      await b.clock.advance(SLOW_MS * 3);
      assert.deepEqual(b.changed.sort(), ["ns/a", "ns/b"]);
      assert.deepEqual(transitions, [true]);

      b.changed.length = 0;
      b.maas.failing = false;
      await b.clock.advance(SLOW_MS);
      assert.deepEqual(b.changed.sort(), ["ns/a", "ns/b"], "unchanged machines too: their objects say MAAS answers again");
      assert.equal(b.watcher.readFailure(), undefined);
      assert.deepEqual(transitions, [true, false]);
    });
  });

  describe("stop()", () => {
    it("cancels the timer, so nothing is read afterwards", async () => {
      const b = await watching(["a"], {}, MachineStatus.Deploying);
      assert.equal(b.clock.pendingTimers, 1);
      b.watcher.stop();
      assert.equal(b.clock.pendingTimers, 0);
      b.watcher.watch("b", "ns/b");
      await b.clock.advance(SLOW_MS * 5);
      assert.equal(b.maas.calls.length, 1);
      assert.equal(b.clock.pendingTimers, 0, "a watch after stop schedules nothing");
    });

    it("aborts a read in flight and schedules nothing after it", async () => {
      const b = bed();
      b.maas.put(machine("a"));
      b.maas.hold = true;
      b.watcher.watch("a", "ns/a");
      await b.clock.advance(SETTLE_MS);
      const signal = b.maas.calls[0]?.signal;
      assert.ok(signal !== undefined, "the read is given a signal");
      assert.equal(signal.aborted, false);

      b.watcher.stop();
      assert.equal(signal.aborted, true);
      await b.watcher.pollNow();
      await b.clock.advance(SLOW_MS * 5);
      assert.equal(b.clock.pendingTimers, 0);
      assert.equal(b.maas.calls.length, 1);
      assert.deepEqual(b.changed, []);
    });
  });
});
