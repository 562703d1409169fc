import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../clock/index.ts";
import { createLogger } from "../observability/index.ts";
import { LeaderElector, LeaseConflictError, formatMicroTime } from "./leader-election.ts";
import type { LeaderElectionRecord, LeaseLock, LockedRecord } from "./leader-election.ts";

/** An in-memory lease with the API server's optimistic concurrency. */
class MemoryLease implements LeaseLock {
  stored: LockedRecord | undefined;
  private version = 0;
  /** When set, every call fails (API server unreachable). */
  failing = false;
  /** When set, every call hangs forever (a black-holed connection). */
  hanging = false;
  writes = 0;

  get(): Promise<LockedRecord | undefined> {
    return this.guard(() => (this.stored === undefined ? undefined : structuredClone(this.stored)));
  }

  create(record: LeaderElectionRecord): Promise<string> {
    return this.guard(() => {
      if (this.stored !== undefined) throw new LeaseConflictError("exists");
      return this.put(record);
    });
  }

  update(record: LeaderElectionRecord, resourceVersion: string): Promise<string> {
    return this.guard(() => {
      if (this.stored?.resourceVersion !== resourceVersion) throw new LeaseConflictError("conflict");
      return this.put(record);
    });
  }

  private put(record: LeaderElectionRecord): string {
    this.writes += 1;
    this.version += 1;
    this.stored = { record: { ...record }, resourceVersion: String(this.version) };
    return this.stored.resourceVersion;
  }

  private guard<T>(fn: () => T): Promise<T> {
    if (this.hanging) return new Promise<T>(() => {});
    if (this.failing) return Promise.reject(new Error("connect ECONNREFUSED"));
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }
}

const logger = createLogger({ level: "silent" });
const timings = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, random: () => 0 };

function elector(lock: LeaseLock, clock: FakeClock, identity: string): LeaderElector {
  return new LeaderElector({ lock, clock, identity, name: "test", logger, ...timings });
}

function otherHolder(clock: FakeClock, identity = "other"): LeaderElectionRecord {
  return {
    holderIdentity: identity,
    leaseDurationSeconds: 15,
    acquireTimeMs: clock.now(),
    renewTimeMs: clock.now(),
    leaseTransitions: 3,
  };
}

