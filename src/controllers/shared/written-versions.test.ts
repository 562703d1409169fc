import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubeObject } from "../../api/v1beta1/index.ts";
import { WrittenVersions } from "./written-versions.ts";

const at = (resourceVersion: string): KubeObject => ({ apiVersion: "v1", kind: "Thing", metadata: { namespace: "ns", name: "a", resourceVersion } });

describe("WrittenVersions", () => {
  it("says a cached copy is behind until the cache holds our last write, then forgets it", () => {
    const written = new WrittenVersions();
    assert.equal(written.isBehind(at("5")), false, "nothing written: the cache is as good as anything");
    written.remember(at("7"));
    assert.equal(written.isBehind(at("5")), true);
    assert.equal(written.isBehind(at("7")), false);
    assert.equal(written.size, 0);
    assert.equal(written.isBehind(at("5")), false, "forgotten once caught up");
  });

  it("says every cached copy is behind once our write deleted the object, even one at the version that write answered with", () => {
    const written = new WrittenVersions();
    // The API server answers the removal of the last finalizer with the object's version as it was.
    written.rememberGone(at("9"));
    assert.equal(written.isBehind(at("9")), true);
    assert.equal(written.isBehind(at("9")), true, "until the cache drops the object and the reconciler forgets it");
    written.forget("ns", "a");
    assert.equal(written.isBehind(at("9")), false);
  });
});
