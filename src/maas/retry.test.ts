import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  MaasAbortedError,
  MaasBadRequestError,
  MaasConflictError,
  MaasNetworkError,
  MaasNotFoundError,
  MaasServerError,
  MaasTimeoutError,
  MaasTlsVerificationError,
  MaasUnauthorizedError,
  MaasUnavailableError,
  type MaasError,
} from "./errors.ts";
import { backoffDelayMs, decideRetry, isRetryable, parseRetryAfterMs, resolveRetryOptions } from "./retry.ts";

const op = "POST machines/?op=allocate";
const failures: { name: string; error: MaasError; idempotent: boolean; nonIdempotent: boolean }[] = [
  { name: "503", error: new MaasUnavailableError({ op, status: 503, body: "" }), idempotent: true, nonIdempotent: true },
  { name: "429", error: new MaasUnavailableError({ op, status: 429, body: "" }), idempotent: true, nonIdempotent: true },
  { name: "409 with Retry-After", error: new MaasConflictError({ op, status: 409, body: "", retryAfterMs: 1000 }), idempotent: true, nonIdempotent: true },
  { name: "409 without Retry-After (no match)", error: new MaasConflictError({ op, status: 409, body: "No machine available." }), idempotent: false, nonIdempotent: false },
  { name: "connection refused (never connected)", error: new MaasNetworkError({ op, requestSent: false, syscallCode: "ECONNREFUSED" }), idempotent: true, nonIdempotent: true },
  { name: "connection reset after sending", error: new MaasNetworkError({ op, requestSent: true, syscallCode: "ECONNRESET" }), idempotent: true, nonIdempotent: false },
  { name: "timeout while connecting", error: new MaasTimeoutError({ op, timeoutMs: 1, requestSent: false }), idempotent: true, nonIdempotent: true },
  { name: "timeout after sending", error: new MaasTimeoutError({ op, timeoutMs: 1, requestSent: true }), idempotent: true, nonIdempotent: false },
  { name: "502 from a proxy", error: new MaasServerError({ op, status: 502, body: "" }), idempotent: true, nonIdempotent: false },
  { name: "504 from a proxy", error: new MaasServerError({ op, status: 504, body: "" }), idempotent: true, nonIdempotent: false },
  { name: "500", error: new MaasServerError({ op, status: 500, body: "" }), idempotent: false, nonIdempotent: false },
  { name: "400", error: new MaasBadRequestError({ op, status: 400, body: "" }), idempotent: false, nonIdempotent: false },
  { name: "401", error: new MaasUnauthorizedError({ op, status: 401, body: "" }), idempotent: false, nonIdempotent: false },
  { name: "404", error: new MaasNotFoundError({ op, status: 404, body: "" }), idempotent: false, nonIdempotent: false },
  { name: "aborted after sending", error: new MaasAbortedError({ op, requestSent: true }), idempotent: false, nonIdempotent: false },
  { name: "aborted before sending", error: new MaasAbortedError({ op, requestSent: false }), idempotent: false, nonIdempotent: false },
  { name: "certificate refused", error: new MaasTlsVerificationError({ op, reason: "self-signed", tlsCode: "DEPTH_ZERO_SELF_SIGNED_CERT" }), idempotent: false, nonIdempotent: false },
];

describe("isRetryable", () => {
  for (const { name, error, idempotent, nonIdempotent } of failures) {
    it(`${name}: ${idempotent ? "retries" : "does not retry"} a GET, ${nonIdempotent ? "retries" : "does not retry"} an allocate`, () => {
      assert.equal(isRetryable(error, true), idempotent);
      assert.equal(isRetryable(error, false), nonIdempotent);
    });
  }
});

describe("decideRetry", () => {
  const options = resolveRetryOptions({ maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 5000 });
  const unavailable = new MaasUnavailableError({ op, status: 503, body: "" });

  it("stops when the attempts are used up", () => {
    assert.deepEqual(decideRetry({ error: unavailable, idempotent: true, attempt: 3, options, random: () => 0.5 }), { retry: false });
  });

  it("waits the Retry-After instead of the backoff", () => {
    const error = new MaasUnavailableError({ op, status: 503, body: "", retryAfterMs: 2000 });
    assert.deepEqual(decideRetry({ error, idempotent: false, attempt: 1, options, random: () => 0.5 }), { retry: true, delayMs: 2000 });
  });

  it("surfaces a Retry-After longer than maxDelayMs instead of sleeping through it", () => {
    const error = new MaasUnavailableError({ op, status: 503, body: "", retryAfterMs: 60_000 });
    assert.deepEqual(decideRetry({ error, idempotent: true, attempt: 1, options, random: () => 0.5 }), { retry: false });
  });

  it("uses full-jitter backoff otherwise", () => {
    assert.deepEqual(decideRetry({ error: unavailable, idempotent: true, attempt: 2, options, random: () => 0.5 }), { retry: true, delayMs: 100 });
  });
});

describe("backoffDelayMs", () => {
  it("doubles the ceiling per attempt up to maxDelayMs and scales it by the random draw", () => {
    const options = { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 1000 };
    const ceilings = [1, 2, 3, 4, 5, 6].map((attempt) => backoffDelayMs(attempt, options, () => 0.999999));
    assert.deepEqual(ceilings, [99, 199, 399, 799, 999, 999]);
    assert.equal(backoffDelayMs(3, options, () => 0), 0);
    assert.equal(backoffDelayMs(3, options, () => 0.25), 100);
  });
});

describe("parseRetryAfterMs", () => {
  const now = Date.UTC(2026, 0, 1, 0, 0, 0);
  it("reads delta-seconds and HTTP-dates", () => {
    assert.equal(parseRetryAfterMs("3", now), 3000);
    assert.equal(parseRetryAfterMs("0", now), 0);
    assert.equal(parseRetryAfterMs("Thu, 01 Jan 2026 00:00:05 GMT", now), 5000);
    assert.equal(parseRetryAfterMs("Wed, 31 Dec 2025 23:00:00 GMT", now), 0);
  });
  it("ignores absent or unreadable values", () => {
    assert.equal(parseRetryAfterMs(undefined, now), undefined);
    assert.equal(parseRetryAfterMs("soon", now), undefined);
    assert.equal(parseRetryAfterMs("-1", now), undefined);
  });
});

describe("resolveRetryOptions", () => {
  it("fills defaults and refuses nonsense", () => {
    assert.equal(resolveRetryOptions({ maxAttempts: 1 }).maxAttempts, 1);
    assert.throws(() => resolveRetryOptions({ maxAttempts: 0 }), { code: "InvalidConfig" });
    assert.throws(() => resolveRetryOptions({ baseDelayMs: -1 }), /retry.baseDelayMs/);
  });
});
