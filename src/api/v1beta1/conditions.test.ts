// The constants the controllers write must be values the CRDs accept, or every status
// patch carrying them would be refused by the API server.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Value } from "@sinclair/typebox/value";
import * as conditions from "./conditions.ts";
import * as finalizers from "./finalizers.ts";
import { ConditionSchema, GROUP } from "./index.ts";

const exported = (module: object, suffix: string): [string, string][] =>
  Object.entries(module).filter((entry): entry is [string, string] => entry[0].endsWith(suffix) && typeof entry[1] === "string");

describe("condition constants", () => {
  const types = exported(conditions, "Condition");
  const reasons = exported(conditions, "Reason");

  it("exist for Ready and every reason the controllers use", () => {
    assert.ok(types.length >= 5 && reasons.length >= 10, `${String(types.length)} types, ${String(reasons.length)} reasons`);
    assert.equal(conditions.ReadyCondition, "Ready");
  });

  for (const [name, type] of types) {
    it(`${name} is a valid condition type`, () => {
      const condition = { type, status: "True", reason: conditions.ReadyReason, lastTransitionTime: "2025-01-02T03:04:05Z" };
      assert.deepEqual([...Value.Errors(ConditionSchema, condition)].map((e) => e.path), []);
    });
  }

  for (const [name, reason] of reasons) {
    it(`${name} is a valid condition reason`, () => {
      const condition = { type: "Ready", status: "False", reason, lastTransitionTime: "2025-01-02T03:04:05Z" };
      assert.deepEqual([...Value.Errors(ConditionSchema, condition)].map((e) => e.path), []);
    });
  }

  it("has no two names for one value", () => {
    for (const list of [types, reasons]) {
      const values = list.map(([, value]) => value);
      assert.deepEqual(values.filter((v, i) => values.indexOf(v) !== i), []);
    }
  });
});

describe("finalizer constants", () => {
  for (const [name, finalizer] of exported(finalizers, "Finalizer")) {
    it(`${name} is qualified by our API group, as the API server asks of finalizers`, () => {
      assert.match(finalizer, new RegExp(`^${GROUP.replace(/\./g, "\\.")}/[a-z0-9][-a-z0-9]*$`));
    });
  }
});
