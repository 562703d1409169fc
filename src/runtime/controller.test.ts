import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FakeClock } from "../clock/index.ts";
import { createLogger } from "../observability/index.ts";
import { Controller, type ControllerOptions } from "./controller.ts";
import { createRuntimeMetrics } from "./metrics.ts";
import { metricSample } from "./test-support.ts";
import { TerminalError, type ReconcileContext, type Reconciler, type Request, type Result } from "./result.ts";

interface Call {
  key: string;
  settled: boolean;
  ctx: ReconcileContext;
  startedAtMs: number;
  finish(result?: Result): void;
}

/** A reconciler the test drives by hand: every call waits until the test settles it. */
class ManualReconciler implements Reconciler {
  readonly calls: Call[] = [];
  private running = new Map<string, number>();
  maxConcurrent = 0;
  sameKeyOverlap = false;

  constructor(private readonly clock: FakeClock) {}

  reconcile(request: Request, ctx: ReconcileContext): Promise<Result | void> {
    const key = request.namespace ? `${request.namespace}/${request.name}` : request.name;
    if (this.running.has(key)) this.sameKeyOverlap = true;
    this.running.set(key, 1);
    this.maxConcurrent = Math.max(this.maxConcurrent, this.running.size);
    return new Promise((resolve) => {
      const call: Call = {
        key,
        settled: false,
        ctx,
        startedAtMs: this.clock.now(),
        finish: (result) => {
          end();
          resolve(result);
        },
      };
      const end = (): void => {
        call.settled = true;
        this.running.delete(key);
      };
      this.calls.push(call);
    });
  }

  /** The calls not yet settled. */
  get open(): Call[] {
    return this.calls.filter((c) => !c.settled);
  }
}

