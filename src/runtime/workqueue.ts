// The rate-limiting, delaying work queue of client-go, which is what makes a
// controller level-triggered: a key is pending at most once however many events
// name it, a key is never handed to two workers at once, and a key added while it
// is being processed runs once more after done(). Keys added as urgent (news about
// something already in flight, such as a MAAS machine that finished deploying) are
// handed out before the others, so a burst of new objects cannot hold them back.
import { systemClock, type Clock, type TimerHandle } from "../clock/index.ts";
import { noopWorkQueueMetrics, type WorkQueueMetrics } from "./metrics.ts";
import { defaultControllerRateLimiter, type RateLimiter } from "./rate-limiter.ts";
import { MinHeap } from "./workqueue-heap.ts";

export interface WorkQueueOptions {
  /** Names the queue in metrics; by convention the controller's name. */
  name: string;
  clock?: Clock;
  /** Delays for addRateLimited; client-go's default controller rate limiter when absent. */
  rateLimiter?: RateLimiter;
  metrics?: WorkQueueMetrics;
}

interface Scheduled {
  key: string;
  readyAtMs: number;
  /** Breaks ties between equal ready times in the order the keys were scheduled. */
  seq: number;
}

type Waiter = (key: string | undefined) => void;

export class WorkQueue {
  readonly name: string;
  private readonly clock: Clock;
  private readonly rateLimiter: RateLimiter;
  private readonly metrics: WorkQueueMetrics;

  /** Keys ready for a worker, each lane in FIFO order; the urgent lane goes first. */
  private readonly urgentLane = new Fifo<Ticket>();
  private readonly normalLane = new Fifo<Ticket>();
  /**
   * The live ticket of each key ready for a worker (every one of them is also dirty).
   * A key moved to the urgent lane leaves its normal ticket behind; take() skips
   * tickets that are no longer live instead of searching the lane.
   */
  private readonly pending = new Map<string, Ticket>();
  /** Dirty keys that were added as urgent, kept while a worker holds them. */
  private readonly urgent = new Set<string>();
  /** Keys that need processing: pending ones, and processing ones added again. */
  private readonly dirty = new Set<string>();
  /** Keys held by a worker, with when they were handed out. */
  private readonly processing = new Map<string, number>();
  /** When each dirty key first became dirty, for the queue-duration histogram. */
  private readonly dirtySinceMs = new Map<string, number>();
  private readonly waiters = new Set<Waiter>();

  /** The one live schedule per key; heap entries not in here are superseded. */
  private readonly scheduled = new Map<string, Scheduled>();
  private readonly heap = new MinHeap<Scheduled>(
    (a, b) => a.readyAtMs < b.readyAtMs || (a.readyAtMs === b.readyAtMs && a.seq < b.seq),
  );
  private nextSeq = 0;
  private timer: { handle: TimerHandle; dueAtMs: number } | undefined;

  private shuttingDown = false;
  private drainWaiters: Array<() => void> = [];

