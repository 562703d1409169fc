import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubeObject } from "./kube-object.ts";
import {
  findOwnerReference,
  getControllerOf,
  hasOwnerReference,
  ownerReferenceFor,
  removeOwnerReference,
  setOwnerReference,
} from "./owner-references.ts";

const machine: KubeObject = { apiVersion: "cluster.x-k8s.io/v1beta1", kind: "Machine", metadata: { name: "m1", uid: "uid-m1" } };
const child = (): KubeObject => ({ metadata: { name: "maas-1", namespace: "ns" } });

describe("owner references", () => {
  it("adds a reference once and reports no change the second time", () => {
    const obj = child();
    assert.equal(setOwnerReference(obj, ownerReferenceFor(machine, { controller: true })), true);
    assert.equal(setOwnerReference(obj, ownerReferenceFor(machine, { controller: true })), false);
    assert.equal(obj.metadata.ownerReferences?.length, 1);
    assert.equal(getControllerOf(obj)?.uid, "uid-m1");
  });

  it("treats a new API version of the same owner as the same owner", () => {
    const obj = child();
    setOwnerReference(obj, ownerReferenceFor(machine));
    setOwnerReference(obj, { ...ownerReferenceFor(machine), apiVersion: "cluster.x-k8s.io/v1beta2" });
    assert.equal(obj.metadata.ownerReferences?.length, 1);
    assert.equal(obj.metadata.ownerReferences?.[0]?.apiVersion, "cluster.x-k8s.io/v1beta2");
    assert.ok(findOwnerReference(obj, { group: "cluster.x-k8s.io", kind: "Machine" }));
  });

  it("refuses a second controller", () => {
    const obj = child();
    setOwnerReference(obj, ownerReferenceFor(machine, { controller: true }));
    const other = { ...machine, metadata: { name: "m2", uid: "uid-m2" } };
    assert.throws(() => setOwnerReference(obj, ownerReferenceFor(other, { controller: true })), /already controlled/);
  });

  it("removes a reference", () => {
    const obj = child();
    setOwnerReference(obj, ownerReferenceFor(machine));
    assert.equal(removeOwnerReference(obj, ownerReferenceFor(machine)), true);
    assert.equal(hasOwnerReference(obj, ownerReferenceFor(machine)), false);
    assert.equal(removeOwnerReference(obj, ownerReferenceFor(machine)), false);
  });

  it("needs the owner's uid", () => {
    assert.throws(() => ownerReferenceFor({ apiVersion: "v1", kind: "X", metadata: { name: "x" } }));
  });
});
