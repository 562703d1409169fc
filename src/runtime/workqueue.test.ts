import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FakeClock } from "../clock/index.ts";
import { exponentialFailureRateLimiter } from "./rate-limiter.ts";
import { WorkQueue } from "./workqueue.ts";

/** Watches a promise without awaiting it, so a test can say it has not settled yet. */
function track<T>(promise: Promise<T>): { settled: boolean; value: T | undefined } {
  const state: { settled: boolean; value: T | undefined } = { settled: false, value: undefined };
  void promise.then((value) => {
    state.settled = true;
    state.value = value;
  });
  return state;
}

function newQueue(clock = new FakeClock(0)): { queue: WorkQueue; clock: FakeClock } {
  return { queue: new WorkQueue({ name: "test", clock }), clock };
}

/** Takes every pending key, marking each done, in the order handed out. */
async function drain(queue: WorkQueue): Promise<string[]> {
  const keys: string[] = [];
  while (queue.len() > 0) {
    const key = await queue.get();
    assert.ok(key !== undefined);
    keys.push(key);
    queue.done(key);
  }
  return keys;
}

describe("WorkQueue", () => {
  describe("when a key is added while it is queued", () => {
    it("collapses the adds into one", async () => {
      const { queue } = newQueue();
      queue.add("a");
      queue.add("a");
      queue.add("a");
      assert.equal(queue.len(), 1);
      assert.deepEqual(await drain(queue), ["a"]);
    });

    it("hands keys out first in, first out", async () => {
      const { queue } = newQueue();
      for (const key of ["c", "a", "b", "a"]) queue.add(key);
      assert.deepEqual(await drain(queue), ["c", "a", "b"]);
    });
  });

  describe("urgent adds", () => {
    it("hand urgent keys out before every other pending key, each lane in order", async () => {
      const { queue } = newQueue();
      for (const key of ["a", "b", "c"]) queue.add(key);
      queue.add("u1", { urgent: true });
      queue.add("d");
      queue.add("u2", { urgent: true });
      assert.deepEqual(await drain(queue), ["u1", "u2", "a", "b", "c", "d"]);
    });

    it("move a key already waiting to the front once, without handing it out twice", async () => {
      const { queue } = newQueue();
      for (const key of ["a", "b", "c"]) queue.add(key);
      queue.add("c", { urgent: true });
      queue.add("c", { urgent: true });
      queue.add("c");
      assert.equal(queue.len(), 3);
      assert.deepEqual(await drain(queue), ["c", "a", "b"]);
      assert.equal(queue.len(), 0);
    });

    it("keep a key urgent while a worker holds it, so it comes back at the front after done", async () => {
      const { queue } = newQueue();
      queue.add("held");
      const held = await queue.get();
      assert.equal(held, "held");
      queue.add("a");
      queue.add("held", { urgent: true });
      queue.add("b");
      queue.done("held");
      assert.deepEqual(await drain(queue), ["held", "a", "b"]);
    });

    it("are forgotten once handed out: a later plain add of the key waits its turn", async () => {
      const { queue } = newQueue();
      queue.add("x", { urgent: true });
      assert.equal(await queue.get(), "x");
      queue.done("x");
      queue.add("a");
      queue.add("x");
      assert.deepEqual(await drain(queue), ["a", "x"]);
    });
  });

  describe("when a key is added while a worker holds it", () => {
    it("does not hand it to a second worker, and runs it once more after done", async () => {
      const { queue, clock } = newQueue();
      queue.add("a");
      const first = await queue.get();
      assert.equal(first, "a");
      queue.add("a");
      queue.add("a");
      assert.equal(queue.len(), 0);
      const second = track(queue.get());
      await clock.advance(0);
      assert.equal(second.settled, false);
      queue.done("a");
      await clock.advance(0);
      assert.deepEqual(second, { settled: true, value: "a" });
      queue.done("a");
      assert.equal(queue.len(), 0);
    });

    it("hands out other keys meanwhile", async () => {
      const { queue } = newQueue();
      queue.add("a");
      assert.equal(await queue.get(), "a");
      queue.add("a");
      queue.add("b");
      assert.equal(await queue.get(), "b");
    });

    it("ignores done for a key it never handed out", async () => {
      const { queue } = newQueue();
      queue.done("never");
      queue.add("a");
      assert.deepEqual(await drain(queue), ["a"]);
    });
  });

  describe("when get waits", () => {
    it("resolves with the next key added", async () => {
      const { queue, clock } = newQueue();
      const waiting = track(queue.get());
      await clock.advance(0);
      assert.equal(waiting.settled, false);
      queue.add("a");
      await clock.advance(0);
      assert.deepEqual(waiting, { settled: true, value: "a" });
    });

    it("serves waiters in the order they asked", async () => {
      const { queue, clock } = newQueue();
      const first = track(queue.get());
      const second = track(queue.get());
      queue.add("a");
      queue.add("b");
      await clock.advance(0);
      assert.equal(first.value, "a");
      assert.equal(second.value, "b");
    });

    it("resolves undefined when its signal aborts, and leaves later keys for others", async () => {
      const { queue, clock } = newQueue();
      const abort = new AbortController();
      const aborted = track(queue.get(abort.signal));
      abort.abort();
      await clock.advance(0);
      assert.deepEqual(aborted, { settled: true, value: undefined });
      queue.add("a");
      assert.equal(queue.len(), 1);
      assert.equal(await queue.get(AbortSignal.abort()), undefined);
      assert.equal(await queue.get(), "a");
    });
  });

  describe("addAfter", () => {
    it("adds the key only once the delay has passed", async () => {
      const { queue, clock } = newQueue();
      queue.addAfter("a", 100);
      assert.equal(queue.len(), 0);
      await clock.advance(99);
      assert.equal(queue.len(), 0);
      await clock.advance(1);
      assert.equal(queue.len(), 1);
    });

    it("adds keys in the order they fall due, then in the order scheduled", async () => {
      const { queue, clock } = newQueue();
      queue.addAfter("late", 30);
      queue.addAfter("early", 10);
      queue.addAfter("middle-1", 20);
      queue.addAfter("middle-2", 20);
      await clock.advance(30);
      assert.deepEqual(await drain(queue), ["early", "middle-1", "middle-2", "late"]);
    });

    it("keeps the earliest time when a key is scheduled again later", async () => {
      const { queue, clock } = newQueue();
      queue.addAfter("a", 10);
      queue.addAfter("a", 100);
      await clock.advance(10);
      assert.deepEqual(await drain(queue), ["a"]);
      await clock.advance(200);
      assert.equal(queue.len(), 0);
    });

    it("moves a key forward when it is scheduled again sooner", async () => {
      const { queue, clock } = newQueue();
      queue.addAfter("a", 100);
      queue.addAfter("a", 10);
      await clock.advance(10);
      assert.deepEqual(await drain(queue), ["a"]);
      await clock.advance(200);
      assert.equal(queue.len(), 0);
      assert.equal(clock.pendingTimers, 0);
    });

    it("adds at once when the delay is zero or negative", () => {
      const { queue } = newQueue();
      queue.addAfter("a", 0);
      queue.addAfter("b", -5);
      assert.equal(queue.len(), 2);
    });

    it("collapses a delayed add into the same key already queued", async () => {
      const { queue, clock } = newQueue();
      queue.add("a");
      queue.addAfter("a", 10);
      await clock.advance(10);
      assert.deepEqual(await drain(queue), ["a"]);
    });

    it("keeps a single clock timer however many keys wait", () => {
      const { queue, clock } = newQueue();
      for (let i = 0; i < 50; i++) queue.addAfter(`key-${i}`, 1000 - i);
      assert.equal(clock.pendingTimers, 1);
    });
  });

  describe("addRateLimited", () => {
    it("delays each retry of a key by the rate limiter's backoff", async () => {
      const clock = new FakeClock(0);
      const queue = new WorkQueue({ name: "test", clock, rateLimiter: exponentialFailureRateLimiter() });
      queue.addRateLimited("a");
      queue.addRateLimited("a");
      assert.equal(queue.numRequeues("a"), 2);
      await clock.advance(4);
      assert.equal(queue.len(), 0);
      await clock.advance(1);
      assert.equal(queue.len(), 1);
    });

    it("backs off from the start again after forget", async () => {
      const { queue, clock } = newQueue();
      queue.addRateLimited("a");
      queue.addRateLimited("a");
      queue.addRateLimited("a");
      queue.forget("a");
      assert.equal(queue.numRequeues("a"), 0);
      await clock.advance(20);
      await drain(queue);
      queue.addRateLimited("a");
      await clock.advance(5);
      assert.equal(queue.len(), 1);
    });
  });

  describe("shutDown", () => {
    it("ignores adds afterwards, in every form", async () => {
      const { queue, clock } = newQueue();
      queue.shutDown();
      queue.add("a");
      queue.addAfter("b", 10);
      queue.addRateLimited("c");
      await clock.advance(1000);
      assert.equal(queue.len(), 0);
      assert.equal(queue.numRequeues("c"), 0);
      assert.equal(queue.isShuttingDown, true);
    });

    it("still hands out keys already queued, then resolves undefined", async () => {
      const { queue } = newQueue();
      queue.add("a");
      queue.shutDown();
      assert.equal(await queue.get(), "a");
      assert.equal(await queue.get(), undefined);
    });

    it("wakes waiting gets with undefined", async () => {
      const { queue, clock } = newQueue();
      const waiting = track(queue.get());
      queue.shutDown();
      await clock.advance(0);
      assert.deepEqual(waiting, { settled: true, value: undefined });
    });

    it("drops delayed keys and leaves no timer behind", async () => {
      const { queue, clock } = newQueue();
      queue.addAfter("a", 10);
      queue.shutDown();
      assert.equal(clock.pendingTimers, 0);
      await clock.advance(10);
      assert.equal(queue.len(), 0);
    });
  });

  describe("shutDownWithDrain", () => {
    it("resolves at once when nothing is being processed", async () => {
      const { queue } = newQueue();
      await queue.shutDownWithDrain();
      assert.equal(queue.isShuttingDown, true);
    });

    it("waits until every key handed out is done", async () => {
      const { queue, clock } = newQueue();
      queue.add("a");
      queue.add("b");
      const a = await queue.get();
      const b = await queue.get();
      assert.ok(a !== undefined && b !== undefined);
      const drained = track(queue.shutDownWithDrain());
      queue.done(a);
      await clock.advance(0);
      assert.equal(drained.settled, false);
      queue.done(b);
      await clock.advance(0);
      assert.equal(drained.settled, true);
    });

    it("stops waiting when shutDown is called", async () => {
      const { queue, clock } = newQueue();
      queue.add("a");
      await queue.get();
      const drained = track(queue.shutDownWithDrain());
      queue.shutDown();
      await clock.advance(0);
      assert.equal(drained.settled, true);
    });
  });
});
