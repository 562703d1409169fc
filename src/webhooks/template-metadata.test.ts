import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { validateTemplateMetadata } from "./template-metadata.ts";

const PATH = "spec.template.metadata";

describe("template metadata", () => {
  it("accepts qualified keys, empty label values and free-form annotation values", () => {
    const metadata = { labels: { "cluster.x-k8s.io/role": "control-plane", app: "", "a.b_c-d": "V.1_x-y" }, annotations: { "Example/Note": "any text ✓" } };
    assert.deepEqual(validateTemplateMetadata(metadata, PATH), []);
    assert.deepEqual(validateTemplateMetadata(undefined, PATH), []);
  });

  for (const [label, metadata, field, value] of [
    ["a label key with a space", { labels: { "bad key": "x" } }, `${PATH}.labels`, "bad key"],
    ["a label key with an upper-case prefix", { labels: { "Example.com/role": "x" } }, `${PATH}.labels`, "Example.com/role"],
    ["a label key of 64 characters", { labels: { ["k".repeat(64)]: "x" } }, `${PATH}.labels`, "k".repeat(64)],
    ["a label value with a slash", { labels: { role: "a/b" } }, `${PATH}.labels`, "a/b"],
    ["an annotation key with two slashes", { annotations: { "a/b/c": "x" } }, `${PATH}.annotations`, "a/b/c"],
    ["annotations over 256 KiB", { annotations: { note: "x".repeat(256 * 1024) } }, `${PATH}.annotations`, `${256 * 1024 + 4} bytes`],
  ] as const) {
    it(`refuses ${label}, naming the map and the value`, () => {
      const [error, ...rest] = validateTemplateMetadata(metadata, PATH);
      assert.deepEqual([error?.field, error?.value, rest.length], [field, value, 0]);
      assert.match(error?.detail ?? "", /Cluster API copies it onto every object made from this template/);
    });
  }
});
