// When a failed MAAS call is tried again, and after how long.
//
// The rule: a call is retried only when a second attempt cannot do the action twice.
// - Idempotent calls (every GET) are retried on every transient failure: 503/429,
//   409 with Retry-After, 502/504 from a proxy, connection refused or reset, timeout.
// - Non-idempotent calls (allocate, deploy, release, power, create/update/delete,
//   tag membership) are retried only when MAAS cannot have acted:
//     * it answered 503 or 429 (it refused before doing anything), or 409 with
//       Retry-After (lock contention; gomaasapi retries these too), or
//     * the connection was never established (refused, unreachable, connect timeout).
//   A reset or timeout after the request went out is surfaced, never retried: MAAS may
//   have allocated or deployed already. The reconciler's find-before-create (machines
//   tagged with our agent_name) recovers from that on its next pass.
// - A refused TLS certificate is never retried: it is configuration (caCertificates,
//   the endpoint), not an outage, and every attempt would meet the same certificate.
// - An aborted call is never retried: the caller has stopped waiting for the answer.
// Delays are capped exponential backoff with full jitter (AWS architecture blog,
// "Exponential Backoff And Jitter"): random(0, min(max, base * 2^(n-1))). A Retry-After
// is honoured as the delay; one longer than maxDelayMs is not slept through here but
// surfaced (the error carries retryAfterMs) so the caller can requeue instead.
import { MaasConfigError, type MaasError } from "./errors.ts";

export interface RetryOptions {
  /** Attempts in total, including the first; 1 disables retries. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: Readonly<RetryOptions> = { maxAttempts: 4, baseDelayMs: 250, maxDelayMs: 10_000 };

export function resolveRetryOptions(overrides: Partial<RetryOptions> | undefined): RetryOptions {
  const options = { ...DEFAULT_RETRY, ...overrides };
  if (!Number.isInteger(options.maxAttempts) || options.maxAttempts < 1) {
    throw new MaasConfigError(`retry.maxAttempts must be an integer of at least 1; got ${options.maxAttempts}`);
  }
  for (const name of ["baseDelayMs", "maxDelayMs"] as const) {
    if (!Number.isFinite(options[name]) || options[name] < 0) {
      throw new MaasConfigError(`retry.${name} must be a non-negative number of milliseconds; got ${options[name]}`);
    }
  }
  return options;
}

/** Whether a failure may be retried at all, by the rule above (attempt limits aside). */
export function isRetryable(error: MaasError, idempotent: boolean): boolean {
  switch (error.code) {
    case "Unavailable":
      return true;
    case "Conflict":
      return retryAfterOf(error) !== undefined;
    case "ServerError":
      return idempotent && (error.status === 502 || error.status === 504);
    case "Network":
    case "Timeout":
      return idempotent || !requestSentOf(error);
    case "TlsVerification":
    case "Aborted":
      return false;
    default:
      return false;
  }
}

export interface RetryDecisionInput {
  error: MaasError;
  idempotent: boolean;
  /** The attempt that just failed, from 1. */
  attempt: number;
  options: RetryOptions;
  /** Uniform in [0, 1). */
  random: () => number;
}

export type RetryDecision = { retry: true; delayMs: number } | { retry: false };

export function decideRetry(input: RetryDecisionInput): RetryDecision {
  const { error, idempotent, attempt, options, random } = input;
  if (attempt >= options.maxAttempts || !isRetryable(error, idempotent)) return { retry: false };
  const retryAfterMs = retryAfterOf(error);
  if (retryAfterMs !== undefined) {
    return retryAfterMs > options.maxDelayMs ? { retry: false } : { retry: true, delayMs: retryAfterMs };
  }
  return { retry: true, delayMs: backoffDelayMs(attempt, options, random) };
}

/** Full-jitter delay before attempt `attempt + 1`. */
export function backoffDelayMs(attempt: number, options: RetryOptions, random: () => number): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/**
 * `Retry-After` in milliseconds: delta-seconds or an HTTP-date (RFC 9110 §10.2.3);
 * undefined when absent or unreadable. A date in the past means "now".
 */
export function parseRetryAfterMs(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP-date always names a weekday and month; bare numbers such as "-1" are not dates.
  const dateMs = /[A-Za-z]/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(dateMs)) return undefined;
  return Math.max(0, dateMs - nowMs);
}

function retryAfterOf(error: MaasError): number | undefined {
  return "retryAfterMs" in error && typeof error.retryAfterMs === "number" ? error.retryAfterMs : undefined;
}

function requestSentOf(error: MaasError): boolean {
  // Unknown means "may have been sent": the safe assumption for a non-idempotent call.
  return "requestSent" in error && typeof error.requestSent === "boolean" ? error.requestSent : true;
}
