// A controller is a work queue plus N workers that call one Reconciler, with
// controller-runtime's rules for what happens after each reconcile: success forgets
// the key's backoff, requeueAfter polls, requeue and thrown errors back off, and a
// TerminalError is recorded once and left alone until the object changes.
import { randomBytes } from "node:crypto";
import { systemClock, type Clock, type TimerHandle } from "../clock/index.ts";
import type { Logger } from "../observability/index.ts";
import type { ReconcileResultLabel, RuntimeMetrics } from "./metrics.ts";
import type { RateLimiter } from "./rate-limiter.ts";
import {
  findTerminalError,
  parseRequestKey,
  requestKey,
  type Reconciler,
  type Request,
  type Result,
  type TerminalError,
} from "./result.ts";
import { WorkQueue, type AddOptions } from "./workqueue.ts";

export interface ControllerOptions {
  /** Names the controller in logs and metrics, and its work queue. */
  name: string;
  reconciler: Reconciler;
  logger: Logger;
  /** How many keys may be reconciled at once (never the same key twice); 1 by default. */
  workers?: number;
  clock?: Clock;
  /** client-go's default controller rate limiter when absent. */
  rateLimiter?: RateLimiter;
  metrics?: RuntimeMetrics;
  /** Called once per TerminalError; the manager records an Event on the object here. */
  onTerminalError?: (request: Request, error: TerminalError) => void;
  /** Aborts a reconcile's signal after this long (controller-runtime's ReconciliationTimeout). */
  reconcileTimeoutMs?: number;
}

export class Controller {
  readonly name: string;
  private readonly reconciler: Reconciler;
  private readonly log: Logger;
  private readonly workers: number;
  private readonly clock: Clock;
  private readonly metrics: RuntimeMetrics | undefined;
  private readonly onTerminalError: ((request: Request, error: TerminalError) => void) | undefined;
  private readonly reconcileTimeoutMs: number | undefined;
  private readonly queue: WorkQueue;

  /** Set at shutdown: workers take no further keys. */
  private stopRequested = false;
  /** One per running reconcile, aborted when the shutdown deadline passes. */
  private readonly inFlight = new Set<AbortController>();
  private workerLoops: Array<Promise<void>> = [];
  private started = false;
  private stopping: Promise<void> | undefined;

  constructor(opts: ControllerOptions) {
    const workers = opts.workers ?? 1;
    if (!Number.isInteger(workers) || workers < 1) {
      throw new RangeError(`controller ${opts.name}: workers must be a positive integer, got ${workers}`);
    }
    this.name = opts.name;
    this.reconciler = opts.reconciler;
    this.log = opts.logger.child({ controller: opts.name });
    this.workers = workers;
    this.clock = opts.clock ?? systemClock;
    this.metrics = opts.metrics;
    this.onTerminalError = opts.onTerminalError;
    this.reconcileTimeoutMs = opts.reconcileTimeoutMs;
    this.queue = new WorkQueue({
      name: opts.name,
      clock: this.clock,
      ...(opts.rateLimiter === undefined ? {} : { rateLimiter: opts.rateLimiter }),
      ...(opts.metrics === undefined ? {} : { metrics: opts.metrics.forQueue(opts.name) }),
    });
    this.initMetrics();
  }

  /** Asks for `request` to be reconciled; a no-op while it is already pending (unless now urgent). */
  enqueue(request: Request | string, options?: AddOptions): void {
    this.queue.add(toKey(request), options);
  }

  /** Asks for `request` to be reconciled after `delayMs`; the earliest of several asks wins. */
  enqueueAfter(request: Request | string, delayMs: number): void {
    this.queue.addAfter(toKey(request), delayMs);
  }

  /** Starts the workers. Keys enqueued before start wait in the queue until then. */
  start(): void {
    if (this.started) throw new Error(`controller ${this.name} was started more than once`);
    if (this.stopping !== undefined) throw new Error(`controller ${this.name} was shut down before it started`);
    this.started = true;
    this.log.info({ workers: this.workers }, "Starting workers");
    for (let i = 0; i < this.workers; i++) {
      this.workerLoops.push(
        this.runWorker().catch((err: unknown) => this.log.error({ err }, "Worker stopped on an unexpected error")),
      );
    }
  }

  /**
   * Stops taking keys and waits up to `deadlineMs` for running reconciles to finish;
   * past the deadline it aborts their signals and resolves without waiting further,
   * since a reconcile that ignores its signal must not hold the process open.
   * Pending and delayed keys are dropped: the next leader lists everything again.
   */
  shutdown(deadlineMs: number): Promise<void> {
    this.stopping ??= this.stop(deadlineMs);
    return this.stopping;
  }

  /** How many keys are waiting for a worker. */
  queueLength(): number {
    return this.queue.len();
  }

