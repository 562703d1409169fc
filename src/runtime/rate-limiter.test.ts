import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FakeClock } from "../clock/index.ts";
import {
  defaultControllerRateLimiter,
  exponentialFailureRateLimiter,
  maxOfRateLimiter,
  tokenBucketRateLimiter,
  type RateLimiter,
} from "./rate-limiter.ts";

function delays(limiter: RateLimiter, key: string, count: number): number[] {
  return Array.from({ length: count }, () => limiter.when(key));
}

describe("exponentialFailureRateLimiter", () => {
  it("doubles the delay from 5 ms on each failure", () => {
    const limiter = exponentialFailureRateLimiter();
    assert.deepEqual(delays(limiter, "a", 6), [5, 10, 20, 40, 80, 160]);
    assert.equal(limiter.retries("a"), 6);
  });

  it("caps the delay at 1000 s", () => {
    const limiter = exponentialFailureRateLimiter();
    const all = delays(limiter, "a", 40);
    assert.equal(all[17], 5 * 2 ** 17);
    assert.equal(all[18], 1_000_000);
    assert.equal(all[39], 1_000_000);
  });

  it("keeps the cap after so many failures that 2^n overflows", () => {
    const limiter = exponentialFailureRateLimiter({ baseDelayMs: 1, maxDelayMs: 60_000 });
    const all = delays(limiter, "a", 1100);
    assert.equal(all.at(-1), 60_000);
  });

  it("counts each key on its own", () => {
    const limiter = exponentialFailureRateLimiter();
    delays(limiter, "a", 3);
    assert.equal(limiter.when("b"), 5);
    assert.equal(limiter.retries("a"), 3);
    assert.equal(limiter.retries("b"), 1);
  });

  it("starts again from the base delay once the key is forgotten", () => {
    const limiter = exponentialFailureRateLimiter();
    delays(limiter, "a", 4);
    limiter.forget("a");
    assert.equal(limiter.retries("a"), 0);
    assert.deepEqual(delays(limiter, "a", 2), [5, 10]);
  });

  it("takes other base and maximum delays", () => {
    const limiter = exponentialFailureRateLimiter({ baseDelayMs: 100, maxDelayMs: 500 });
    assert.deepEqual(delays(limiter, "a", 5), [100, 200, 400, 500, 500]);
  });
});

describe("tokenBucketRateLimiter", () => {
  it("lets a burst through at once, then spaces further items at 1/qps", () => {
    const clock = new FakeClock(0);
    const limiter = tokenBucketRateLimiter({ qps: 10, burst: 100, clock });
    const all = Array.from({ length: 103 }, (_, i) => limiter.when(`key-${i}`));
    assert.deepEqual(all.slice(0, 100), Array<number>(100).fill(0));
    assert.deepEqual(all.slice(100), [100, 200, 300]);
  });

  it("refills tokens as the clock moves", async () => {
    const clock = new FakeClock(0);
    const limiter = tokenBucketRateLimiter({ qps: 10, burst: 2, clock });
    assert.deepEqual(delays(limiter, "a", 3), [0, 0, 100]);
    await clock.advance(1000);
    // One second at 10 qps repays the borrowed token and refills the bucket to its burst, no further.
    assert.deepEqual(delays(limiter, "a", 3), [0, 0, 100]);
  });

  it("neither forgets nor counts retries, since the bucket is shared", () => {
    const clock = new FakeClock(0);
    const limiter = tokenBucketRateLimiter({ qps: 1, burst: 1, clock });
    delays(limiter, "a", 2);
    limiter.forget("a");
    assert.equal(limiter.retries("a"), 0);
    assert.equal(limiter.when("a"), 2000);
  });

  it("refuses a rate or burst that could never let anything through", () => {
    const clock = new FakeClock(0);
    assert.throws(() => tokenBucketRateLimiter({ qps: 0, burst: 10, clock }), RangeError);
    assert.throws(() => tokenBucketRateLimiter({ qps: 10, burst: 0, clock }), RangeError);
  });
});

describe("maxOfRateLimiter", () => {
  function fixed(delayMs: number, retries: number, forgotten: string[]): RateLimiter {
    return { when: () => delayMs, forget: (key) => forgotten.push(key), retries: () => retries };
  }

  it("waits the longest delay and reports the most retries", () => {
    const forgotten: string[] = [];
    const limiter = maxOfRateLimiter(fixed(5, 1, forgotten), fixed(50, 0, forgotten), fixed(20, 3, forgotten));
    assert.equal(limiter.when("a"), 50);
    assert.equal(limiter.retries("a"), 3);
  });

  it("passes every call to every limiter", () => {
    const clock = new FakeClock(0);
    const backoff = exponentialFailureRateLimiter();
    const bucket = tokenBucketRateLimiter({ qps: 10, burst: 1, clock });
    const limiter = maxOfRateLimiter(backoff, bucket);
    assert.deepEqual(delays(limiter, "a", 3), [5, 100, 200]);
    assert.equal(backoff.retries("a"), 3);
  });

  it("forgets in every limiter", () => {
    const forgotten: string[] = [];
    const limiter = maxOfRateLimiter(fixed(5, 1, forgotten), fixed(50, 0, forgotten));
    limiter.forget("a");
    assert.deepEqual(forgotten, ["a", "a"]);
  });
});

describe("defaultControllerRateLimiter", () => {
  it("backs a failing key off exponentially while the overall bucket has tokens", () => {
    const limiter = defaultControllerRateLimiter(new FakeClock(0));
    assert.deepEqual(delays(limiter, "a", 4), [5, 10, 20, 40]);
    limiter.forget("a");
    assert.equal(limiter.when("a"), 5);
  });

  it("spaces failures across many keys at 10 qps once the burst of 100 is spent", () => {
    const limiter = defaultControllerRateLimiter(new FakeClock(0));
    const all = Array.from({ length: 102 }, (_, i) => limiter.when(`key-${i}`));
    assert.equal(all[99], 5);
    assert.deepEqual(all.slice(100), [100, 200]);
  });
});
