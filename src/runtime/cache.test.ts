import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { IndexedStore } from "./cache.ts";
import { DEFAULT_INDEXERS, OWNER_UID_INDEX, labelIndex, namespacedIndexValue } from "./indexers.ts";

const CLUSTER_NAME_LABEL = "cluster.x-k8s.io/cluster-name";
const CLUSTER_NAME_INDEX = "cluster-name";
const INDEXERS = { ...DEFAULT_INDEXERS, [CLUSTER_NAME_INDEX]: labelIndex(CLUSTER_NAME_LABEL) };
const clusterNameIndexValue = namespacedIndexValue;
import type { KubeObject } from "./kube-object.ts";

function machine(name: string, rv: string, cluster?: string, ownerUid?: string): KubeObject {
  return {
    metadata: {
      name,
      namespace: "ns",
      resourceVersion: rv,
      ...(cluster === undefined ? {} : { labels: { [CLUSTER_NAME_LABEL]: cluster } }),
      ...(ownerUid === undefined ? {} : { ownerReferences: [{ apiVersion: "v1", kind: "X", name: "o", uid: ownerUid }] }),
    },
  };
}

describe("IndexedStore", () => {
  it("finds objects by cluster name and owner UID", () => {
    const store = new IndexedStore<KubeObject>(INDEXERS);
    store.upsert(machine("a", "1", "c1", "u1"));
    store.upsert(machine("b", "1", "c1"));
    store.upsert(machine("c", "1", "c2", "u1"));
    const inC1 = store.byIndex(CLUSTER_NAME_INDEX, clusterNameIndexValue("ns", "c1")).map((o) => o.metadata.name);
    assert.deepEqual(inC1.sort(), ["a", "b"]);
    assert.deepEqual(store.keysByIndex(OWNER_UID_INDEX, "u1").sort(), ["ns/a", "ns/c"]);
  });

  it("moves an object between index values when its label changes, and forgets it on removal", () => {
    const store = new IndexedStore<KubeObject>(INDEXERS);
    store.upsert(machine("a", "1", "c1"));
    store.upsert(machine("a", "2", "c2"));
    assert.deepEqual(store.keysByIndex(CLUSTER_NAME_INDEX, clusterNameIndexValue("ns", "c1")), []);
    assert.deepEqual(store.keysByIndex(CLUSTER_NAME_INDEX, clusterNameIndexValue("ns", "c2")), ["ns/a"]);
    store.remove("ns/a");
    assert.deepEqual(store.keysByIndex(CLUSTER_NAME_INDEX, clusterNameIndexValue("ns", "c2")), []);
    assert.equal(store.size, 0);
  });

  it("reports what a relist added, changed and removed, and nothing for unchanged objects", () => {
    const store = new IndexedStore<KubeObject>();
    store.upsert(machine("keep", "1"));
    store.upsert(machine("change", "1"));
    store.upsert(machine("gone", "1"));
    const diff = store.replace([machine("keep", "1"), machine("change", "2"), machine("new", "1")]);
    assert.deepEqual(diff.added.map((o) => o.metadata.name), ["new"]);
    assert.deepEqual(diff.updated.map((u) => u.object.metadata.name), ["change"]);
    assert.deepEqual(diff.deleted.map((o) => o.metadata.name), ["gone"]);
    assert.deepEqual(store.keys().sort(), ["ns/change", "ns/keep", "ns/new"]);
  });

  it("lists one namespace through its built-in namespace index", () => {
    const store = new IndexedStore<KubeObject>();
    store.upsert(machine("a", "1"));
    store.upsert({ metadata: { name: "b", namespace: "other" } });
    assert.deepEqual(store.list("other").map((o) => o.metadata.name), ["b"]);
    assert.equal(store.list().length, 2);
  });
});
