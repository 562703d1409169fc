import { sleepOn, type Clock, type TimerHandle } from "./clock.ts";

interface PendingTimer {
  id: number;
  dueAt: number;
  callback: () => void;
}

/**
 * A clock that moves only when told to. `advance(ms)` fires due timers in time order
 * and lets promise continuations run between them, so code that awaits a sleep and
 * then schedules the next one behaves as it would in real time.
 */
export class FakeClock implements Clock {
  private currentMs: number;
  private nextId = 1;
  private timers: PendingTimer[] = [];

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.currentMs = startMs;
  }

  now(): number {
    return this.currentMs;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timer = { id: this.nextId++, dueAt: this.currentMs + Math.max(0, delayMs), callback };
    this.timers.push(timer);
    return { id: timer.id };
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers = this.timers.filter((t) => t.id !== handle.id);
  }

  sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, delayMs, signal);
  }

  /** How many timers are waiting to fire. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.currentMs + ms;
    await flushMicrotasks();
    for (;;) {
      const due = this.earliestDueBy(target);
      if (due === undefined) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.currentMs = Math.max(this.currentMs, due.dueAt);
      due.callback();
      await flushMicrotasks();
    }
    this.currentMs = target;
    await flushMicrotasks();
  }

  private earliestDueBy(targetMs: number): PendingTimer | undefined {
    let earliest: PendingTimer | undefined;
    for (const t of this.timers) {
      if (t.dueAt <= targetMs && (earliest === undefined || t.dueAt < earliest.dueAt)) earliest = t;
    }
    return earliest;
  }
}

/** Lets queued promise continuations (several hops deep) run before time moves on. */
async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
