// Retry delays for the work queue, with client-go's workqueue rate limiters'
// semantics: a per-key exponential backoff on failures, and an overall token bucket
// so a burst of failures across many keys cannot hammer MAAS or the API server.
import type { Clock } from "../clock/index.ts";

export interface RateLimiter {
  /** How long to wait before `key` is processed again; counts as one more retry. */
  when(key: string): number;
  /** Stops tracking `key`: its next failure starts from the base delay again. */
  forget(key: string): void;
  /** How many times `key` has been rate limited since it was last forgotten. */
  retries(key: string): number;
}

/** client-go's ItemExponentialFailureRateLimiter: base·2^failures, capped at max. */
export function exponentialFailureRateLimiter(
  opts: { baseDelayMs?: number; maxDelayMs?: number } = {},
): RateLimiter {
  const baseDelayMs = opts.baseDelayMs ?? 5;
  const maxDelayMs = opts.maxDelayMs ?? 1_000_000;
  const failures = new Map<string, number>();
  return {
    when(key) {
      const exponent = failures.get(key) ?? 0;
      failures.set(key, exponent + 1);
      // 2^exponent overflows to Infinity long after it passes any sane cap, so the
      // comparison below stays correct without a guard on the exponent.
      const delayMs = baseDelayMs * 2 ** exponent;
      return delayMs > maxDelayMs ? maxDelayMs : delayMs;
    },
    forget(key) {
      failures.delete(key);
    },
    retries(key) {
      return failures.get(key) ?? 0;
    },
  };
}

/**
 * client-go's BucketRateLimiter over golang.org/x/time/rate: the bucket starts full
 * with `burst` tokens and refills at `qps`; each `when` reserves one token, and when
 * none is left the delay is the time until the reserved token will have refilled.
 * It is shared by all keys, so it never forgets and counts no retries.
 */
export function tokenBucketRateLimiter(opts: { qps: number; burst: number; clock: Clock }): RateLimiter {
  const { qps, burst, clock } = opts;
  if (!(qps > 0) || !(burst >= 1)) throw new RangeError("token bucket needs qps > 0 and burst >= 1");
  const msPerToken = 1000 / qps;
  let tokens = burst;
  let lastMs = clock.now();
  return {
    when() {
      const nowMs = clock.now();
      tokens = Math.min(burst, tokens + Math.max(0, nowMs - lastMs) / msPerToken);
      lastMs = nowMs;
      tokens -= 1;
      if (tokens >= 0) return 0;
      // Round away float dust (99.99999…) so delays land on whole milliseconds.
      return Math.max(0, Math.ceil(-tokens * msPerToken - 1e-6));
    },
    forget() {},
    retries() {
      return 0;
    },
  };
}

/** client-go's MaxOfRateLimiter: the longest delay of all, the most retries of all. */
export function maxOfRateLimiter(...limiters: RateLimiter[]): RateLimiter {
  return {
    when(key) {
      // Every limiter must see the call, so no short-circuit.
      let delayMs = 0;
      for (const limiter of limiters) delayMs = Math.max(delayMs, limiter.when(key));
      return delayMs;
    },
    forget(key) {
      for (const limiter of limiters) limiter.forget(key);
    },
    retries(key) {
      let retries = 0;
      for (const limiter of limiters) retries = Math.max(retries, limiter.retries(key));
      return retries;
    },
  };
}

/**
 * client-go's DefaultControllerRateLimiter, which controller-runtime uses: per-key
 * backoff from 5 ms to 1000 s, and overall 10 qps with a burst of 100.
 */
export function defaultControllerRateLimiter(clock: Clock): RateLimiter {
  return maxOfRateLimiter(
    exponentialFailureRateLimiter({ baseDelayMs: 5, maxDelayMs: 1_000_000 }),
    tokenBucketRateLimiter({ qps: 10, burst: 100, clock }),
  );
}
