import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { FakeClock } from "../clock/index.ts";
import { createRuntimeMetrics } from "./metrics.ts";
import { metricSample } from "./test-support.ts";
import { WorkQueue } from "./workqueue.ts";


describe("createRuntimeMetrics", () => {
  it("registers the controller-runtime and client-go metric names", async () => {
    const { registry } = createRuntimeMetrics(new Registry());
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name).sort();
    assert.deepEqual(names, [
      "controller_runtime_active_workers",
      "controller_runtime_max_concurrent_reconciles",
      "controller_runtime_reconcile_errors_total",
      "controller_runtime_reconcile_time_seconds",
      "controller_runtime_reconcile_total",
      "controller_runtime_terminal_reconcile_errors_total",
      "workqueue_adds_total",
      "workqueue_depth",
      "workqueue_longest_running_processor_seconds",
      "workqueue_queue_duration_seconds",
      "workqueue_retries_total",
      "workqueue_unfinished_work_seconds",
      "workqueue_work_duration_seconds",
    ]);
  });

  it("returns the same metrics when asked twice for one registry", () => {
    const registry = new Registry();
    assert.equal(createRuntimeMetrics(registry), createRuntimeMetrics(registry));
  });

  it("uses a registry of its own by default", () => {
    assert.notEqual(createRuntimeMetrics().registry, createRuntimeMetrics().registry);
  });

  it("publishes a queue's counters at zero as soon as the queue exists", async () => {
    const metrics = createRuntimeMetrics();
    metrics.forQueue("maascluster");
    assert.equal(await metricSample(metrics.registry, "workqueue_adds_total", { name: "maascluster" }), 0);
    assert.equal(await metricSample(metrics.registry, "workqueue_retries_total", { name: "maascluster" }), 0);
    assert.equal(await metricSample(metrics.registry, "workqueue_depth", { name: "maascluster" }), 0);
  });
});

describe("work queue metrics", () => {
  function setup(): { clock: FakeClock; queue: WorkQueue; registry: Registry } {
    const clock = new FakeClock(0);
    const metrics = createRuntimeMetrics();
    const queue = new WorkQueue({ name: "q", clock, metrics: metrics.forQueue("q") });
    return { clock, queue, registry: metrics.registry };
  }
  const q = { name: "q" };

  it("counts adds and depth once per pending key", async () => {
    const { queue, registry } = setup();
    queue.add("a");
    queue.add("a");
    queue.add("b");
    assert.equal(await metricSample(registry, "workqueue_adds_total", q), 2);
    assert.equal(await metricSample(registry, "workqueue_depth", q), 2);
    await queue.get();
    assert.equal(await metricSample(registry, "workqueue_depth", q), 1);
  });

  it("counts every delayed add as a retry, as client-go does", async () => {
    const { queue, registry } = setup();
    queue.addAfter("a", 10);
    queue.addRateLimited("b");
    queue.addAfter("c", 0);
    assert.equal(await metricSample(registry, "workqueue_retries_total", q), 3);
  });

  it("observes how long a key waited and how long it was worked on", async () => {
    const { clock, queue, registry } = setup();
    queue.add("a");
    await clock.advance(250);
    const key = await queue.get();
    assert.equal(key, "a");
    await clock.advance(1500);
    queue.done("a");
    const histogram = (name: string, part: string): Promise<number | undefined> => metricSample(registry, name, q, `${name}_${part}`);
    assert.equal(await histogram("workqueue_queue_duration_seconds", "count"), 1);
    assert.equal(await histogram("workqueue_queue_duration_seconds", "sum"), 0.25);
    assert.equal(await histogram("workqueue_work_duration_seconds", "count"), 1);
    assert.equal(await histogram("workqueue_work_duration_seconds", "sum"), 1.5);
  });

  it("measures a key re-added during processing from when it was re-added", async () => {
    const { clock, queue, registry } = setup();
    queue.add("a");
    await queue.get();
    await clock.advance(100);
    queue.add("a");
    await clock.advance(300);
    queue.done("a");
    await queue.get();
    assert.equal(await metricSample(registry, "workqueue_queue_duration_seconds", q, "workqueue_queue_duration_seconds_sum"), 0.3);
  });

  it("reads the running items when scraped", async () => {
    const { clock, queue, registry } = setup();
    queue.add("a");
    await queue.get();
    await clock.advance(3000);
    queue.add("b");
    await queue.get();
    await clock.advance(1000);
    assert.equal(await metricSample(registry, "workqueue_longest_running_processor_seconds", q), 4);
    assert.equal(await metricSample(registry, "workqueue_unfinished_work_seconds", q), 5);
    queue.done("a");
    queue.done("b");
    assert.equal(await metricSample(registry, "workqueue_longest_running_processor_seconds", q), 0);
  });
});
