import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  bootstrapDataSecretName,
  decodeBootstrapData,
  formatProviderID,
  isDeleteForMove,
  isExternallyManaged,
  isPaused,
  ownerMachineName,
  parseProviderID,
  pausedCondition,
  type Cluster,
  type Machine,
} from "./index.ts";

const obj = (annotations?: Record<string, string>) => ({
  kind: "MaasMachine",
  metadata: { name: "m", namespace: "ns", generation: 3, ...(annotations === undefined ? {} : { annotations }) },
});
const cluster = (paused: boolean): Cluster => ({ metadata: { name: "c", namespace: "ns" }, spec: { paused } });

describe("CAPI contract helpers", () => {
  describe("pause", () => {
    it("is paused by the Cluster's spec.paused or the object's annotation, and by nothing else", () => {
      assert.equal(isPaused(cluster(true), obj()), true);
      assert.equal(isPaused(cluster(false), obj({ "cluster.x-k8s.io/paused": "" })), true);
      assert.equal(isPaused(cluster(false), obj({ other: "x" })), false);
      assert.equal(isPaused(undefined, obj()), false);
    });

    it("writes the Paused condition with CAPI's reasons and messages", () => {
      assert.deepEqual(pausedCondition(cluster(true), obj({ "cluster.x-k8s.io/paused": "" })), {
        type: "Paused",
        status: "True",
        reason: "Paused",
        message: "Cluster spec.paused is set to true, MaasMachine has the cluster.x-k8s.io/paused annotation",
        observedGeneration: 3,
      });
      assert.deepEqual(pausedCondition(cluster(false), obj()), {
        type: "Paused",
        status: "False",
        reason: "NotPaused",
        observedGeneration: 3,
      });
    });
  });

  it("recognises externally managed objects and clusterctl move's deletes", () => {
    assert.equal(isExternallyManaged(obj({ "cluster.x-k8s.io/managed-by": "someone" })), true);
    assert.equal(isExternallyManaged(obj()), false);
    assert.equal(isDeleteForMove(obj({ "clusterctl.cluster.x-k8s.io/delete-for-move": "" })), true);
    assert.equal(isDeleteForMove(obj()), false);
  });

  it("finds the owner Machine only through a cluster.x-k8s.io Machine reference", () => {
    const owned = (apiVersion: string) => ({
      metadata: { name: "m", ownerReferences: [{ apiVersion, kind: "Machine", name: "machine-0", uid: "u" }] },
    });
    assert.equal(ownerMachineName(owned("cluster.x-k8s.io/v1beta2")), "machine-0");
    assert.equal(ownerMachineName(owned("cluster.x-k8s.io/v1beta1")), "machine-0");
    assert.equal(ownerMachineName(owned("other.example.com/v1")), undefined);
  });

  it("reads the bootstrap Secret name only once it is set, and decodes its value key", () => {
    const machine: Machine = { metadata: { name: "m" }, spec: { clusterName: "c", bootstrap: { dataSecretName: "" } } };
    assert.equal(bootstrapDataSecretName(machine), undefined);
    machine.spec.bootstrap = { dataSecretName: "m-bootstrap" };
    assert.equal(bootstrapDataSecretName(machine), "m-bootstrap");
    const value = Buffer.from("#cloud-config\nruncmd: [kubeadm init]\n").toString("base64");
    assert.equal(decodeBootstrapData({ metadata: { name: "s" }, data: { value } }), "#cloud-config\nruncmd: [kubeadm init]\n");
    assert.throws(() => decodeBootstrapData({ metadata: { name: "s" }, data: {} }), /has no "value" key/);
  });

  describe("provider IDs", () => {
    it("formats maas:///<zone>/<system-id> and parses it back", () => {
      const id = formatProviderID("zone-a", "abc123");
      assert.equal(id, "maas:///zone-a/abc123");
      assert.deepEqual(parseProviderID(id), { zone: "zone-a", systemId: "abc123" });
    });

    it("refuses what is not that form", () => {
      for (const bad of ["maas://zone/abc", "aws:///zone/abc", "maas:///abc", "maas:///a/b/c", "maas:////abc"]) {
        assert.equal(parseProviderID(bad), undefined, bad);
      }
      assert.throws(() => formatProviderID("", "abc"), RangeError);
      assert.throws(() => formatProviderID("z", "a/b"), RangeError);
    });
  });
});