describe("LeaderElector", () => {
  describe("when no lease exists", () => {
    it("creates it and leads at once", async () => {
      const clock = new FakeClock();
      const lock = new MemoryLease();
      const a = elector(lock, clock, "a");
      assert.equal(await a.tryAcquireOrRenew(), true);
      assert.equal(lock.stored?.record.holderIdentity, "a");
      assert.equal(lock.stored?.record.leaseTransitions, 0);
      assert.equal(lock.stored?.record.leaseDurationSeconds, 15);
      assert.equal(lock.stored?.record.acquireTimeMs, clock.now());
    });
  });

  describe("when we hold the lease", () => {
    it("renews it keeping acquireTime and transitions", async () => {
      const clock = new FakeClock();
      const lock = new MemoryLease();
      const a = elector(lock, clock, "a");
      await a.tryAcquireOrRenew();
      const acquiredAt = clock.now();
      await clock.advance(2_000);
      assert.equal(await a.tryAcquireOrRenew(), true);
      assert.equal(lock.stored?.record.renewTimeMs, acquiredAt + 2_000);
      assert.equal(lock.stored?.record.acquireTimeMs, acquiredAt);
      assert.equal(lock.stored?.record.leaseTransitions, 0);
    });
  });

  describe("when another holder's lease is unexpired", () => {
    it("does not take it over, however old its renewTime looks", async () => {
      const clock = new FakeClock();
      const lock = new MemoryLease();
      // The leader's clock is an hour behind ours: its renewTime looks long expired.
      lock.stored = { record: { ...otherHolder(clock), renewTimeMs: clock.now() - 3_600_000 }, resourceVersion: "7" };
      const b = elector(lock, clock, "b");
      assert.equal(await b.tryAcquireOrRenew(), false);
      await clock.advance(14_000);
      assert.equal(await b.tryAcquireOrRenew(), false);
      assert.equal(lock.stored.record.holderIdentity, "other");
    });

    it("restarts the expiry wait whenever the record changes", async () => {
      const clock = new FakeClock();
      const lock = new MemoryLease();
      lock.stored = { record: otherHolder(clock), resourceVersion: "7" };
      const b = elector(lock, clock, "b");
      await b.tryAcquireOrRenew();
      await clock.advance(10_000);
      // The leader renews: a changed record is a live leader.
      lock.stored = { record: { ...otherHolder(clock), renewTimeMs: clock.now() }, resourceVersion: "8" };
      assert.equal(await b.tryAcquireOrRenew(), false);
      await clock.advance(10_000);
      assert.equal(await b.tryAcquireOrRenew(), false, "only 10 s since the record last changed");
    });
  });

  describe("when the holder stops renewing", () => {
    it("takes over once leaseDuration has passed on OUR clock since the record last changed", async () => {
      const clock = new FakeClock();
      const lock = new MemoryLease();
      // The dead leader's renewTime claims the far future (skewed clock); we ignore it.
      lock.stored = { record: { ...otherHolder(clock), renewTimeMs: clock.now() + 3_600_000 }, resourceVersion: "7" };
      const b = elector(lock, clock, "b");
      assert.equal(await b.tryAcquireOrRenew(), false);
      await clock.advance(14_999);
      assert.equal(await b.tryAcquireOrRenew(), false);
      await clock.advance(2);
      assert.equal(await b.tryAcquireOrRenew(), true);
      assert.equal(lock.stored.record.holderIdentity, "b");
      assert.equal(lock.stored.record.leaseTransitions, 4);
      assert.equal(lock.stored.record.acquireTimeMs, clock.now());
    });
  });

  describe("when two candidates race for the same record", () => {
    it("lets exactly one win (the other's write is refused with a conflict)", async () => {
      const clock = new FakeClock();
      const lock = new MemoryLease();
      lock.stored = { record: { ...otherHolder(clock), holderIdentity: "" }, resourceVersion: "7" };
      const b = elector(lock, clock, "b");
      const c = elector(lock, clock, "c");
      const results = await Promise.all([b.tryAcquireOrRenew(), c.tryAcquireOrRenew()]);
      assert.deepEqual(results.filter(Boolean).length, 1);
    });
  });

  describe("run()", () => {
    it("retries every retryPeriod until the lease is free, then leads", async () => {
      const clock = new FakeClock();
      const lock = new MemoryLease();
      lock.stored = { record: otherHolder(clock), resourceVersion: "7" };
      const b = elector(lock, clock, "b");
      const stop = new AbortController();
      let startedAt: number | undefined;
      const running = b.run(stop.signal, () => {
        startedAt = clock.now();
      });
      await clock.advance(14_000);
      assert.equal(b.isLeader(), false);
      await clock.advance(2_000);
      assert.equal(b.isLeader(), true);
      assert.equal(startedAt, clock.now());
      stop.abort();
      assert.equal(await running, "stopped");
    });

    it("gives up leadership when renewals fail for renewDeadline", async () => {
      const clock = new FakeClock();
      const lock = new MemoryLease();
      const a = elector(lock, clock, "a");
      const running = a.run(new AbortController().signal, () => {});
      await clock.advance(0);
      assert.equal(a.isLeader(), true);
      await clock.advance(4_000);
      const lastRenew = lock.stored?.record.renewTimeMs;
      lock.failing = true;
      await clock.advance(9_000);
      assert.equal(a.isLeader(), true, "still inside the renew deadline");
      await clock.advance(2_000);
      assert.equal(await running, "lost");
      assert.equal(a.isLeader(), false);
      assert.ok(clock.now() - (lastRenew ?? 0) >= 10_000);
      assert.ok(clock.now() - (lastRenew ?? 0) < 15_000, "gave up before a follower could take over");
    });

    it("gives up too when a renewal hangs instead of failing", async () => {
      const clock = new FakeClock();
      const lock = new MemoryLease();
      const a = elector(lock, clock, "a");
      const running = a.run(new AbortController().signal, () => {});
      await clock.advance(0);
      lock.hanging = true;
      await clock.advance(12_001);
      assert.equal(await running, "lost");
    });

    it("on stop, releases the lease: empty holder, leaseDurationSeconds 1", async () => {
      const clock = new FakeClock();
      const lock = new MemoryLease();
      const a = elector(lock, clock, "a");
      const stop = new AbortController();
      const running = a.run(stop.signal, () => {});
      await clock.advance(3_000);
      stop.abort();
      assert.equal(await running, "stopped");
      assert.equal(lock.stored?.record.holderIdentity, "");
      assert.equal(lock.stored?.record.leaseDurationSeconds, 1);
      assert.equal(lock.stored?.record.leaseTransitions, 0);

      const b = elector(lock, clock, "b");
      assert.equal(await b.tryAcquireOrRenew(), true, "a released lease is taken without waiting");
      assert.equal(lock.stored?.record.leaseTransitions, 1);
    });
  });

  describe("with the default clock", () => {
    it("judges expiry on a monotonic clock, so a wall-clock jump cannot hand a live lease over", async (t) => {
      t.mock.timers.enable({ apis: ["Date"], now: Date.now() });
      const lease = new MemoryLease();
      const holder = new LeaderElector({ lock: lease, identity: "holder", name: "test", logger });
      assert.equal(await holder.tryAcquireOrRenew(), true);
      const follower = new LeaderElector({ lock: lease, identity: "follower", name: "test", logger });
      assert.equal(await follower.tryAcquireOrRenew(), false);
      // An NTP step of one hour forward on the follower's node, a moment later.
      t.mock.timers.setTime(Date.now() + 3_600_000);
      assert.equal(await follower.tryAcquireOrRenew(), false, "the lease has not expired");
      assert.equal(lease.stored?.record.holderIdentity, "holder");
    });
  });

  it("refuses timings where a leader could still act after a follower takes over", () => {
    assert.throws(
      () => new LeaderElector({ lock: new MemoryLease(), identity: "a", name: "t", logger, leaseDurationMs: 5_000, renewDeadlineMs: 6_000 }),
      RangeError,
    );
  });
});

describe("formatMicroTime", () => {
  it("writes RFC 3339 with six fractional digits", () => {
    assert.equal(formatMicroTime(Date.UTC(2026, 0, 1, 0, 0, 0, 123)), "2026-01-01T00:00:00.123000Z");
  });
});
