/** An opaque timer returned by {@link Clock.setTimeout}. */
export interface TimerHandle {
  readonly id: number;
}

/** Wall-clock time and timers, injectable for tests. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `callback` once after `delayMs`. */
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** Resolves after `delayMs`; rejects with the signal's reason when aborted first. */
  sleep(delayMs: number, signal?: AbortSignal): Promise<void>;
}

let nextSystemTimerId = 1;
const systemTimers = new Map<number, NodeJS.Timeout>();

/** The real clock: Date.now and Node's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, delayMs) {
    const id = nextSystemTimerId++;
    const timer = setTimeout(() => {
      systemTimers.delete(id);
      callback();
    }, Math.max(0, delayMs));
    systemTimers.set(id, timer);
    return { id };
  },
  clearTimeout(handle) {
    const timer = systemTimers.get(handle.id);
    if (timer !== undefined) {
      clearTimeout(timer);
      systemTimers.delete(handle.id);
    }
  },
  sleep: (delayMs, signal) => sleepOn(systemClock, delayMs, signal),
};

/** A sleep built from a clock's timers, shared by every Clock implementation. */
export function sleepOn(clock: Clock, delayMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      reject(signal?.reason as Error);
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, delayMs);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
