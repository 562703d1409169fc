import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ListWatchState, MIN_HEALTHY_WATCH_MS } from "./informer-state.ts";

const noJitter = { random: () => 0 };

function synced(rv = "100"): ListWatchState {
  const state = new ListWatchState(noJitter);
  state.start();
  state.listSucceeded(rv);
  return state;
}

describe("ListWatchState", () => {
  it("lists first, then watches from the list's resourceVersion", () => {
    const state = new ListWatchState(noJitter);
    assert.deepEqual(state.start(), { action: "list" });
    assert.equal(state.hasSynced, false);
    assert.deepEqual(state.listSucceeded("42"), { action: "watch", resourceVersion: "42" });
    assert.equal(state.hasSynced, true);
  });

  describe("when the list fails", () => {
    it("waits with exponential backoff (800 ms, 1.6 s, 3.2 s …) and lists again", () => {
      const state = new ListWatchState(noJitter);
      state.start();
      assert.deepEqual(state.listFailed(), { action: "wait", delayMs: 800, then: "list" });
      assert.deepEqual(state.listFailed(), { action: "wait", delayMs: 1_600, then: "list" });
      assert.deepEqual(state.listFailed(), { action: "wait", delayMs: 3_200, then: "list" });
      assert.deepEqual(state.afterWait("list"), { action: "list" });
    });

    it("caps the delay at 30 s", () => {
      const state = new ListWatchState(noJitter);
      for (let i = 0; i < 20; i++) state.listFailed();
      const step = state.listFailed();
      assert.equal(step.action === "wait" && step.delayMs, 30_000);
    });

    it("stretches each delay by up to the jitter fraction", () => {
      const state = new ListWatchState({ random: () => 0.5, jitter: 1.0 });
      const step = state.listFailed();
      assert.equal(step.action === "wait" && step.delayMs, 1_200);
    });
  });

  describe("while watching", () => {
    it("follows events and bookmarks, and resumes from the newest resourceVersion", () => {
      const state = synced("100");
      state.eventReceived("105");
      state.eventReceived("110"); // a bookmark
      assert.equal(state.lastResourceVersion, "110");
      const step = state.watchEnded({ durationMs: 300_000, eventsReceived: 2 });
      assert.deepEqual(step, { action: "watch", resourceVersion: "110" });
    });

    it("relists at once on 410 Gone, forgetting the stale resourceVersion", () => {
      const state = synced("100");
      assert.deepEqual(state.gone(), { action: "list" });
      assert.equal(state.lastResourceVersion, undefined);
    });

    it("on a transport error backs off, then watches again from where it was (no relist)", () => {
      const state = synced("100");
      state.eventReceived("120");
      const step = state.watchFailed();
      assert.deepEqual(step, { action: "wait", delayMs: 800, then: "watch" });
      assert.deepEqual(state.afterWait("watch"), { action: "watch", resourceVersion: "120" });
    });

    it("on an error Status that calls for it, backs off and relists", () => {
      const state = synced("100");
      assert.deepEqual(state.watchFailed({ relist: true }), { action: "wait", delayMs: 800, then: "list" });
    });

    it("keeps growing the backoff across repeated failures and resets it after an event", () => {
      const state = synced("100");
      state.watchFailed();
      state.watchFailed();
      assert.equal(state.consecutiveFailures, 2);
      const third = state.watchFailed();
      assert.equal(third.action === "wait" && third.delayMs, 3_200);
      state.eventReceived("130");
      assert.equal(state.consecutiveFailures, 0);
      const next = state.watchFailed();
      assert.equal(next.action === "wait" && next.delayMs, 800);
    });

    it("treats a stream that closes at once with nothing in it as a failure", () => {
      const state = synced("100");
      const step = state.watchEnded({ durationMs: MIN_HEALTHY_WATCH_MS - 1, eventsReceived: 0 });
      assert.deepEqual(step, { action: "wait", delayMs: 800, then: "watch" });
    });

    it("restarts a watch the watchdog found silent, from the same resourceVersion", () => {
      const state = synced("100");
      assert.deepEqual(state.watchIdle(), { action: "watch", resourceVersion: "100" });
    });
  });
});
