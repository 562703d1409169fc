import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { applyJsonPatch, diffJson } from "./json-patch.ts";

describe("diffJson", () => {
  for (const [label, from, to, ops] of [
    ["no change", { a: 1, b: [1, 2] }, { a: 1, b: [1, 2] }, []],
    ["an added field", { spec: {} }, { spec: { port: 6443 } }, [{ op: "add", path: "/spec/port", value: 6443 }]],
    ["a removed field", { spec: { a: true, b: 1 } }, { spec: { b: 1 } }, [{ op: "remove", path: "/spec/a" }]],
    ["a replaced value", { spec: { e: false } }, { spec: { e: true } }, [{ op: "replace", path: "/spec/e", value: true }]],
    ["a changed list, replaced whole", { tags: ["a", "b"] }, { tags: ["a"] }, [{ op: "replace", path: "/tags", value: ["a"] }]],
    ["keys with / and ~, escaped", { m: { "a/b": 1 } }, { m: { "a/b": 2, "c~d": 3 } }, [{ op: "replace", path: "/m/a~1b", value: 2 }, { op: "add", path: "/m/c~0d", value: 3 }]],
    ["an object turned into a scalar", { a: { b: 1 } }, { a: 2 }, [{ op: "replace", path: "/a", value: 2 }]],
  ] as const) {
    it(`gives the operations for ${label}, and applying them gives the target`, () => {
      const got = diffJson(from, to);
      assert.deepEqual(got, ops);
      assert.deepEqual(applyJsonPatch(from, got), to);
    });
  }

  it("does not change its inputs", () => {
    const from = { spec: { a: 1 } };
    applyJsonPatch(from, diffJson(from, { spec: { a: 2 } }));
    assert.deepEqual(from, { spec: { a: 1 } });
  });
});