  private async stop(deadlineMs: number): Promise<void> {
    this.log.info("Stopping workers");
    this.stopRequested = true;
    // Wakes idle workers with undefined; a worker handed a key left in the queue gives it back.
    this.queue.shutDown();
    const finished = await this.settlesWithin(Promise.all(this.workerLoops), deadlineMs);
    if (finished) {
      this.log.info("All workers finished");
      return;
    }
    this.log.warn({ deadlineMs, running: this.inFlight.size }, "Shutdown deadline passed; aborting running reconciles");
    const reason = new Error(`controller ${this.name} shut down before the reconcile finished`);
    for (const abort of this.inFlight) abort.abort(reason);
  }

  private settlesWithin(work: Promise<unknown>, deadlineMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const handle = this.clock.setTimeout(() => resolve(false), deadlineMs);
      const settled = (): void => {
        this.clock.clearTimeout(handle);
        resolve(true);
      };
      work.then(settled, settled);
    });
  }

  private async runWorker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      // Still queued when shutdown began: give it back rather than start new work.
      if (this.stopRequested) {
        this.queue.done(key);
        return;
      }
      await this.processItem(key);
    }
  }

  private async processItem(key: string): Promise<void> {
    const request = parseRequestKey(key);
    const reconcileId = randomBytes(4).toString("hex");
    const log = this.log.child({
      ...(request.namespace === undefined ? {} : { namespace: request.namespace }),
      name: request.name,
      reconcileId,
    });
    const abort = new AbortController();
    this.inFlight.add(abort);
    let timeout: TimerHandle | undefined;
    if (this.reconcileTimeoutMs !== undefined && this.reconcileTimeoutMs > 0) {
      const timeoutMs = this.reconcileTimeoutMs;
      timeout = this.clock.setTimeout(() => {
        abort.abort(new ReconcileTimeoutError(`reconcile did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
    }
    const labels = { controller: this.name };
    this.metrics?.activeWorkers.inc(labels);
    const startedAtMs = this.clock.now();
    try {
      const result = await this.reconciler.reconcile(request, {
        log,
        signal: abort.signal,
        reconcileId,
        controller: this.name,
      });
      this.afterSuccess(key, result ?? {}, log);
    } catch (error) {
      this.afterError(key, request, error, log);
    } finally {
      if (timeout !== undefined) this.clock.clearTimeout(timeout);
      this.inFlight.delete(abort);
      this.metrics?.reconcileTime.observe(labels, Math.max(0, this.clock.now() - startedAtMs) / 1000);
      this.metrics?.activeWorkers.dec(labels);
      // After any re-add above, so a key added while processing runs again exactly once.
      this.queue.done(key);
    }
  }

  private afterSuccess(key: string, result: Result, log: Logger): void {
    if (result.requeueAfterMs !== undefined && result.requeueAfterMs > 0) {
      // Polling is not failing: the next error starts its backoff from the beginning.
      this.queue.forget(key);
      this.queue.addAfter(key, result.requeueAfterMs);
      log.debug({ requeueAfterMs: result.requeueAfterMs }, "Reconcile done, requeueing after a delay");
      this.countResult("requeue_after");
    } else {
      this.queue.forget(key);
      log.debug("Reconcile successful");
      this.countResult("success");
    }
  }

  private afterError(key: string, request: Request, error: unknown, log: Logger): void {
    const labels = { controller: this.name };
    this.metrics?.reconcileErrors.inc(labels);
    this.countResult("error");
    const terminal = findTerminalError(error);
    if (terminal === undefined) {
      log.error({ err: error, retries: this.queue.numRequeues(key) }, "Reconciler error");
      this.queue.addRateLimited(key);
      return;
    }
    this.metrics?.terminalErrors.inc(labels);
    this.queue.forget(key);
    log.error({ err: error, reason: terminal.reason }, "Reconciler terminal error; not retrying");
    try {
      this.onTerminalError?.(request, terminal);
    } catch (hookError) {
      log.error({ err: hookError }, "Recording a terminal error failed");
    }
  }

  private countResult(result: ReconcileResultLabel): void {
    this.metrics?.reconcileTotal.inc({ controller: this.name, result });
  }

  /** Publishes zeros at once, as controller-runtime does, so rate() and alerts work from the start. */
  private initMetrics(): void {
    const metrics = this.metrics;
    if (metrics === undefined) return;
    const labels = { controller: this.name };
    for (const result of ["success", "error", "requeue_after"] as const) {
      metrics.reconcileTotal.inc({ ...labels, result }, 0);
    }
    metrics.reconcileErrors.inc(labels, 0);
    metrics.terminalErrors.inc(labels, 0);
    metrics.activeWorkers.set(labels, 0);
    metrics.maxConcurrentReconciles.set(labels, this.workers);
  }
}

/** The reason a reconcile's signal carries when reconcileTimeoutMs passes. */
export class ReconcileTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TimeoutError";
  }
}

function toKey(request: Request | string): string {
  // The round trip rejects a bad key here, where the mistake is, rather than in a worker later.
  return requestKey(parseRequestKey(typeof request === "string" ? request : requestKey(request)));
}
