import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { encodeForm, encodeQuery, segment } from "./form.ts";

describe("encodeForm", () => {
  it("repeats the key for each list item, as Django's getlist reads it", () => {
    assert.equal(encodeForm({ tags: ["a", "b"], add: ["x1", "x2", "x3"] }), "tags=a&tags=b&add=x1&add=x2&add=x3");
  });

  it("skips undefined values and writes booleans and numbers as text", () => {
    assert.equal(encodeForm({ cpu_count: 2, mem: 4096.5, dry_run: true, erase: false, zone: undefined }), "cpu_count=2&mem=4096.5&dry_run=true&erase=false");
  });

  it("form-encodes reserved characters, so base64 '+' and '/' arrive intact", () => {
    const body = encodeForm({ user_data: "a+b/c==", comment: "x y&z" });
    assert.equal(body, "user_data=a%2Bb%2Fc%3D%3D&comment=x+y%26z");
    assert.equal(new URLSearchParams(body).get("user_data"), "a+b/c==");
    assert.equal(new URLSearchParams(body).get("comment"), "x y&z");
  });

  it("sends an empty list as nothing", () => {
    assert.equal(encodeForm({ tags: [] }), "");
  });
});

describe("encodeQuery", () => {
  it("puts op first, then the filters", () => {
    assert.equal(encodeQuery("allocate", undefined), "op=allocate");
    assert.equal(encodeQuery(undefined, { id: ["a", "b"], agent_name: "capi" }), "id=a&id=b&agent_name=capi");
    assert.equal(encodeQuery(undefined, {}), "");
  });
});

describe("segment", () => {
  it("encodes a caller's id so it stays one path segment", () => {
    assert.equal(segment("a/b"), "a%2Fb");
    assert.equal(segment(0), "0");
    assert.throws(() => segment(""), TypeError);
  });
});
