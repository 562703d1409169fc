import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { poolNameErrors, providerIdErrors, systemIdErrors, zoneNameErrors } from "./maas-names.ts";

describe("MAAS names", () => {
  describe("zones and resource pools (MODEL_NAME_VALIDATOR ^\\w[ \\w-]*$)", () => {
    for (const name of ["default", "zone-a", "zone a", "rack_1", "_z", "1st", "zöne", "区域"]) {
      it(`accepts ${JSON.stringify(name)}`, () => {
        assert.deepEqual([zoneNameErrors("f", name), poolNameErrors("f", name)], [[], []]);
      });
    }
    for (const name of ["", " zone", "-zone", "zone/a", "zone.a", "zone:a", "zone\ta"]) {
      it(`refuses ${JSON.stringify(name)}, naming the field and where to find real names`, () => {
        const [zone] = zoneNameErrors("spec.failureDomain", name);
        assert.deepEqual([zone?.field, zone?.value], ["spec.failureDomain", name]);
        assert.match(zone?.detail ?? "", /maas <profile> zones read/);
        assert.match(poolNameErrors("spec.resourcePool", name)[0]?.detail ?? "", /maas <profile> resource-pools read/);
      });
    }
  });

  describe("system IDs", () => {
    for (const [id, ok] of [["4y3h7n", true], ["node-2b4f1c0e-0b6d-11e4-8d3e-00163e002a36", true], ["abc/123", false], ["abc 123", false], ["abc_1", false]] as const) {
      it(`${ok ? "accepts" : "refuses"} ${JSON.stringify(id)}`, () => assert.equal(systemIdErrors("spec.systemID", id).length, ok ? 0 : 1));
    }
  });

  describe("provider IDs", () => {
    const none = { field: "spec.systemID", value: undefined };
    for (const id of ["maas:///zone-a/4y3h7n", "maas:///zone a/4y3h7n"]) {
      it(`accepts ${JSON.stringify(id)}`, () => assert.deepEqual(providerIdErrors("spec.providerID", id, none), []));
    }
    for (const id of ["maas://zone-a/4y3h7n", "maas:///4y3h7n", "maas:///zone.a/4y3h7n", "maas:///zone-a/4y3 7n", "maas:///zone-a/4y3h7n/x"]) {
      it(`refuses ${JSON.stringify(id)} with the form it expects`, () => {
        assert.match(providerIdErrors("spec.providerID", id, none)[0]?.detail ?? "", /expected maas:\/\/\/<zone>\/<system-id>/);
      });
    }
    it("refuses one that names another machine than systemID", () => {
      const [error] = providerIdErrors("spec.providerID", "maas:///zone-a/xyz789", { field: "spec.systemID", value: "abc123" });
      assert.match(error?.detail ?? "", /names system ID xyz789 but spec\.systemID is abc123/);
    });
  });
});
