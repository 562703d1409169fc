/**
 * What to do with each occurrence of an Event, decided without I/O (client-go's
 * events/v1 broadcaster and its per-object spam filter):
 * - the first occurrence of an isomorphic event (same regarding object, reason,
 *   type, action and note) is created as a new Event;
 * - the second, within the series window, becomes a series at once (count 2);
 * - further ones only bump the count in memory; the Event is patched with the
 *   latest count/lastObservedTime at most once per flush interval;
 * - after the window passes without an occurrence the series is finished, and the
 *   next occurrence starts a new Event;
 * - new Events per regarding object are limited by a token bucket (burst, then one
 *   per refill period), so a hot loop over changing notes cannot flood the server.
 */

export interface AggregatorOptions {
  /** An isomorphic occurrence within this long of the last one joins the series (6 min). */
  seriesWindowMs?: number;
  /** A series is patched at most this often (30 s). */
  flushIntervalMs?: number;
  /** New Events one object may get at once (25, client-go's spam filter). */
  burst?: number;
  /** One more new Event is allowed per object after this long (5 min). */
  refillMs?: number;
}

export interface Occurrence {
  /** Identifies the regarding object (its UID, else namespace/name). */
  regarding: string;
  reason: string;
  type: string;
  action: string;
  note: string;
}

export interface Series {
  readonly key: string;
  /** Name of the Event object once created. */
  name: string | undefined;
  count: number;
  lastObservedMs: number;
  /** The count the API server last received; a flush is due while count exceeds it. */
  sentCount: number;
  lastSentMs: number;
}

export type EventDecision =
  | { action: "create"; series: Series }
  | { action: "patch"; series: Series }
  | { action: "defer"; series: Series; dueInMs: number }
  | { action: "drop" };

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/**
 * How often finished series and full buckets are swept out. The sweep walks every
 * entry, so doing it on each occurrence would make a hot loop over many objects
 * quadratic; a late sweep changes no decision, since observe() judges the series
 * it touches by their own times and a missing bucket is a full one.
 */
const SWEEP_INTERVAL_MS = 1_000;

export class EventAggregator {
  private readonly windowMs: number;
  private readonly flushIntervalMs: number;
  private readonly burst: number;
  private readonly refillMs: number;
  private readonly series = new Map<string, Series>();
  private readonly buckets = new Map<string, Bucket>();
  private lastSweepMs = Number.NEGATIVE_INFINITY;

  constructor(options: AggregatorOptions = {}) {
    this.windowMs = options.seriesWindowMs ?? 6 * 60_000;
    this.flushIntervalMs = options.flushIntervalMs ?? 30_000;
    this.burst = options.burst ?? 25;
    this.refillMs = options.refillMs ?? 5 * 60_000;
  }

  /** Decides for one occurrence at `nowMs` and updates the in-memory state. */
  observe(occurrence: Occurrence, nowMs: number): EventDecision {
    this.expire(nowMs);
    const key = seriesKey(occurrence);
    let existing = this.series.get(key);
    if (existing !== undefined && nowMs - existing.lastObservedMs > this.windowMs) {
      // The series is over; a pending flush still holds it and writes its last count.
      this.series.delete(key);
      existing = undefined;
    }
    if (existing !== undefined) {
      existing.count += 1;
      existing.lastObservedMs = nowMs;
      if (existing.name === undefined) {
        // Still being created: the flush after the create carries this count.
        return { action: "defer", series: existing, dueInMs: 0 };
      }
      const sinceSent = nowMs - existing.lastSentMs;
      if (existing.sentCount === 1 || sinceSent >= this.flushIntervalMs) return { action: "patch", series: existing };
      return { action: "defer", series: existing, dueInMs: this.flushIntervalMs - sinceSent };
    }
    if (!this.takeToken(occurrence.regarding, nowMs)) return { action: "drop" };
    const created: Series = { key, name: undefined, count: 1, lastObservedMs: nowMs, sentCount: 0, lastSentMs: nowMs };
    this.series.set(key, created);
    return { action: "create", series: created };
  }

  /** Records that the API server now holds `count` for `series`. */
  sent(series: Series, count: number, nowMs: number): void {
    series.sentCount = Math.max(series.sentCount, count);
    series.lastSentMs = nowMs;
  }

  /** Forgets a series whose Event could not be written, so the next occurrence creates anew. */
  forget(series: Series): void {
    if (this.series.get(series.key) === series) this.series.delete(series.key);
  }

  /** Series with counts the server has not seen yet. */
  unsent(): Series[] {
    return [...this.series.values()].filter((s) => s.name !== undefined && s.count > s.sentCount);
  }

  private expire(nowMs: number): void {
    if (nowMs - this.lastSweepMs < SWEEP_INTERVAL_MS) return;
    this.lastSweepMs = nowMs;
    for (const [key, s] of this.series) {
      if (nowMs - s.lastObservedMs > this.windowMs && s.count <= s.sentCount) this.series.delete(key);
    }
    for (const [key, bucket] of this.buckets) {
      if (this.refill(bucket, nowMs) >= this.burst) this.buckets.delete(key);
    }
  }

  private takeToken(regarding: string, nowMs: number): boolean {
    const bucket = this.buckets.get(regarding) ?? { tokens: this.burst, updatedMs: nowMs };
    this.buckets.set(regarding, bucket);
    this.refill(bucket, nowMs);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  private refill(bucket: Bucket, nowMs: number): number {
    const earned = Math.floor((nowMs - bucket.updatedMs) / this.refillMs);
    if (earned > 0) {
      bucket.tokens = Math.min(this.burst, bucket.tokens + earned);
      bucket.updatedMs += earned * this.refillMs;
    }
    if (bucket.tokens >= this.burst) bucket.updatedMs = nowMs;
    return bucket.tokens;
  }
}

function seriesKey(o: Occurrence): string {
  return JSON.stringify([o.regarding, o.reason, o.type, o.action, o.note]);
}