  constructor(opts: WorkQueueOptions) {
    this.name = opts.name;
    this.clock = opts.clock ?? systemClock;
    this.rateLimiter = opts.rateLimiter ?? defaultControllerRateLimiter(this.clock);
    this.metrics = opts.metrics ?? noopWorkQueueMetrics;
    this.metrics.reportInFlight(() => this.inFlightWork());
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /**
   * Marks `key` as needing processing; a no-op when it already does or the queue is
   * shut down, except that an urgent add moves a key already waiting to the urgent lane.
   */
  add(key: string, options?: AddOptions): void {
    if (this.shuttingDown) return;
    const urgent = options?.urgent === true;
    if (this.dirty.has(key)) {
      if (!urgent || this.urgent.has(key)) return;
      this.urgent.add(key);
      if (this.pending.has(key)) this.enqueuePending(key);
      return;
    }
    this.metrics.added();
    this.dirty.add(key);
    if (urgent) this.urgent.add(key);
    this.dirtySinceMs.set(key, this.clock.now());
    // A worker holds it: done() puts it back, so it never runs twice at once.
    if (this.processing.has(key)) return;
    this.enqueuePending(key);
    this.serveWaiters();
  }

  /** Adds `key` once `delayMs` has passed; when scheduled several times, the earliest time wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    // client-go counts every delayed add as a retry, and dashboards expect that.
    this.metrics.retried();
    if (!(delayMs > 0)) {
      this.add(key);
      return;
    }
    const readyAtMs = this.clock.now() + delayMs;
    const current = this.scheduled.get(key);
    if (current !== undefined && current.readyAtMs <= readyAtMs) return;
    const entry: Scheduled = { key, readyAtMs, seq: this.nextSeq++ };
    this.scheduled.set(key, entry);
    this.heap.push(entry);
    this.armTimer();
  }

  /** Adds `key` after the rate limiter's delay for it, counting one more retry. */
  addRateLimited(key: string): void {
    if (this.shuttingDown) return;
    this.addAfter(key, this.rateLimiter.when(key));
  }

  /** Resets `key`'s failure count, so its next failure backs off from the start. */
  forget(key: string): void {
    this.rateLimiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.rateLimiter.retries(key);
  }

  /**
   * The next key to process, which the caller must pass to done(). Waits while the
   * queue is empty; resolves undefined once the queue is shut down and empty, or
   * when `signal` aborts first (never rejects).
   */
  get(signal?: AbortSignal): Promise<string | undefined> {
    if (signal?.aborted) return Promise.resolve(undefined);
    if (this.pending.size > 0) return Promise.resolve(this.take());
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const onAbort = (): void => {
        this.waiters.delete(waiter);
        resolve(undefined);
      };
      const waiter: Waiter = (key) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(key);
      };
      this.waiters.add(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Ends processing of `key`; if it was added meanwhile it becomes pending again. */
  done(key: string): void {
    const startedAtMs = this.processing.get(key);
    if (startedAtMs === undefined) return;
    this.processing.delete(key);
    this.metrics.finished(this.secondsSince(startedAtMs));
    if (this.dirty.has(key)) {
      this.enqueuePending(key);
      this.serveWaiters();
    }
    if (this.processing.size === 0) this.releaseDrainWaiters();
  }

  /** How many keys are waiting for a worker (not counting delayed or processing ones). */
  len(): number {
    return this.pending.size;
  }

  /**
   * Stops accepting adds and drops delayed keys. Keys already pending are still
   * handed out; get() resolves undefined once none are left. Also ends a
   * shutDownWithDrain() wait at once, as client-go's ShutDown does.
   */
  shutDown(): void {
    this.stopAccepting();
    this.releaseDrainWaiters();
  }

  /** Shuts down, then resolves once every key handed to a worker has been passed to done(). */
  shutDownWithDrain(): Promise<void> {
    this.stopAccepting();
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private stopAccepting(): void {
    this.shuttingDown = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer.handle);
    this.timer = undefined;
    this.scheduled.clear();
    this.heap.clear();
    if (this.pending.size === 0) {
      const waiters = [...this.waiters];
      this.waiters.clear();
      for (const waiter of waiters) waiter(undefined);
    }
  }

  private releaseDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Hands pending keys to waiting get() calls, oldest waiter first. */
  private serveWaiters(): void {
    for (const waiter of this.waiters) {
      if (this.pending.size === 0) return;
      this.waiters.delete(waiter);
      waiter(this.take());
    }
  }

  /** Gives `key` a new live ticket in the lane its urgency says. */
  private enqueuePending(key: string): void {
    const ticket: Ticket = { key };
    this.pending.set(key, ticket);
    (this.urgent.has(key) ? this.urgentLane : this.normalLane).push(ticket);
  }

  private nextLiveKey(): string | undefined {
    for (const lane of [this.urgentLane, this.normalLane]) {
      for (let ticket = lane.shift(); ticket !== undefined; ticket = lane.shift()) {
        if (this.pending.get(ticket.key) === ticket) return ticket.key;
      }
    }
    return undefined;
  }

  private take(): string {
    const key = this.nextLiveKey();
    if (key === undefined) throw new Error("work queue: take() with nothing pending");
    const nowMs = this.clock.now();
    this.pending.delete(key);
    this.urgent.delete(key);
    this.dirty.delete(key);
    this.processing.set(key, nowMs);
    const dirtySinceMs = this.dirtySinceMs.get(key) ?? nowMs;
    this.dirtySinceMs.delete(key);
    this.metrics.started((nowMs - dirtySinceMs) / 1000);
    return key;
  }

  /** Keeps one clock timer, due when the earliest live schedule is. */
  private armTimer(): void {
    let next = this.heap.peek();
    while (next !== undefined && this.scheduled.get(next.key) !== next) {
      this.heap.pop();
      next = this.heap.peek();
    }
    if (next === undefined) {
      if (this.timer !== undefined) this.clock.clearTimeout(this.timer.handle);
      this.timer = undefined;
      return;
    }
    if (this.timer !== undefined) {
      if (this.timer.dueAtMs <= next.readyAtMs) return;
      this.clock.clearTimeout(this.timer.handle);
    }
    const dueAtMs = next.readyAtMs;
    const handle = this.clock.setTimeout(() => this.onTimer(), dueAtMs - this.clock.now());
    this.timer = { handle, dueAtMs };
  }

  private onTimer(): void {
    this.timer = undefined;
    const nowMs = this.clock.now();
    for (let next = this.heap.peek(); next !== undefined && next.readyAtMs <= nowMs; next = this.heap.peek()) {
      this.heap.pop();
      if (this.scheduled.get(next.key) !== next) continue;
      this.scheduled.delete(next.key);
      this.add(next.key);
    }
    if (!this.shuttingDown) this.armTimer();
  }

  private inFlightWork(): { longestRunningSeconds: number; unfinishedWorkSeconds: number } {
    let longestRunningSeconds = 0;
    let unfinishedWorkSeconds = 0;
    for (const startedAtMs of this.processing.values()) {
      const seconds = this.secondsSince(startedAtMs);
      unfinishedWorkSeconds += seconds;
      if (seconds > longestRunningSeconds) longestRunningSeconds = seconds;
    }
    return { longestRunningSeconds, unfinishedWorkSeconds };
  }

  private secondsSince(startMs: number): number {
    return Math.max(0, this.clock.now() - startMs) / 1000;
  }
}

export interface AddOptions {
  /** Hand the key out before every key added without it (news about work already in flight). */
  urgent?: boolean;
}

/** A place in a lane; live while it is the one `pending` holds for its key. */
interface Ticket {
  key: string;
}

/** An array-backed FIFO whose shift() is O(1) amortised, unlike Array.prototype.shift. */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++];
    // Compact once the consumed prefix dominates, keeping memory bounded.
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}
