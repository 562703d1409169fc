import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubeObject } from "../../api/v1beta1/index.ts";
import { WrittenVersions } from "./written-versions.ts";

const at = (resourceVersion: string, uid = "u1"): KubeObject => ({ apiVersion: "v1", kind: "Thing", metadata: { namespace: "ns", name: "a", uid, resourceVersion } });

describe("WrittenVersions", () => {
  describe("after a write the cache has not delivered yet", () => {
    it("says a cached copy is behind until the cache holds our last write, then forgets it", () => {
      const written = new WrittenVersions();
      assert.equal(written.check(at("5")), "current", "nothing written: the cache is as good as anything");
      written.remember(at("7"));
      assert.equal(written.check(at("5")), "behind");
      assert.equal(written.check(at("7")), "current");
      assert.equal(written.size, 0);
      assert.equal(written.check(at("5")), "current", "forgotten once caught up");
    });
  });

  describe("when the informer delivers our last write before any reconcile reads it", () => {
    it("forgets the write, so a later change by someone else (a deletion) is read from the cache", () => {
      const written = new WrittenVersions();
      written.remember(at("7"));
      written.seen(at("6"));
      assert.equal(written.size, 1, "an older copy delivered late does not count");
      written.seen(at("7"));
      assert.equal(written.size, 0);
      assert.equal(written.check(at("9")), "current", "version 9 is someone else's change after ours");
    });
  });

  describe("when the watch delivered our write before its answer came back", () => {
    it("does not remember it, as the cache already holds it", () => {
      let inCache = at("7");
      const written = new WrittenVersions(() => inCache);
      written.remember(at("7"));
      assert.equal(written.size, 0);
      inCache = at("6");
      written.remember(at("8"));
      assert.equal(written.check(at("6")), "behind", "the cache not there yet: remembered");
    });
  });

  describe("after our write deleted the object", () => {
    it("says the cached copy of that object is gone, even at the version that write answered with", () => {
      const written = new WrittenVersions();
      // The API server answers the removal of the last finalizer with the object's version as it was.
      written.rememberGone(at("9"));
      assert.equal(written.check(at("9")), "gone");
      written.seen(at("9"));
      assert.equal(written.check(at("9")), "gone", "until the cache drops the object and the reconciler forgets it");
      written.forget("ns", "a");
      assert.equal(written.check(at("9")), "current");
    });

    it("treats an object created again under the name (a new UID) as current", () => {
      const written = new WrittenVersions();
      written.rememberGone(at("9", "u1"));
      assert.equal(written.check(at("12", "u2")), "current");
      assert.equal(written.size, 0);
    });
  });
});