/** A reconciler that answers every call at once from a function. */
function answering(
  clock: FakeClock,
  answer: (key: string, attempt: number) => Result | void,
): Reconciler & { calls: Array<{ key: string; atMs: number }> } {
  const calls: Array<{ key: string; atMs: number }> = [];
  return {
    calls,
    reconcile(request) {
      const key = request.namespace ? `${request.namespace}/${request.name}` : request.name;
      calls.push({ key, atMs: clock.now() });
      const attempt = calls.filter((c) => c.key === key).length;
      try {
        return Promise.resolve(answer(key, attempt));
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },
  };
}

function newController(
  reconciler: Reconciler,
  clock: FakeClock,
  extra: Partial<ControllerOptions> = {},
): Controller {
  return new Controller({
    name: "maasmachine",
    reconciler,
    logger: createLogger({ level: "silent" }),
    clock,
    ...extra,
  });
}


describe("Controller", () => {
  describe("when a reconcile succeeds", () => {
    it("reconciles each enqueued request once, with its namespace and name", async () => {
      const clock = new FakeClock(0);
      const seen: Request[] = [];
      const controller = newController(
        { reconcile: (request) => Promise.resolve(void seen.push(request)) },
        clock,
      );
      controller.enqueue({ namespace: "default", name: "m-0" });
      controller.enqueue("default/m-0");
      controller.enqueue({ name: "cluster-wide" });
      controller.start();
      await clock.advance(1000);
      assert.deepEqual(seen, [{ namespace: "default", name: "m-0" }, { name: "cluster-wide" }]);
      await controller.shutdown(0);
    });

    it("forgets the key's backoff, so its next failure retries after the base delay", async () => {
      const clock = new FakeClock(0);
      const reconciler = answering(clock, (_key, attempt) => {
        if (attempt === 3) return;
        throw new Error("MAAS unavailable");
      });
      const controller = newController(reconciler, clock);
      controller.start();
      controller.enqueue("a");
      await clock.advance(15); // fails at 0, retries at 5 and fails, retries at 15 and succeeds
      assert.deepEqual(reconciler.calls.map((c) => c.atMs), [0, 5, 15]);
      controller.enqueue("a"); // attempt 4 fails: backoff starts from 5 ms again
      await clock.advance(5);
      assert.deepEqual(reconciler.calls.map((c) => c.atMs), [0, 5, 15, 15, 20]);
      await controller.shutdown(0);
    });

    it("gives each reconcile its own logger and reconcile id", async () => {
      const clock = new FakeClock(0);
      const contexts: ReconcileContext[] = [];
      const controller = newController(
        { reconcile: (_request, ctx) => Promise.resolve(void contexts.push(ctx)) },
        clock,
      );
      controller.start();
      controller.enqueue("default/m-0");
      await clock.advance(0);
      controller.enqueue("default/m-0");
      await clock.advance(0);
      assert.equal(contexts.length, 2);
      const [first, second] = contexts as [ReconcileContext, ReconcileContext];
      assert.notEqual(first.reconcileId, second.reconcileId);
      assert.match(first.reconcileId, /^[0-9a-f]{8}$/);
      assert.equal(first.controller, "maasmachine");
      assert.deepEqual(first.log.bindings(), {
        controller: "maasmachine",
        namespace: "default",
        name: "m-0",
        reconcileId: first.reconcileId,
      });
      await controller.shutdown(0);
    });

    it("leaves namespace out of a cluster-scoped object's logger", async () => {
      const clock = new FakeClock(0);
      const contexts: ReconcileContext[] = [];
      const controller = newController(
        { reconcile: (_request, ctx) => Promise.resolve(void contexts.push(ctx)) },
        clock,
      );
      controller.start();
      controller.enqueue({ name: "zone-a" });
      await clock.advance(0);
      assert.equal("namespace" in (contexts[0]?.log.bindings() ?? {}), false);
      assert.equal(contexts[0]?.log.bindings().name, "zone-a");
      await controller.shutdown(0);
    });
  });

  describe("when a reconcile asks to be requeued", () => {
    it("runs each key again after its own requeueAfter, soonest first", async () => {
      const clock = new FakeClock(0);
      const pollMs: Record<string, number> = { slow: 30, fast: 10 };
      const reconciler = answering(clock, (key, attempt) => (attempt === 1 ? { requeueAfterMs: pollMs[key] } : {}));
      const controller = newController(reconciler, clock);
      controller.start();
      controller.enqueue("slow");
      controller.enqueue("fast");
      await clock.advance(100);
      assert.deepEqual(reconciler.calls, [
        { key: "slow", atMs: 0 },
        { key: "fast", atMs: 0 },
        { key: "fast", atMs: 10 },
        { key: "slow", atMs: 30 },
      ]);
      await controller.shutdown(0);
    });

    it("lets an event bring a polling key forward but not run it twice", async () => {
      const clock = new FakeClock(0);
      const reconciler = answering(clock, () => ({ requeueAfterMs: 100 }));
      const controller = newController(reconciler, clock);
      controller.start();
      controller.enqueue("a");
      await clock.advance(40);
      controller.enqueueAfter("a", 10);
      await clock.advance(60);
      // 0; 50 (the sooner ask wins over 100); the 100 ms poll was superseded; then 150.
      assert.deepEqual(reconciler.calls.map((c) => c.atMs), [0, 50]);
      await clock.advance(100);
      assert.deepEqual(reconciler.calls.map((c) => c.atMs), [0, 50, 150]);
      await controller.shutdown(0);
    });
  });

  describe("when a reconcile throws", () => {
    it("retries with exponential backoff", async () => {
      const clock = new FakeClock(0);
      const reconciler = answering(clock, (_key, attempt) => {
        if (attempt < 5) throw new Error("MAAS unavailable");
      });
      const controller = newController(reconciler, clock);
      controller.start();
      controller.enqueue("a");
      await clock.advance(10_000);
      assert.deepEqual(reconciler.calls.map((c) => c.atMs), [0, 5, 15, 35, 75]);
      await controller.shutdown(0);
    });

    it("does not retry a TerminalError and reports it once", async () => {
      const clock = new FakeClock(0);
      const reported: Array<{ request: Request; reason: string }> = [];
      const reconciler = answering(clock, () => {
        throw new TerminalError("image focal is not in MAAS", { reason: "ImageNotFound" });
      });
      const controller = newController(reconciler, clock, {
        onTerminalError: (request, error) => reported.push({ request, reason: error.reason }),
      });
      controller.start();
      controller.enqueue("default/m-0");
      await clock.advance(10_000_000);
      assert.equal(reconciler.calls.length, 1);
      assert.deepEqual(reported, [{ request: { namespace: "default", name: "m-0" }, reason: "ImageNotFound" }]);
      await controller.shutdown(0);
    });

    it("treats a TerminalError wrapped as a cause as terminal", async () => {
      const clock = new FakeClock(0);
      const reported: string[] = [];
      const reconciler = answering(clock, () => {
        throw new Error("deploying", { cause: new TerminalError("no such image", { reason: "ImageNotFound" }) });
      });
      const controller = newController(reconciler, clock, {
        onTerminalError: (_request, error) => reported.push(error.reason),
      });
      controller.start();
      controller.enqueue("a");
      await clock.advance(10_000);
      assert.equal(reconciler.calls.length, 1);
      assert.deepEqual(reported, ["ImageNotFound"]);
      await controller.shutdown(0);
    });

    it("keeps working when the terminal-error hook throws", async () => {
      const clock = new FakeClock(0);
      const reconciler = answering(clock, (key) => {
        if (key === "bad") throw new TerminalError("no");
      });
      const controller = newController(reconciler, clock, {
        onTerminalError: () => {
          throw new Error("event sink down");
        },
      });
      controller.start();
      controller.enqueue("bad");
      controller.enqueue("good");
      await clock.advance(0);
      assert.deepEqual(reconciler.calls.map((c) => c.key), ["bad", "good"]);
      await controller.shutdown(0);
    });

    it("backs off a retry after a TerminalError from the start", async () => {
      const clock = new FakeClock(0);
      const reconciler = answering(clock, (_key, attempt) => {
        if (attempt <= 2) throw new Error("flaky");
        if (attempt === 3) throw new TerminalError("bad spec");
        if (attempt === 4) throw new Error("flaky again");
      });
      const controller = newController(reconciler, clock);
      controller.start();
      controller.enqueue("a");
      await clock.advance(100);
      controller.enqueue("a"); // the spec was fixed
      await clock.advance(100);
      assert.deepEqual(reconciler.calls.map((c) => c.atMs), [0, 5, 15, 100, 105]);
      await controller.shutdown(0);
    });
  });

  describe("with several workers", () => {
    it("reconciles different keys at once but never the same key twice at once", async () => {
      const clock = new FakeClock(0);
      const reconciler = new ManualReconciler(clock);
      const controller = newController(reconciler, clock, { workers: 2 });
      controller.start();
      controller.enqueue("a");
      controller.enqueue("b");
      controller.enqueue("c");
      await clock.advance(0);
      assert.deepEqual(reconciler.calls.map((c) => c.key), ["a", "b"]);
      assert.equal(controller.queueLength(), 1);

      controller.enqueue("a"); // while a runs: held back, not started on the free worker
      reconciler.calls[1]?.finish(); // b ends, its worker takes c
      await clock.advance(0);
      assert.deepEqual(reconciler.calls.map((c) => c.key), ["a", "b", "c"]);

      reconciler.calls[0]?.finish(); // a ends, and runs once more
      await clock.advance(0);
      assert.deepEqual(reconciler.calls.map((c) => c.key), ["a", "b", "c", "a"]);
      for (const call of reconciler.open) call.finish();
      await clock.advance(0);
      assert.equal(reconciler.calls.length, 4);
      assert.equal(reconciler.maxConcurrent, 2);
      assert.equal(reconciler.sameKeyOverlap, false);
      await controller.shutdown(0);
    });

    it("refuses a worker count below one", () => {
      const clock = new FakeClock(0);
      assert.throws(() => newController(answering(clock, () => {}), clock, { workers: 0 }), RangeError);
    });
  });

  describe("start", () => {
    it("holds requests enqueued before it until it is called", async () => {
      const clock = new FakeClock(0);
      const reconciler = answering(clock, () => {});
      const controller = newController(reconciler, clock);
      controller.enqueue("a");
      await clock.advance(10);
      assert.equal(reconciler.calls.length, 0);
      assert.equal(controller.queueLength(), 1);
      controller.start();
      await clock.advance(0);
      assert.equal(reconciler.calls.length, 1);
      await controller.shutdown(0);
    });

    it("refuses to start twice", async () => {
      const clock = new FakeClock(0);
      const controller = newController(answering(clock, () => {}), clock);
      controller.start();
      assert.throws(() => controller.start(), /more than once/);
      await controller.shutdown(0);
    });

    it("refuses a malformed key when it is enqueued", () => {
      const clock = new FakeClock(0);
      const controller = newController(answering(clock, () => {}), clock);
      assert.throws(() => controller.enqueue("a/b/c"), TypeError);
      assert.throws(() => controller.enqueue({ namespace: "ns", name: "x/y" }), TypeError);
    });
  });

  describe("reconcileTimeoutMs", () => {
    it("aborts a reconcile that runs too long and retries it", async () => {
      const clock = new FakeClock(0);
      const starts: number[] = [];
      const controller = newController(
        {
          async reconcile(_request, ctx) {
            starts.push(clock.now());
            if (starts.length === 1) await clock.sleep(60_000, ctx.signal);
          },
        },
        clock,
        { reconcileTimeoutMs: 1000 },
      );
      controller.start();
      controller.enqueue("a");
      await clock.advance(2000);
      assert.deepEqual(starts, [0, 1005]);
      assert.equal(clock.pendingTimers, 0);
      await controller.shutdown(0);
    });
  });

  describe("shutdown", () => {
    it("stops taking new work", async () => {
      const clock = new FakeClock(0);
      const reconciler = answering(clock, () => {});
      const controller = newController(reconciler, clock);
      controller.start();
      await controller.shutdown(1000);
      controller.enqueue("a");
      controller.enqueueAfter("b", 10);
      await clock.advance(100);
      assert.equal(reconciler.calls.length, 0);
    });

    it("waits for a running reconcile that finishes within the deadline", async () => {
      const clock = new FakeClock(0);
      const reconciler = new ManualReconciler(clock);
      const controller = newController(reconciler, clock);
      controller.start();
      controller.enqueue("a");
      controller.enqueue("b");
      await clock.advance(0);
      let stopped = false;
      const stopping = controller.shutdown(1000).then(() => (stopped = true));
      await clock.advance(500);
      assert.equal(stopped, false);
      reconciler.calls[0]?.finish();
      await clock.advance(0);
      await stopping;
      assert.equal(reconciler.calls[0]?.ctx.signal.aborted, false);
      assert.deepEqual(reconciler.calls.map((c) => c.key), ["a"]); // b was never started
    });

    it("aborts the signals of reconciles still running at the deadline", async () => {
      const clock = new FakeClock(0);
      const reconciler = new ManualReconciler(clock);
      const controller = newController(reconciler, clock, { workers: 2 });
      controller.start();
      controller.enqueue("a");
      controller.enqueue("b");
      await clock.advance(0);
      let stopped = false;
      const stopping = controller.shutdown(1000).then(() => (stopped = true));
      await clock.advance(999);
      assert.equal(stopped, false);
      assert.equal(reconciler.calls[0]?.ctx.signal.aborted, false);
      await clock.advance(1);
      await stopping;
      assert.deepEqual(reconciler.calls.map((c) => c.ctx.signal.aborted), [true, true]);
    });

    it("returns the same promise when called again", async () => {
      const clock = new FakeClock(0);
      const controller = newController(answering(clock, () => {}), clock);
      controller.start();
      const first = controller.shutdown(10);
      assert.equal(controller.shutdown(99), first);
      await first;
    });
  });

  describe("metrics", () => {
    it("counts reconciles by result and errors by kind", async () => {
      const clock = new FakeClock(0);
      const metrics = createRuntimeMetrics();
      const answers: Record<string, () => Result | void> = {
        ok: () => {},
        poll: () => ({ requeueAfterMs: 1_000_000 }),
        broken: () => {
          throw new Error("boom");
        },
        invalid: () => {
          throw new TerminalError("bad");
        },
      };
      const reconciler = answering(clock, (key, attempt) => (attempt === 1 ? answers[key]?.() : undefined));
      const controller = newController(reconciler, clock, { metrics, workers: 3 });
      const labels = { controller: "maasmachine" };
      const { registry } = metrics;
      assert.equal(await metricSample(registry, "controller_runtime_reconcile_total", { ...labels, result: "error" }), 0);
      controller.start();
      for (const key of Object.keys(answers)) controller.enqueue(key);
      await clock.advance(100);

      const total = (result: string): Promise<number | undefined> =>
        metricSample(registry, "controller_runtime_reconcile_total", { ...labels, result });
      assert.equal(await total("success"), 2); // ok, and the retry of broken
      assert.equal(await total("requeue_after"), 1);
      assert.equal(await total("error"), 2);
      assert.equal(await metricSample(registry, "controller_runtime_reconcile_errors_total", labels), 2);
      assert.equal(await metricSample(registry, "controller_runtime_terminal_reconcile_errors_total", labels), 1);
      assert.equal(await metricSample(registry, "controller_runtime_max_concurrent_reconciles", labels), 3);
      assert.equal(
        await metricSample(
          registry,
          "controller_runtime_reconcile_time_seconds",
          labels,
          "controller_runtime_reconcile_time_seconds_count",
        ),
        5, // ok, poll, broken twice, invalid
      );
      await controller.shutdown(0);
    });

    it("reports active workers and the queue's longest running item while a reconcile runs", async () => {
      const clock = new FakeClock(0);
      const metrics = createRuntimeMetrics();
      const reconciler = new ManualReconciler(clock);
      const controller = newController(reconciler, clock, { metrics });
      const { registry } = metrics;
      controller.start();
      controller.enqueue("a");
      controller.enqueue("b");
      await clock.advance(2500);
      assert.equal(await metricSample(registry, "controller_runtime_active_workers", { controller: "maasmachine" }), 1);
      assert.equal(await metricSample(registry, "workqueue_longest_running_processor_seconds", { name: "maasmachine" }), 2.5);
      assert.equal(await metricSample(registry, "workqueue_depth", { name: "maasmachine" }), 1);
      reconciler.calls[0]?.finish();
      await clock.advance(0);
      reconciler.calls[1]?.finish();
      await clock.advance(0);
      assert.equal(await metricSample(registry, "controller_runtime_active_workers", { controller: "maasmachine" }), 0);
      assert.equal(await metricSample(registry, "workqueue_depth", { name: "maasmachine" }), 0);
      assert.equal(await metricSample(registry, "workqueue_adds_total", { name: "maasmachine" }), 2);
      await controller.shutdown(0);
    });
  });
});
