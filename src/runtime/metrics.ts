// Prometheus metrics for controllers and work queues, under the names and labels
// controller-runtime and client-go expose, so the dashboards and alerts people
// already run against Go controllers work against this provider unchanged.
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** What a work queue was doing at scrape time, read from the queue itself. */
export interface InFlightWork {
  /** How long the oldest item still being processed has been running. */
  longestRunningSeconds: number;
  /** The summed running time of every item still being processed. */
  unfinishedWorkSeconds: number;
}

/** The hooks a WorkQueue reports through; the queue measures the times with its clock. */
export interface WorkQueueMetrics {
  /** A key became pending (not already pending): adds_total and depth go up. */
  added(): void;
  /** A pending key was handed to a worker after waiting `queuedSeconds`: depth goes down. */
  started(queuedSeconds: number): void;
  /** A worker finished a key it held for `workSeconds`. */
  finished(workSeconds: number): void;
  /** A key was scheduled again (every addAfter, as client-go counts retries). */
  retried(): void;
  /** Lets the in-flight gauges read the queue when scraped; a later call for the same queue name replaces it. */
  reportInFlight(read: () => InFlightWork): void;
}

/** Metrics that report nowhere, for queues built without a registry. */
export const noopWorkQueueMetrics: WorkQueueMetrics = {
  added() {},
  started() {},
  finished() {},
  retried() {},
  reportInFlight() {},
};

export type ReconcileResultLabel = "success" | "error" | "requeue_after";

export interface RuntimeMetrics {
  readonly registry: Registry;
  /** controller_runtime_reconcile_total{controller,result} */
  readonly reconcileTotal: Counter<"controller" | "result">;
  /** controller_runtime_reconcile_errors_total{controller}: every thrown error, terminal or not. */
  readonly reconcileErrors: Counter<"controller">;
  /** controller_runtime_terminal_reconcile_errors_total{controller} */
  readonly terminalErrors: Counter<"controller">;
  /** controller_runtime_reconcile_time_seconds{controller} */
  readonly reconcileTime: Histogram<"controller">;
  /** controller_runtime_active_workers{controller}: reconciles running now. */
  readonly activeWorkers: Gauge<"controller">;
  /** controller_runtime_max_concurrent_reconciles{controller}: the configured worker count. */
  readonly maxConcurrentReconciles: Gauge<"controller">;
  /** workqueue_depth{name} */
  readonly workqueueDepth: Gauge<"name">;
  /** workqueue_adds_total{name} */
  readonly workqueueAdds: Counter<"name">;
  /** workqueue_retries_total{name} */
  readonly workqueueRetries: Counter<"name">;
  /** workqueue_queue_duration_seconds{name} */
  readonly workqueueQueueDuration: Histogram<"name">;
  /** workqueue_work_duration_seconds{name} */
  readonly workqueueWorkDuration: Histogram<"name">;
  /** workqueue_unfinished_work_seconds{name} */
  readonly workqueueUnfinishedWork: Gauge<"name">;
  /** workqueue_longest_running_processor_seconds{name} */
  readonly workqueueLongestRunning: Gauge<"name">;
  /** The hooks for the work queue called `name` (by convention the controller's name). */
  forQueue(name: string): WorkQueueMetrics;
}

// controller-runtime's buckets for reconcile_time_seconds.
const RECONCILE_TIME_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5,
  1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
// client-go's ExponentialBuckets(10e-9, 10, 12): 10 ns up to 1000 s.
const WORKQUEUE_BUCKETS = Array.from({ length: 12 }, (_, i) => Number((1e-8 * 10 ** i).toPrecision(1)));

// A registry holds each metric name once, so a second call for the same registry
// returns the metrics already there instead of failing on duplicate registration.
const byRegistry = new WeakMap<Registry, RuntimeMetrics>();

