import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { InformerEvent } from "./informer.ts";
import type { KubeObject } from "./kube-object.ts";
import {
  changedOrResync,
  generationChanged,
  mapByReference,
  mapToOwner,
  resourceVersionChanged,
  type ObjectReferenceLike,
} from "./manager-watches.ts";

const obj = (rv: string, generation = 1): KubeObject => ({
  metadata: { name: "m", namespace: "ns", resourceVersion: rv, generation },
});
const update = (old: KubeObject, now: KubeObject, resync = false): InformerEvent<KubeObject> => ({
  type: "update",
  object: now,
  oldObject: old,
  resync,
});

describe("event predicates", () => {
  const table: Array<[string, InformerEvent<KubeObject>, boolean, boolean, boolean]> = [
    // name, event, resourceVersionChanged, generationChanged, changedOrResync
    ["add", { type: "add", object: obj("1") }, true, true, true],
    ["delete", { type: "delete", object: obj("1"), finalStateUnknown: false }, true, true, true],
    ["spec change", update(obj("1", 1), obj("2", 2)), true, true, true],
    ["status-only change", update(obj("1", 1), obj("2", 1)), true, false, true],
    ["resync of an unchanged object", update(obj("1"), obj("1"), true), false, false, true],
    ["same resourceVersion, not a resync", update(obj("1"), obj("1")), false, false, false],
  ];
  for (const [name, event, rv, gen, forKind] of table) {
    it(`${name}: resourceVersionChanged=${rv}, generationChanged=${gen}, changedOrResync=${forKind}`, () => {
      assert.equal(resourceVersionChanged(event), rv);
      assert.equal(generationChanged(event), gen);
      assert.equal(changedOrResync(event), forKind);
    });
  }
});

describe("map functions", () => {
  it("maps a MaasMachine to its owning CAPI Machine, ignoring the owner's version", () => {
    const machine: KubeObject = {
      metadata: {
        name: "maas-1",
        namespace: "ns",
        ownerReferences: [{ apiVersion: "cluster.x-k8s.io/v1beta2", kind: "Machine", name: "machine-1", uid: "u1" }],
      },
    };
    assert.deepEqual(mapToOwner({ group: "cluster.x-k8s.io", kind: "Machine" })(machine), [{ namespace: "ns", name: "machine-1" }]);
    assert.deepEqual(mapToOwner({ group: "other.io", kind: "Machine" })(machine), []);
  });

  it("maps a CAPI Machine to the MaasMachine its infrastructureRef names", () => {
    const machine = {
      metadata: { name: "machine-1", namespace: "ns" },
      spec: { infrastructureRef: { apiGroup: "infrastructure.cluster.x-k8s.io", kind: "MaasMachine", name: "maas-1" } },
    };
    const pick = (o: KubeObject): ObjectReferenceLike => (o as typeof machine).spec.infrastructureRef;
    const map = mapByReference({ pick, group: "infrastructure.cluster.x-k8s.io", kind: "MaasMachine" });
    assert.deepEqual(map(machine), [{ namespace: "ns", name: "maas-1" }]);
    assert.deepEqual(mapByReference({ pick, group: "infrastructure.cluster.x-k8s.io", kind: "Other" })(machine), []);
    assert.deepEqual(mapByReference({ pick, group: "other.example.com", kind: "MaasMachine" })(machine), []);
  });

  it("reads the group of a v1beta1-style reference from its apiVersion", () => {
    const machine = {
      metadata: { name: "machine-1", namespace: "ns" },
      spec: { infrastructureRef: { apiVersion: "infrastructure.cluster.x-k8s.io/v1beta1", kind: "MaasMachine", name: "maas-1" } },
    };
    const pick = (o: KubeObject): ObjectReferenceLike => (o as typeof machine).spec.infrastructureRef;
    assert.deepEqual(mapByReference({ pick, group: "infrastructure.cluster.x-k8s.io", kind: "MaasMachine" })(machine), [
      { namespace: "ns", name: "maas-1" },
    ]);
  });
});
