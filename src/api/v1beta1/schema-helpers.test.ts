import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { toStructuralSchema } from "./crd.ts";
import { Int32, ListMap, ListSet, MapOf, StringEnum, described } from "./schema-helpers.ts";

describe("StringEnum", () => {
  const schema = StringEnum(["memory", "disk"]);
  it("accepts only its values", () => {
    assert.equal(Value.Check(schema, "memory"), true);
    assert.equal(Value.Check(schema, "ram"), false);
    assert.equal(Value.Check(schema, 1), false);
  });
});

describe("Int32", () => {
  it("spells out Go's int32 range, which the API server does not derive from the format", () => {
    const schema = Int32({ minimum: 1 });
    assert.deepEqual([Value.Check(schema, 2 ** 31 - 1), Value.Check(schema, 2 ** 31), Value.Check(schema, 0)], [true, false, false]);
    assert.deepEqual(toStructuralSchema(schema), { type: "integer", format: "int32", minimum: 1, maximum: 2 ** 31 - 1 });
  });
});

describe("MapOf", () => {
  const schema = MapOf(Type.Integer({ minimum: 0 }));
  it("checks every value and names the bad key", () => {
    assert.equal(Value.Check(schema, { a: 1, b: 2 }), true);
    assert.deepEqual([...Value.Errors(schema, { a: 1, b: -1 })].map((e) => e.path), ["/b"]);
    assert.equal(Value.Check(schema, ["not", "a", "map"]), false);
  });
});

describe("list helpers", () => {
  it("mark sets and maps for the API server without uniqueItems", () => {
    const schema = toStructuralSchema(
      Type.Object({
        s: ListSet(Type.String()),
        m: ListMap(Type.Object({ name: Type.String() }), ["name"]),
      }),
    );
    assert.deepEqual(schema["properties"], {
      s: { type: "array", items: { type: "string" }, "x-kubernetes-list-type": "set" },
      m: {
        type: "array",
        items: { type: "object", required: ["name"], properties: { name: { type: "string" } } },
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["name"],
      },
    });
  });
});

describe("described", () => {
  it("gives a copy its own description and leaves the shared schema alone", () => {
    const shared = Type.Object({ a: Type.String() }, { description: "shared" });
    const copy = described(shared, "here");
    assert.equal(copy.description, "here");
    assert.equal(shared.description, "shared");
    assert.equal(Value.Check(copy, { a: "x" }), true);
  });
});

describe("date-time format", () => {
  const schema = Type.String({ format: "date-time" });
  const cases: [string, boolean][] = [
    ["2025-01-02T03:04:05Z", true],
    ["2025-01-02T03:04:05.5+02:00", true],
    ["2025-01-02", false],
    ["2025-13-02T03:04:05Z", false],
    ["now", false],
  ];
  for (const [value, ok] of cases) {
    it(`${ok ? "accepts" : "rejects"} ${value}`, () => assert.equal(Value.Check(schema, value), ok));
  }
});
