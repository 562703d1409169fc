import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { createLogger } from "./index.ts";

function capture(): { lines: () => Record<string, unknown>[]; stream: Writable } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, lines: () => chunks.join("").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe("createLogger", () => {
  it("redacts secrets at the top level and one level down", () => {
    const out = capture();
    const log = createLogger({ level: "info", destination: out.stream });
    log.info({ apiKey: "CK:TK:TS", request: { authorization: 'OAuth oauth_signature="%26TS"', user_data: "c2VjcmV0" } }, "call");
    const [line] = out.lines();
    assert.ok(line);
    assert.equal(line.apiKey, "[REDACTED]");
    assert.deepEqual(line.request, { authorization: "[REDACTED]", user_data: "[REDACTED]" });
    assert.doesNotMatch(JSON.stringify(line), /TS|c2VjcmV0/);
  });

  it("keeps ordinary fields and honours the level", () => {
    const out = capture();
    const log = createLogger({ level: "warn", destination: out.stream });
    log.info({ systemID: "abc123" }, "hidden");
    log.warn({ systemID: "abc123" }, "shown");
    const lines = out.lines();
    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.systemID, "abc123");
  });
});
