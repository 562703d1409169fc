import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FakeClock } from "./index.ts";

describe("FakeClock", () => {
  it("fires timers in due order and only when time reaches them", async () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push("b"), 200);
    clock.setTimeout(() => fired.push("a"), 100);
    await clock.advance(150);
    assert.deepEqual(fired, ["a"]);
    await clock.advance(50);
    assert.deepEqual(fired, ["a", "b"]);
    assert.equal(clock.now(), 200);
  });

  it("runs a chain of awaited sleeps within one advance", async () => {
    const clock = new FakeClock(0);
    const wokeAt: number[] = [];
    const loop = (async () => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(10);
        wokeAt.push(clock.now());
      }
    })();
    await clock.advance(30);
    await loop;
    assert.deepEqual(wokeAt, [10, 20, 30]);
  });

  it("rejects a sleep when its signal aborts and drops the timer", async () => {
    const clock = new FakeClock(0);
    const controller = new AbortController();
    const sleeping = clock.sleep(1000, controller.signal);
    controller.abort(new Error("stopped"));
    await assert.rejects(sleeping, /stopped/);
    assert.equal(clock.pendingTimers, 0);
  });

  it("does not fire a cleared timer", async () => {
    const clock = new FakeClock(0);
    let fired = false;
    const handle = clock.setTimeout(() => (fired = true), 5);
    clock.clearTimeout(handle);
    await clock.advance(10);
    assert.equal(fired, false);
  });
});
