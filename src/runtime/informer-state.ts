/**
 * The list/watch decisions of an informer, without I/O or timers, so each rule is
 * tested by feeding outcomes and reading the next step.
 *
 * client-node 1.4's `ListWatch` (behind `makeInformer`) relists on 410 but on any
 * other error, and on a watch that fails to connect, it only fires its `error`
 * callbacks and stops for good. Here every outcome leads to a next step:
 * - a list succeeds → watch from its resourceVersion;
 * - 410 Gone (HTTP status or an ERROR event) → relist at once;
 * - any other failure → wait a jittered exponential backoff, then watch again from
 *   the last resourceVersion we hold (a too-old one then yields 410 → relist), or
 *   list again when we never got one or the server's answer calls for it;
 * - a watch that ends cleanly (the server's `timeoutSeconds`) → watch again at once,
 *   unless it ended at once with nothing received, which counts as a failure so a
 *   server that keeps closing streams is not hammered;
 * - a watch silent longer than the idle limit (the watchdog) → restart the watch.
 */

export interface BackoffPolicy {
  /** First delay after a failure; client-go's reflector uses 800 ms. */
  initialMs: number;
  /** Ceiling of the exponential growth; client-go uses 30 s. */
  maxMs: number;
  factor: number;
  /** Each delay is stretched by up to this fraction at random (1.0 = up to double). */
  jitter: number;
  /** Source of randomness in [0, 1), injectable for tests. */
  random: () => number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = {
  initialMs: 800,
  maxMs: 30_000,
  factor: 2,
  jitter: 1.0,
  random: Math.random,
};

export type InformerStep =
  | { action: "list" }
  | { action: "watch"; resourceVersion: string }
  | { action: "wait"; delayMs: number; then: "list" | "watch" };

/** Why a watch is being restarted, as counted by `informer_restarts_total{reason}`. */
export type RestartReason = "error" | "closed" | "idle" | "gone";

export interface WatchEndOutcome {
  /** How long the stream was open. */
  durationMs: number;
  /** Events (bookmarks included) received on it. */
  eventsReceived: number;
}

export interface FailureOutcome {
  /** A list is needed after the wait (e.g. the server answered with an error Status). */
  relist?: boolean;
}

/** A watch open for less than this and empty is treated as a failed one. */
export const MIN_HEALTHY_WATCH_MS = 1_000;

export class ListWatchState {
  private readonly policy: BackoffPolicy;
  private resourceVersion: string | undefined;
  private failures = 0;
  private synced = false;

  constructor(policy: Partial<BackoffPolicy> = {}) {
    this.policy = { ...DEFAULT_BACKOFF, ...policy };
  }

  /** The last resourceVersion seen (from a list, an event or a bookmark). */
  get lastResourceVersion(): string | undefined {
    return this.resourceVersion;
  }

  /** Failures in a row since the last sign of health. */
  get consecutiveFailures(): number {
    return this.failures;
  }

  /** True once a first list has completed. */
  get hasSynced(): boolean {
    return this.synced;
  }

  start(): InformerStep {
    return { action: "list" };
  }

  listSucceeded(resourceVersion: string): InformerStep {
    this.resourceVersion = resourceVersion;
    this.failures = 0;
    this.synced = true;
    return { action: "watch", resourceVersion };
  }

  listFailed(): InformerStep {
    return this.backoff("list");
  }

  /** An ADDED/MODIFIED/DELETED/BOOKMARK event moved us to `resourceVersion`. */
  eventReceived(resourceVersion: string | undefined): void {
    if (resourceVersion !== undefined && resourceVersion !== "") this.resourceVersion = resourceVersion;
    this.failures = 0;
  }

  /** 410 Gone: the resourceVersion we watch from has been compacted away. */
  gone(): InformerStep {
    this.resourceVersion = undefined;
    return { action: "list" };
  }

  watchEnded(outcome: WatchEndOutcome): InformerStep {
    if (outcome.eventsReceived === 0 && outcome.durationMs < MIN_HEALTHY_WATCH_MS) {
      return this.backoff(this.resourceVersion === undefined ? "list" : "watch");
    }
    return this.resume();
  }

  watchFailed(outcome: FailureOutcome = {}): InformerStep {
    if (outcome.relist === true) this.resourceVersion = undefined;
    return this.backoff(this.resourceVersion === undefined ? "list" : "watch");
  }

  /** The watchdog fired: the stream was silent past the idle limit. */
  watchIdle(): InformerStep {
    return this.resume();
  }

  /** The step to take once a backoff wait is over. */
  afterWait(then: "list" | "watch"): InformerStep {
    return then === "watch" ? this.resume() : { action: "list" };
  }

  /** The delay for the n-th failure in a row (1-based): initial·factor^(n-1), capped, jittered. */
  delayFor(failureCount: number): number {
    const { initialMs, maxMs, factor, jitter, random } = this.policy;
    const base = Math.min(maxMs, initialMs * factor ** Math.max(0, failureCount - 1));
    return Math.round(base * (1 + jitter * random()));
  }

  private resume(): InformerStep {
    return this.resourceVersion === undefined
      ? { action: "list" }
      : { action: "watch", resourceVersion: this.resourceVersion };
  }

  private backoff(then: "list" | "watch"): InformerStep {
    this.failures += 1;
    return { action: "wait", delayMs: this.delayFor(this.failures), then };
  }
}
