import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { findTerminalError, parseRequestKey, requestKey, TerminalError, type Request } from "./result.ts";

describe("request keys", () => {
  const cases: Array<{ request: Request; key: string }> = [
    { request: { namespace: "default", name: "worker-0" }, key: "default/worker-0" },
    { request: { name: "cluster-scoped" }, key: "cluster-scoped" },
    { request: { namespace: "", name: "empty-namespace" }, key: "empty-namespace" },
  ];
  for (const { request, key } of cases) {
    it(`writes ${JSON.stringify(request)} as "${key}" and reads it back`, () => {
      assert.equal(requestKey(request), key);
      const parsed = parseRequestKey(key);
      assert.equal(parsed.name, request.name);
      assert.equal(parsed.namespace, request.namespace || undefined);
    });
  }

  for (const bad of ["", "ns/", "a/b/c", "/"]) {
    it(`refuses the malformed key ${JSON.stringify(bad)}`, () => {
      assert.throws(() => parseRequestKey(bad), TypeError);
    });
  }
});

describe("TerminalError", () => {
  it("carries a reason and a cause", () => {
    const cause = new Error("MAAS said 400");
    const error = new TerminalError("image does not exist", { reason: "ImageNotFound", cause });
    assert.equal(error.reason, "ImageNotFound");
    assert.equal(error.cause, cause);
    assert.equal(error.name, "TerminalError");
    assert.ok(error instanceof Error);
  });

  it("has a default reason", () => {
    assert.equal(new TerminalError("no").reason, "TerminalError");
  });

  describe("when found in an error", () => {
    it("finds the error itself", () => {
      const error = new TerminalError("bad spec");
      assert.equal(findTerminalError(error), error);
    });

    it("finds one wrapped as a cause", () => {
      const terminal = new TerminalError("bad spec");
      const wrapped = new Error("allocating", { cause: new Error("calling MAAS", { cause: terminal }) });
      assert.equal(findTerminalError(wrapped), terminal);
    });

    it("finds none in an ordinary error, a non-error or a cause cycle", () => {
      const cyclic = new Error("a");
      const other = new Error("b", { cause: cyclic });
      (cyclic as { cause?: unknown }).cause = other;
      assert.equal(findTerminalError(new Error("timeout")), undefined);
      assert.equal(findTerminalError("a string"), undefined);
      assert.equal(findTerminalError(cyclic), undefined);
    });
  });
});
