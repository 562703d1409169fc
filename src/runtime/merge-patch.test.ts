import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { applyMergePatch, createMergePatch } from "./merge-patch.ts";

interface Case {
  name: string;
  before: Record<string, unknown>;
  after: Record<string, unknown>;
  patch: Record<string, unknown> | undefined;
}

const cases: Case[] = [
  {
    name: "nothing changed",
    before: { spec: { image: "ubuntu/jammy", tags: ["a"] }, status: { ready: true } },
    after: { status: { ready: true }, spec: { tags: ["a"], image: "ubuntu/jammy" } },
    patch: undefined,
  },
  {
    name: "a top-level field added",
    before: { spec: {} },
    after: { spec: {}, status: { ready: true } },
    patch: { status: { ready: true } },
  },
  {
    name: "a nested field changed beside unchanged ones",
    before: { spec: { providerID: "", image: "ubuntu/jammy" }, status: { ready: false } },
    after: { spec: { providerID: "maas:///zone-a/abc123", image: "ubuntu/jammy" }, status: { ready: false } },
    patch: { spec: { providerID: "maas:///zone-a/abc123" } },
  },
  {
    name: "a deeply nested field changed",
    before: { metadata: { annotations: { a: "1", b: "2" } } },
    after: { metadata: { annotations: { a: "1", b: "3" } } },
    patch: { metadata: { annotations: { b: "3" } } },
  },
  {
    name: "a field removed",
    before: { metadata: { finalizers: ["maasmachine.infrastructure.cluster.x-k8s.io"], name: "m" } },
    after: { metadata: { name: "m" } },
    patch: { metadata: { finalizers: null } },
  },
  {
    name: "a field set to undefined, which JSON drops",
    before: { status: { failureReason: "X", ready: false } },
    after: { status: { failureReason: undefined, ready: false } },
    patch: { status: { failureReason: null } },
  },
  {
    name: "a whole object removed",
    before: { status: { addresses: [{ type: "InternalIP", address: "10.0.0.5" }] }, spec: {} },
    after: { spec: {} },
    patch: { status: null },
  },
  {
    name: "an array item appended, which replaces the array",
    before: { status: { addresses: [{ type: "InternalIP", address: "10.0.0.5" }] } },
    after: {
      status: {
        addresses: [
          { type: "InternalIP", address: "10.0.0.5" },
          { type: "Hostname", address: "node-1" },
        ],
      },
    },
    patch: {
      status: {
        addresses: [
          { type: "InternalIP", address: "10.0.0.5" },
          { type: "Hostname", address: "node-1" },
        ],
      },
    },
  },
  {
    name: "an array emptied",
    before: { metadata: { finalizers: ["a", "b"] } },
    after: { metadata: { finalizers: [] } },
    patch: { metadata: { finalizers: [] } },
  },
  {
    name: "an array reordered",
    before: { spec: { tags: ["a", "b"] } },
    after: { spec: { tags: ["b", "a"] } },
    patch: { spec: { tags: ["b", "a"] } },
  },
  {
    name: "a scalar replaced by an object",
    before: { spec: { failureDomain: "zone-a" } },
    after: { spec: { failureDomain: { name: "zone-a" } } },
    patch: { spec: { failureDomain: { name: "zone-a" } } },
  },
  {
    name: "an object replaced by a scalar",
    before: { spec: { failureDomain: { name: "zone-a" } } },
    after: { spec: { failureDomain: "zone-a" } },
    patch: { spec: { failureDomain: "zone-a" } },
  },
  {
    name: "an array replaced by an object",
    before: { data: [1, 2] },
    after: { data: { one: 1 } },
    patch: { data: { one: 1 } },
  },
  {
    name: "values of different types that look alike",
    before: { a: 0, b: "", c: false, d: "1", e: [] },
    after: { a: false, b: 0, c: "", d: 1, e: {} },
    patch: { a: false, b: 0, c: "", d: 1, e: {} },
  },
];

describe("createMergePatch", () => {
  for (const c of cases) {
    describe(`with ${c.name}`, () => {
      it("produces the expected patch", () => {
        assert.deepEqual(createMergePatch(c.before, c.after), c.patch);
      });

      it("turns before into after when applied", () => {
        const patched = applyMergePatch(c.before, createMergePatch(c.before, c.after) ?? {});
        assert.deepEqual(patched, JSON.parse(JSON.stringify(c.after)));
      });
    });
  }

  it("shares no structure with its inputs", () => {
    const after = { spec: { tags: ["a"] } };
    const patch = createMergePatch({}, after) as { spec: { tags: string[] } };
    patch.spec.tags.push("b");
    assert.deepEqual(after, { spec: { tags: ["a"] } });
  });

  it("cannot set a field to null, which the format reads as removal", () => {
    const patch = createMergePatch({ a: 1 }, { a: null });
    assert.deepEqual(patch, { a: null });
    assert.deepEqual(applyMergePatch({ a: 1 }, patch), {});
  });

  it("refuses values that are not objects when they differ", () => {
    assert.throws(() => createMergePatch([1], [2]), TypeError);
    assert.throws(() => createMergePatch({}, "x"), TypeError);
    assert.equal(createMergePatch([1], [1]), undefined);
  });
});

describe("applyMergePatch", () => {
  // From RFC 7386, appendix A.
  const rfcCases: Array<[unknown, unknown, unknown]> = [
    [{ a: "b" }, { a: "c" }, { a: "c" }],
    [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
    [{ a: "b" }, { a: null }, {}],
    [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
    [{ a: ["b"] }, { a: "c" }, { a: "c" }],
    [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
    [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
    [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
    [["a", "b"], ["c", "d"], ["c", "d"]],
    [{ a: "b" }, ["c"], ["c"]],
    [{ a: "foo" }, null, null],
    [{ a: "foo" }, "bar", "bar"],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: "b", c: null }, { a: "b" }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [target, patch, result] of rfcCases) {
    it(`applies ${JSON.stringify(patch)} to ${JSON.stringify(target)}`, () => {
      assert.deepEqual(applyMergePatch(target, patch), result);
    });
  }

  it("leaves its target unchanged", () => {
    const target = { metadata: { labels: { a: "1" } }, spec: { x: 1 } };
    applyMergePatch(target, { metadata: { labels: { a: null, b: "2" } }, spec: null });
    assert.deepEqual(target, { metadata: { labels: { a: "1" } }, spec: { x: 1 } });
  });

  it("keeps a __proto__ key as data", () => {
    const patched = applyMergePatch<Record<string, unknown>>({}, JSON.parse('{"__proto__": {"polluted": true}}'));
    assert.equal(Object.getPrototypeOf(patched), Object.prototype);
    assert.deepEqual(Object.keys(patched), ["__proto__"]);
    assert.equal((patched as { polluted?: boolean }).polluted, undefined);
  });
});
