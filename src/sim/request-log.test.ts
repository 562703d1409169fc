import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RequestLog } from "./request-log.ts";
import type { RequestLogEntry } from "./types.ts";

function entry(params: Record<string, string> = {}): Omit<RequestLogEntry, "seq"> {
  return { time: "2026-01-01T00:00:00.000Z", method: "POST", path: "/MAAS/api/2.0/machines/abc/", op: "deploy", params, status: 200, fault: null, user: "admin" };
}

describe("request log", () => {
  it("keeps at most maxEntries, dropping the oldest first", () => {
    const log = new RequestLog({ maxEntries: 3, maxBytes: 1_000_000 });
    for (let i = 0; i < 5; i++) log.add(entry());
    assert.deepEqual(log.list().map((e) => e.seq), [3, 4, 5]);
  });

  it("drops the oldest entries once their parameters pass maxBytes, so big user data cannot grow it without limit", () => {
    const log = new RequestLog({ maxEntries: 1000, maxBytes: 10_000 });
    for (let i = 0; i < 10; i++) log.add(entry({ user_data: "x".repeat(3000) }));
    const kept = log.list();
    assert.deepEqual(kept.map((e) => e.seq), [8, 9, 10]);
  });

  it("always keeps the newest entry, even one larger than maxBytes", () => {
    const log = new RequestLog({ maxEntries: 1000, maxBytes: 100 });
    log.add(entry());
    log.add(entry({ user_data: "y".repeat(5000) }));
    assert.deepEqual(log.list().map((e) => [e.seq, e.params.user_data?.length]), [[2, 5000]]);
  });

  it("starts the byte budget afresh after clear, and numbers on", () => {
    const log = new RequestLog({ maxEntries: 1000, maxBytes: 10_000 });
    for (let i = 0; i < 3; i++) log.add(entry({ user_data: "x".repeat(3000) }));
    log.clear();
    for (let i = 0; i < 3; i++) log.add(entry({ user_data: "x".repeat(3000) }));
    assert.deepEqual(log.list().map((e) => e.seq), [4, 5, 6]);
  });

  it("hands out copies, so a caller cannot change the log", () => {
    const log = new RequestLog();
    log.add(entry({ a: "1" }));
    const [first] = log.list();
    if (first !== undefined) first.params.a = "changed";
    assert.equal(log.list()[0]?.params.a, "1");
  });
});