/** The controller and work-queue metrics, registered in `registry` (a fresh one by default). */
export function createRuntimeMetrics(registry: Registry = new Registry()): RuntimeMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;

  const registers = [registry];
  const inFlightReaders = new Map<string, () => InFlightWork>();
  const readInFlight = (gauge: Gauge<"name">, pick: (work: InFlightWork) => number): void => {
    gauge.reset();
    for (const [name, read] of inFlightReaders) gauge.set({ name }, pick(read()));
  };

  const workqueueDepth = new Gauge({
    name: "workqueue_depth",
    help: "Current depth of workqueue",
    labelNames: ["name"] as const,
    registers,
  });
  const workqueueAdds = new Counter({
    name: "workqueue_adds_total",
    help: "Total number of adds handled by workqueue",
    labelNames: ["name"] as const,
    registers,
  });
  const workqueueRetries = new Counter({
    name: "workqueue_retries_total",
    help: "Total number of retries handled by workqueue",
    labelNames: ["name"] as const,
    registers,
  });
  const workqueueQueueDuration = new Histogram({
    name: "workqueue_queue_duration_seconds",
    help: "How long in seconds an item stays in workqueue before being requested",
    labelNames: ["name"] as const,
    buckets: WORKQUEUE_BUCKETS,
    registers,
  });
  const workqueueWorkDuration = new Histogram({
    name: "workqueue_work_duration_seconds",
    help: "How long in seconds processing an item from workqueue takes.",
    labelNames: ["name"] as const,
    buckets: WORKQUEUE_BUCKETS,
    registers,
  });
  const workqueueUnfinishedWork: Gauge<"name"> = new Gauge({
    name: "workqueue_unfinished_work_seconds",
    help:
      "How many seconds of work has been done that is in progress and hasn't been observed by work_duration. " +
      "Large values indicate stuck threads.",
    labelNames: ["name"] as const,
    registers,
    collect: () => readInFlight(workqueueUnfinishedWork, (work) => work.unfinishedWorkSeconds),
  });
  const workqueueLongestRunning: Gauge<"name"> = new Gauge({
    name: "workqueue_longest_running_processor_seconds",
    help: "How many seconds has the longest running processor for workqueue been running.",
    labelNames: ["name"] as const,
    registers,
    collect: () => readInFlight(workqueueLongestRunning, (work) => work.longestRunningSeconds),
  });

  const metrics: RuntimeMetrics = {
    registry,
    reconcileTotal: new Counter({
      name: "controller_runtime_reconcile_total",
      help: "Total number of reconciliations per controller",
      labelNames: ["controller", "result"] as const,
      registers,
    }),
    reconcileErrors: new Counter({
      name: "controller_runtime_reconcile_errors_total",
      help: "Total number of reconciliation errors per controller",
      labelNames: ["controller"] as const,
      registers,
    }),
    terminalErrors: new Counter({
      name: "controller_runtime_terminal_reconcile_errors_total",
      help: "Total number of terminal reconciliation errors per controller",
      labelNames: ["controller"] as const,
      registers,
    }),
    reconcileTime: new Histogram({
      name: "controller_runtime_reconcile_time_seconds",
      help: "Length of time per reconciliation per controller",
      labelNames: ["controller"] as const,
      buckets: RECONCILE_TIME_BUCKETS,
      registers,
    }),
    activeWorkers: new Gauge({
      name: "controller_runtime_active_workers",
      help: "Number of currently used workers per controller",
      labelNames: ["controller"] as const,
      registers,
    }),
    maxConcurrentReconciles: new Gauge({
      name: "controller_runtime_max_concurrent_reconciles",
      help: "Maximum number of concurrent reconciles per controller",
      labelNames: ["controller"] as const,
      registers,
    }),
    workqueueDepth,
    workqueueAdds,
    workqueueRetries,
    workqueueQueueDuration,
    workqueueWorkDuration,
    workqueueUnfinishedWork,
    workqueueLongestRunning,
    forQueue(name) {
      const labels = { name };
      // Publish zeros at once, as client-go does, so rate() works from the first scrape.
      workqueueAdds.inc(labels, 0);
      workqueueRetries.inc(labels, 0);
      workqueueDepth.set(labels, 0);
      return {
        added() {
          workqueueAdds.inc(labels);
          workqueueDepth.inc(labels);
        },
        started(queuedSeconds) {
          workqueueDepth.dec(labels);
          workqueueQueueDuration.observe(labels, queuedSeconds);
        },
        finished(workSeconds) {
          workqueueWorkDuration.observe(labels, workSeconds);
        },
        retried() {
          workqueueRetries.inc(labels);
        },
        reportInFlight(read) {
          inFlightReaders.set(name, read);
        },
      };
    },
  };
  byRegistry.set(registry, metrics);
  return metrics;
}
