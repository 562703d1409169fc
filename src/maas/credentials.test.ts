import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { normaliseEndpoint, parseApiKey } from "./credentials.ts";
import { MaasError } from "./errors.ts";

describe("parseApiKey", () => {
  it("splits a MAAS key into consumer key, token key and token secret", () => {
    assert.deepEqual(parseApiKey("ck12:tk34:ts56"), { consumerKey: "ck12", tokenKey: "tk34", tokenSecret: "ts56" });
  });

  it("ignores surrounding whitespace (a key pasted with a newline)", () => {
    assert.deepEqual(parseApiKey("ck:tk:ts\n"), { consumerKey: "ck", tokenKey: "tk", tokenSecret: "ts" });
  });

  const refused: { name: string; key: string; message: RegExp; secretParts: string[] }[] = [
    { name: "empty", key: "", message: /API key is empty/, secretParts: [] },
    { name: "two parts", key: "consumerAAA:tokenBBB", message: /must have three ':'-separated parts .*got 2 parts/, secretParts: ["consumerAAA", "tokenBBB"] },
    { name: "one part", key: "justonesecretvalue", message: /got 1 part$/, secretParts: ["justonesecretvalue"] },
    { name: "four parts", key: "a1:b2:c3:d4", message: /got 4 parts/, secretParts: ["c3", "d4"] },
    { name: "empty token secret", key: "consumerAAA:tokenBBB:", message: /part 3 \(token_secret\) is empty/, secretParts: ["consumerAAA", "tokenBBB"] },
    { name: "empty consumer key", key: ":tokenBBB:secretCCC", message: /part 1 \(consumer_key\) is empty/, secretParts: ["tokenBBB", "secretCCC"] },
    { name: "quoted token key", key: 'consumerAAA:"tokenBBB":secretCCC', message: /part 2 \(token_key\) has characters/, secretParts: ["consumerAAA", "tokenBBB", "secretCCC"] },
    { name: "space inside", key: "consumerAAA:token BBB:secretCCC", message: /part 2 \(token_key\)/, secretParts: ["consumerAAA", "secretCCC"] },
  ];
  for (const { name, key, message, secretParts } of refused) {
    it(`refuses a key that is ${name}, naming the wrong part without echoing the key`, () => {
      assert.throws(
        () => parseApiKey(key),
        (error: unknown) => {
          assert.ok(error instanceof MaasError);
          assert.equal(error.code, "InvalidConfig");
          assert.match(error.message, message);
          for (const part of secretParts) assert.ok(!error.message.includes(part), `message leaks "${part}"`);
          return true;
        },
      );
    });
  }
});

describe("normaliseEndpoint", () => {
  const accepted: [string, string][] = [
    ["http://maas:5240/MAAS", "http://maas:5240/MAAS/api/2.0/"],
    ["http://maas:5240/MAAS/", "http://maas:5240/MAAS/api/2.0/"],
    ["http://maas:5240/MAAS///", "http://maas:5240/MAAS/api/2.0/"],
    ["http://maas:5240/MAAS/api/2.0", "http://maas:5240/MAAS/api/2.0/"],
    ["http://maas:5240/MAAS/api/2.0/", "http://maas:5240/MAAS/api/2.0/"],
    ["https://maas.example.com/MAAS/api/2.0//", "https://maas.example.com/MAAS/api/2.0/"],
    ["http://127.0.0.1:8080", "http://127.0.0.1:8080/api/2.0/"],
    [" http://maas:5240/MAAS ", "http://maas:5240/MAAS/api/2.0/"],
  ];
  for (const [input, expected] of accepted) {
    it(`maps ${JSON.stringify(input)} to ${expected}`, () => {
      assert.equal(normaliseEndpoint(input).href, expected);
    });
  }

  const refused: [string, RegExp][] = [
    ["", /endpoint is empty/],
    ["maas:5240/MAAS", /scheme must be http or https/],
    ["not a url", /not an absolute URL/],
    ["ftp://maas/MAAS", /scheme must be http or https; got "ftp"/],
    ["http://user:pw@maas/MAAS", /must not carry credentials/],
    ["http://maas/MAAS?x=1", /must not have a query/],
    ["http://maas/MAAS/api/1.0/", /API version other than 2.0/],
  ];
  for (const [input, message] of refused) {
    it(`refuses ${JSON.stringify(input)} with a message that says what to fix`, () => {
      assert.throws(() => normaliseEndpoint(input), (error: unknown) => {
        assert.ok(error instanceof MaasError);
        assert.equal(error.code, "InvalidConfig");
        assert.match(error.message, message);
        assert.ok(!error.message.includes("pw@"));
        return true;
      });
    });
  }
});
