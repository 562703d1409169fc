import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FakeClock } from "../clock/index.ts";
import {
  getCondition,
  isConditionTrue,
  removeCondition,
  setCondition,
  summarizeReady,
  type Condition,
} from "./conditions.ts";

const T0 = "2026-01-01T00:00:00Z";
const T1 = "2026-01-01T00:01:00Z";

function at(iso: string): FakeClock {
  return new FakeClock(Date.parse(iso));
}

function condition(type: string, status: Condition["status"], reason = "AsExpected", message?: string): Condition {
  return { type, status, reason, ...(message === undefined ? {} : { message }), lastTransitionTime: T0 };
}

describe("condition lookups", () => {
  const conditions = [condition("MachineDeployed", "True"), condition("DNSReady", "False", "Waiting")];

  it("finds a condition by type", () => {
    assert.equal(getCondition(conditions, "DNSReady")?.reason, "Waiting");
    assert.equal(getCondition(conditions, "Nope"), undefined);
    assert.equal(getCondition(undefined, "DNSReady"), undefined);
  });

  it("is true only for a condition present with status True", () => {
    assert.equal(isConditionTrue(conditions, "MachineDeployed"), true);
    assert.equal(isConditionTrue(conditions, "DNSReady"), false);
    assert.equal(isConditionTrue(conditions, "Nope"), false);
    assert.equal(isConditionTrue(undefined, "Nope"), false);
  });
});

describe("setCondition", () => {
  describe("when the condition is new", () => {
    it("appends it with the clock's time, at whole seconds", () => {
      const clock = new FakeClock(Date.parse("2026-03-04T05:06:07.890Z"));
      const result = setCondition(undefined, { type: "Ready", status: "False", reason: "Deploying" }, clock);
      assert.deepEqual(result, [
        { type: "Ready", status: "False", reason: "Deploying", lastTransitionTime: "2026-03-04T05:06:07Z" },
      ]);
    });

    it("takes a transition time given with it", () => {
      const result = setCondition([], { type: "Ready", status: "True", reason: "Ready", lastTransitionTime: T0 }, at(T1));
      assert.equal(result[0]?.lastTransitionTime, T0);
    });
  });

  describe("when the status stays the same", () => {
    it("keeps the transition time and updates reason, message and observedGeneration", () => {
      const before = [condition("Ready", "False", "Allocating", "allocating a machine")];
      const result = setCondition(
        before,
        { type: "Ready", status: "False", reason: "Deploying", message: "deploying", observedGeneration: 3 },
        at(T1),
      );
      assert.deepEqual(result, [
        {
          type: "Ready",
          status: "False",
          reason: "Deploying",
          message: "deploying",
          lastTransitionTime: T0,
          observedGeneration: 3,
        },
      ]);
    });

    it("ignores a transition time given with it", () => {
      const result = setCondition(
        [condition("Ready", "True")],
        { type: "Ready", status: "True", reason: "Ready", lastTransitionTime: T1 },
        at(T1),
      );
      assert.equal(result[0]?.lastTransitionTime, T0);
    });

    it("drops a message the input no longer has", () => {
      const result = setCondition([condition("Ready", "False", "X", "old")], { type: "Ready", status: "False", reason: "X" }, at(T1));
      assert.equal(result[0]?.message, undefined);
      assert.equal("message" in (result[0] ?? {}), false);
    });
  });

  describe("when the status changes", () => {
    it("moves the transition time to now", () => {
      const result = setCondition([condition("Ready", "False")], { type: "Ready", status: "True", reason: "Ready" }, at(T1));
      assert.equal(result[0]?.status, "True");
      assert.equal(result[0]?.lastTransitionTime, T1);
    });
  });

  it("keeps the other conditions, in place, and never changes its input", () => {
    const before = [condition("A", "True"), condition("Ready", "False"), condition("B", "True")];
    const snapshot = structuredClone(before);
    const result = setCondition(before, { type: "Ready", status: "True", reason: "Ready" }, at(T1));
    assert.deepEqual(result.map((c) => c.type), ["A", "Ready", "B"]);
    assert.notEqual(result, before);
    assert.deepEqual(before, snapshot);
  });
});

