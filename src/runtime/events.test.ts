import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { EventsV1Event } from "@kubernetes/client-node";
import { FakeClock } from "../clock/index.ts";
import { createLogger } from "../observability/index.ts";
import { EventAggregator, type Occurrence } from "./events-aggregator.ts";
import { EventRecorder, type EventSink } from "./events.ts";
import type { KubeObject } from "./kube-object.ts";

const occurrence = (overrides: Partial<Occurrence> = {}): Occurrence => ({
  regarding: "uid-1",
  reason: "DeployFailed",
  type: "Warning",
  action: "Deploy",
  note: "MAAS answered 503",
  ...overrides,
});

describe("EventAggregator", () => {
  it("creates an Event for the first occurrence", () => {
    const agg = new EventAggregator();
    assert.equal(agg.observe(occurrence(), 0).action, "create");
  });

  describe("when the same event repeats within the series window", () => {
    it("turns the second occurrence into a series patch (count 2)", () => {
      const agg = new EventAggregator();
      const first = agg.observe(occurrence(), 0);
      assert.equal(first.action, "create");
      first.series.name = "obj.1";
      agg.sent(first.series, 1, 0);
      const second = agg.observe(occurrence(), 1_000);
      assert.equal(second.action, "patch");
      assert.equal(second.action === "patch" && second.series.count, 2);
    });

    it("coalesces later occurrences into one patch per flush interval", () => {
      const agg = new EventAggregator({ flushIntervalMs: 30_000 });
      const first = agg.observe(occurrence(), 0);
      if (first.action !== "create") throw new Error("expected create");
      first.series.name = "obj.1";
      agg.sent(first.series, 1, 0);
      const second = agg.observe(occurrence(), 1_000);
      agg.sent(first.series, 2, 1_000);
      const third = agg.observe(occurrence(), 2_000);
      assert.deepEqual(third.action === "defer" && third.dueInMs, 29_000);
      assert.equal(agg.observe(occurrence(), 3_000).action, "defer");
      assert.equal(first.series.count, 4);
      assert.equal(agg.observe(occurrence(), 31_000).action, "patch");
      assert.equal(second.action, "patch");
    });

    it("defers while the Event is still being created", () => {
      const agg = new EventAggregator();
      agg.observe(occurrence(), 0);
      assert.equal(agg.observe(occurrence(), 10).action, "defer");
    });
  });

  it("starts a new Event once the window passed without an occurrence", () => {
    const agg = new EventAggregator({ seriesWindowMs: 60_000 });
    const first = agg.observe(occurrence(), 0);
    if (first.action !== "create") throw new Error("expected create");
    first.series.name = "obj.1";
    agg.sent(first.series, 1, 0);
    assert.equal(agg.observe(occurrence(), 60_001).action, "create");
  });

  it("treats a different reason, type, action or note as a different event", () => {
    const agg = new EventAggregator();
    agg.observe(occurrence(), 0);
    for (const change of [{ reason: "Other" }, { type: "Normal" }, { action: "Release" }, { note: "other" }]) {
      assert.equal(agg.observe(occurrence(change), 1).action, "create", JSON.stringify(change));
    }
  });

  describe("per-object rate limit", () => {
    it("allows a burst of new Events per object, then drops until a token refills", () => {
      const agg = new EventAggregator({ burst: 3, refillMs: 10_000 });
      for (let i = 0; i < 3; i++) assert.equal(agg.observe(occurrence({ note: `n${i}` }), 0).action, "create");
      assert.equal(agg.observe(occurrence({ note: "n3" }), 1).action, "drop");
      assert.equal(agg.observe(occurrence({ regarding: "uid-2", note: "n3" }), 1).action, "create", "other objects unaffected");
      assert.equal(agg.observe(occurrence({ note: "n4" }), 10_000).action, "create");
      assert.equal(agg.observe(occurrence({ note: "n5" }), 10_001).action, "drop");
    });
  });
});

class RecordingSink implements EventSink {
  created: EventsV1Event[] = [];
  patches: Array<{ name: string; count: number; lastObservedTime: string }> = [];

  create(event: EventsV1Event): Promise<void> {
    this.created.push(event);
    return Promise.resolve();
  }

  patchSeries(ref: { namespace: string; name: string }, series: { count: number; lastObservedTime: string }): Promise<void> {
    this.patches.push({ name: ref.name, ...series });
    return Promise.resolve();
  }
}

const machine: KubeObject = {
  apiVersion: "infrastructure.cluster.x-k8s.io/v1beta1",
  kind: "MaasMachine",
  metadata: { name: "m1", namespace: "ns", uid: "uid-1", resourceVersion: "7" },
};

describe("EventRecorder", () => {
  it("turns a hot loop of identical events into one Event and a few series patches", async () => {
    const clock = new FakeClock();
    const sink = new RecordingSink();
    const recorder = new EventRecorder({
      sink,
      clock,
      logger: createLogger({ level: "silent" }),
      reportingController: "test-controller",
      reportingInstance: "test-1",
    });
    for (let i = 0; i < 1_000; i++) {
      recorder.event(machine, { type: "Warning", reason: "DeployFailed", action: "Deploy", note: "MAAS answered 503" });
      await clock.advance(100);
    }
    await recorder.flush();
    assert.equal(sink.created.length, 1);
    const [event] = sink.created;
    assert.equal(event?.regarding?.uid, "uid-1");
    assert.equal(event?.metadata?.namespace, "ns");
    assert.match(JSON.stringify(event?.eventTime), /^"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"$/);
    assert.ok(sink.patches.length <= 1 + Math.ceil(100_000 / 30_000) + 1, `patches: ${sink.patches.length}`);
    assert.equal(sink.patches.at(-1)?.count, 1_000);
    assert.match(sink.patches.at(-1)?.lastObservedTime ?? "", /\.\d{6}Z$/);
  });
});
