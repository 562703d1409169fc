import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FakeClock } from "../clock/index.ts";
import { buildAuthorizationHeader } from "./oauth.ts";

/** Reads an OAuth header back into its fields, decoding values as a server would. */
function parseOAuthHeader(header: string): Record<string, string> {
  assert.match(header, /^OAuth /);
  const fields: Record<string, string> = {};
  for (const match of header.slice(6).matchAll(/([a-z_]+)="([^"]*)"/g)) {
    fields[match[1] as string] = decodeURIComponent(match[2] as string);
  }
  return fields;
}

describe("buildAuthorizationHeader", () => {
  const credentials = { consumerKey: "CK", tokenKey: "TK", tokenSecret: "TS" };

  it("carries all OAuth PLAINTEXT fields MAAS (piston) requires", () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 12, 0, 0, 750));
    const header = buildAuthorizationHeader({ credentials, clock, nonce: () => "n1" });
    assert.deepEqual(parseOAuthHeader(header), {
      realm: "",
      oauth_consumer_key: "CK",
      oauth_token: "TK",
      oauth_signature_method: "PLAINTEXT",
      oauth_signature: "&TS",
      oauth_timestamp: String(Date.UTC(2026, 0, 1, 12) / 1000),
      oauth_nonce: "n1",
      oauth_version: "1.0",
    });
  });

  it("percent-encodes the signature as %26<token secret>", () => {
    const header = buildAuthorizationHeader({ credentials, clock: new FakeClock(0) });
    assert.match(header, /oauth_signature="%26TS"/);
  });

  it("uses a fresh random nonce and the clock's current time for each header", async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const first = parseOAuthHeader(buildAuthorizationHeader({ credentials, clock }));
    await clock.advance(5000);
    const second = parseOAuthHeader(buildAuthorizationHeader({ credentials, clock }));
    assert.notEqual(first.oauth_nonce, second.oauth_nonce);
    assert.match(first.oauth_nonce ?? "", /^[0-9a-f]{32}$/);
    assert.equal(Number(second.oauth_timestamp) - Number(first.oauth_timestamp), 5);
  });
});
