// Malformed OAuth: whatever a client puts in the Authorization header, the answer
// is MAAS's 401 with python-oauth's text — never a 500, never a crash — and
// remembering nonces costs bounded memory however many and however long they are.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { rawConnection, startSimProcess, type SimProcess } from "./test-process.ts";
import { startHarness, type Harness } from "./test-support.ts";

const MiB = 1024 * 1024;

function now(): number {
  return Math.floor(Date.now() / 1000);
}

/** An OAuth header for the key CK:TK:TS, with any field replaced or added. */
function header(fields: Record<string, string> = {}): string {
  const all: Record<string, string> = {
    oauth_consumer_key: "CK", oauth_token: "TK", oauth_signature_method: "PLAINTEXT", oauth_signature: "%26TS",
    oauth_timestamp: String(now()), oauth_nonce: `n-${Math.random()}`, ...fields,
  };
  return `OAuth ${Object.entries(all).map(([k, v]) => `${k}="${v}"`).join(", ")}`;
}

describe("malformed OAuth", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ machines: 1 });
  });
  after(() => h.sim.close());

  const cases: Array<[string, () => string, string]> = [
    ["a header of another scheme", () => "Basic Q0s6VEs6VFM=", "Forbidden"],
    ["garbage after OAuth", () => "OAuth !!!%%%,,,", "Forbidden"],
    ["a header that names the six parameters without values", () => "Bearer oauth_consumer_key oauth_token oauth_signature oauth_signature_method oauth_timestamp oauth_nonce", "Authorization Error: 'Parameter not found: oauth_consumer_key'"],
    ["a part without '='", () => `${header()}, garbage`, "Authorization Error: 'Unable to parse OAuth parameters from Authorization header.'"],
    ["a trailing comma", () => `${header()},`, "Authorization Error: 'Unable to parse OAuth parameters from Authorization header.'"],
    ["an empty token", () => header({ oauth_token: "" }), "Authorization Error: 'Invalid access token: '"],
    ["an unknown consumer", () => header({ oauth_consumer_key: "nobody" }), "Authorization Error: Invalid API key."],
    ["a signature method MAAS does not offer", () => header({ oauth_signature_method: "RSA-SHA1" }), "Authorization Error: 'Signature method RSA-SHA1 not supported try one of the following: PLAINTEXT, HMAC-SHA1'"],
    ["another OAuth version", () => header({ oauth_version: "2.0" }), "Authorization Error: 'OAuth version 2.0 not supported.'"],
    ["a timestamp that is not a number", () => header({ oauth_timestamp: "soon" }), `Authorization Error: "invalid literal for int() with base 10: 'soon'"`],
    // A fixed number: the text is refused before its value is read, and the expected text must not depend on when it runs.
    ["a timestamp with trailing garbage", () => header({ oauth_timestamp: "1796610919abc" }), `Authorization Error: "invalid literal for int() with base 10: '1796610919abc'"`],
    ["an escaped token that is not UTF-8", () => header({ oauth_token: "%FF%FEx" }), "Authorization Error: 'Invalid access token: \uFFFD\uFFFDx'"],
    ["a token with raw bytes that are not UTF-8", () => header({ oauth_token: "\xff\x85" }), "Authorization Error: 'Invalid access token: \xff\\x85'"],
    ["a wrong signature", () => header({ oauth_signature: "%26nope" }), "Authorization Error: 'Invalid signature. Expected signature base string: [withheld by the simulator]'"],
  ];
  for (const [what, authorization, text] of cases) {
    it(`answers 401 with MAAS's text for ${what}`, { timeout: 20_000 }, async () => {
      const head = ["GET /MAAS/api/2.0/zones/ HTTP/1.1", "Host: 127.0.0.1", `Authorization: ${authorization()}`, "Connection: close", "", ""].join("\r\n");
      // Raw bytes, not fetch(): header values here hold bytes no HTTP client library would send.
      const c = await rawConnection(h.sim.port);
      try {
        c.socket.write(Buffer.from(head, "latin1"));
        await c.closed;
        const [statusLine = "", ...rest] = c.received().split("\r\n");
        assert.equal(statusLine, "HTTP/1.1 401 Unauthorized");
        assert.equal(Buffer.from(rest.join("\r\n").split("\r\n\r\n")[1] ?? "", "latin1").toString("utf8"), text);
      } finally {
        c.socket.destroy();
      }
    });
  }

  it("still serves a correctly signed request after all of them", async () => {
    assert.equal((await h.client.get("zones/")).status, 200);
  });
});

describe("thousands of distinct nonces, each long, with a wrong signature", () => {
  let sim: SimProcess;
  before(async () => (sim = await startSimProcess([])));
  after(() => sim.stop());

  it("answers every one 401, records no 500, and keeps its memory bounded", { timeout: 300_000 }, async () => {
    const url = `${sim.client.endpoint}/api/2.0/zones/`;
    const nonceBytes = 7 * 1024; // within nginx's 8 KiB header line
    const send = async (i: number): Promise<number> => {
      const nonce = `${i}-`.padEnd(nonceBytes, "n");
      const res = await fetch(url, { headers: { Authorization: header({ oauth_nonce: nonce, oauth_signature: "%26wrong" }) } });
      await res.arrayBuffer();
      return res.status;
    };
    // Warm up (JIT, heap), then measure what 8000 more nonces (55 MiB of them) cost.
    for (let i = 0; i < 500; i += 10) await Promise.all(Array.from({ length: 10 }, (_, j) => send(i + j)));
    const rssBefore = sim.rssBytes();
    const statuses = new Set<number>();
    for (let i = 500; i < 8500; i += 10) {
      for (const status of await Promise.all(Array.from({ length: 10 }, (_, j) => send(i + j)))) statuses.add(status);
    }
    const growth = sim.rssBytes() - rssBefore;
    assert.deepEqual([...statuses], [401]);
    assert.ok(sim.running());
    const log = (await (await fetch(sim.client.endpoint.replace(/\/MAAS$/, "/_sim/requests"))).json()) as Array<{ status: number | null }>;
    assert.ok(log.length > 0 && log.every((e) => e.status === 401));
    // Keeping them would cost at least their own size; their digests cost a fraction of it.
    const nonceMiB = (8000 * nonceBytes) / MiB;
    assert.ok(growth < nonceMiB * MiB, `RSS grew by ${(growth / MiB).toFixed(1)} MiB over 8000 nonces of ${nonceMiB.toFixed(1)} MiB in all`);
  });
});