describe("removeCondition", () => {
  it("returns a new list without the type", () => {
    const before = [condition("A", "True"), condition("B", "True")];
    assert.deepEqual(removeCondition(before, "A").map((c) => c.type), ["B"]);
    assert.equal(before.length, 2);
    assert.deepEqual(removeCondition(undefined, "A"), []);
    assert.deepEqual(removeCondition(before, "Nope").map((c) => c.type), ["A", "B"]);
  });
});

describe("summarizeReady", () => {
  const types = ["MachineAllocated", "MachineDeployed"];

  it("is True when every listed condition is True, ignoring unlisted ones", () => {
    const ready = summarizeReady(
      [condition("MachineAllocated", "True"), condition("MachineDeployed", "True"), condition("Other", "False")],
      { types, observedGeneration: 4 },
      at(T1),
    );
    assert.deepEqual(ready, { type: "Ready", status: "True", reason: "Ready", lastTransitionTime: T1, observedGeneration: 4 });
  });

  it("is True with nothing listed", () => {
    assert.equal(summarizeReady([], { types: [] }, at(T1)).status, "True");
  });

  const cases: Array<{ name: string; conditions: Condition[]; status: Condition["status"]; reason: string; message?: string }> = [
    {
      name: "False, from the first False, when any is False",
      conditions: [
        condition("MachineAllocated", "Unknown", "Checking"),
        condition("MachineDeployed", "False", "DeployFailed", "MAAS reports Failed deployment"),
      ],
      status: "False",
      reason: "DeployFailed",
      message: "MAAS reports Failed deployment",
    },
    {
      name: "False, from the first False in the listed order",
      conditions: [condition("MachineDeployed", "False", "Second"), condition("MachineAllocated", "False", "First")],
      status: "False",
      reason: "First",
    },
    {
      name: "Unknown, from the first Unknown, when none is False",
      conditions: [condition("MachineAllocated", "True"), condition("MachineDeployed", "Unknown", "Polling", "waiting on MAAS")],
      status: "Unknown",
      reason: "Polling",
      message: "waiting on MAAS",
    },
    {
      name: "Unknown when a listed condition is missing",
      conditions: [condition("MachineAllocated", "True")],
      status: "Unknown",
      reason: "NotYetReported",
      message: "Condition MachineDeployed not yet reported",
    },
  ];
  for (const c of cases) {
    it(`is ${c.name}`, () => {
      const ready = summarizeReady(c.conditions, { types }, at(T1));
      assert.equal(ready.status, c.status);
      assert.equal(ready.reason, c.reason);
      assert.equal(ready.message, c.message);
    });
  }

  describe("when Ready already exists", () => {
    it("keeps its transition time while the status holds", () => {
      const conditions = [condition("Ready", "False", "Old"), condition("MachineAllocated", "False", "New")];
      const ready = summarizeReady(conditions, { types }, at(T1));
      assert.equal(ready.reason, "New");
      assert.equal(ready.lastTransitionTime, T0);
    });

    it("moves the transition time when the status changes", () => {
      const conditions = [condition("Ready", "False"), condition("MachineAllocated", "True"), condition("MachineDeployed", "True")];
      const ready = summarizeReady(conditions, { types }, at(T1));
      assert.equal(ready.status, "True");
      assert.equal(ready.lastTransitionTime, T1);
    });

    it("feeds setCondition without churning the list", () => {
      const conditions = [condition("MachineAllocated", "True"), condition("MachineDeployed", "True"), condition("Ready", "True", "Ready")];
      const next = setCondition(conditions, summarizeReady(conditions, { types }, at(T1)), at(T1));
      assert.deepEqual(next, conditions);
    });
  });
});
