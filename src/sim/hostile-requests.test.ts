// Requests nginx in front of MAAS refuses, or Django does before any MAAS code runs:
// heads over nginx's buffers, a Host nginx cannot parse, more parameters than Django
// accepts. Raw sockets, since a well-behaved HTTP client would not send these.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { rawConnection, until } from "./test-process.ts";
import { plaintextHeader, startHarness, API_KEY, type Harness } from "./test-support.ts";

const KiB = 1024;

/** Sends `head` (and `body`) on a fresh connection; resolves with the answer once the server closes or answers in full. */
async function exchange(port: number, head: string, body = ""): Promise<string> {
  const c = await rawConnection(port, head + body);
  try {
    await until(() => c.isClosed() || /\r\n\r\n[\s\S]*\n$/.test(c.received()), 10_000, "an answer");
    return c.received();
  } finally {
    c.socket.destroy();
  }
}

function request(target: string, headers: string[] = []): string {
  return [`GET ${target} HTTP/1.1`, "Host: 127.0.0.1", ...headers, "", ""].join("\r\n");
}

describe("hostile requests", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ machines: 3 });
  });
  after(() => h.sim.close());

  describe("when a request's head does not fit nginx's header buffers (4 × 8 KiB)", () => {
    const cases: Array<[string, string, RegExp]> = [
      ["a 9 KiB request line", request(`/MAAS/api/2.0/version/?x=${"a".repeat(9 * KiB)}`), /^HTTP\/1\.1 414 Request-URI Too Large\r\n[\s\S]*\r\n\r\nRequest-URI Too Large\n$/],
      ["a 100 KiB request line", request(`/MAAS/api/2.0/version/?x=${"a".repeat(100 * KiB)}`), /^HTTP\/1\.1 414 Request-URI Too Large\r\n[\s\S]*\r\n\r\nRequest-URI Too Large\n$/],
      ["a 9 KiB header line", request("/MAAS/api/2.0/version/", [`Cookie: ${"c".repeat(9 * KiB)}`]), /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*\r\n\r\nRequest Header Or Cookie Too Large\n$/],
      ["a 100 KiB header line", request("/MAAS/api/2.0/version/", [`Cookie: ${"c".repeat(100 * KiB)}`]), /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*\r\n\r\nRequest Header Or Cookie Too Large\n$/],
      ["40 header lines of 1 KiB", request("/MAAS/api/2.0/version/", Array.from({ length: 40 }, (_, i) => `X-Pad-${i}: ${"p".repeat(KiB)}`)), /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*\r\n\r\nRequest Header Or Cookie Too Large\n$/],
      ["a 9 KiB OAuth header", request("/MAAS/api/2.0/zones/", [`Authorization: ${plaintextHeader(API_KEY, { nonce: "n".repeat(9 * KiB) })}`]), /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*\r\n\r\nRequest Header Or Cookie Too Large\n$/],
    ];
    for (const [what, head, answer] of cases) {
      it(`refuses ${what} as nginx does`, { timeout: 20_000 }, async () => {
        assert.match(await exchange(h.sim.port, head), answer);
      });
    }

    it("serves a 7 KiB request line with three 7 KiB header lines, which fit", { timeout: 20_000 }, async () => {
      const head = request(`/MAAS/api/2.0/version/?x=${"a".repeat(7 * KiB)}`, Array.from({ length: 3 }, (_, i) => `X-Pad-${i}: ${"p".repeat(7 * KiB)}`));
      assert.match(await exchange(h.sim.port, head.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n")), /^HTTP\/1\.1 200 OK\r\n/);
    });
  });

  describe("when the Host header is one nginx refuses", () => {
    for (const host of ["a b", "[::1", "x/y", "a..b", "127.0.0.1:99999", "", "\xff"]) {
      it(`answers 400 Bad Request for Host ${JSON.stringify(host)}`, { timeout: 20_000 }, async () => {
        const head = ["GET /MAAS/api/2.0/version/ HTTP/1.1", `Host: ${host}`, "", ""].join("\r\n");
        assert.match(await exchange(h.sim.port, head), /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*\r\n\r\nBad Request\n$/);
      });
    }

    it("answers 400, not 500, to a request signed with HMAC-SHA1, whose signature covers the Host", { timeout: 20_000 }, async () => {
      const auth = `OAuth oauth_consumer_key="CK", oauth_token="TK", oauth_signature_method="HMAC-SHA1", oauth_signature="x", oauth_timestamp="${Math.floor(Date.now() / 1000)}", oauth_nonce="hmac-bad-host"`;
      const head = ["GET /MAAS/api/2.0/zones/ HTTP/1.1", "Host: a b", `Authorization: ${auth}`, "", ""].join("\r\n");
      assert.match(await exchange(h.sim.port, head), /^HTTP\/1\.1 400 Bad Request\r\n/);
      assert.ok(h.sim.requestLog().every((e) => e.status !== 500));
    });
  });

  describe("when the request line is not HTTP", () => {
    it("answers 400 Bad Request", { timeout: 20_000 }, async () => {
      assert.match(await exchange(h.sim.port, "HELLO\r\n\r\n"), /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*\r\n\r\nBad Request\n$/);
    });
  });

  describe("when a request carries more than Django's 1000 parameters", () => {
    const djangoPage = '\n<!doctype html>\n<html lang="en">\n<head>\n  <title>Bad Request (400)</title>\n</head>\n<body>\n  <h1>Bad Request (400)</h1><p></p>\n</body>\n</html>\n';
    const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `m${i}`);

    it("serves 1000 in the query string", async () => {
      const reply = await h.client.get("machines/", { id: ids(1000) });
      assert.equal(reply.status, 200, reply.text);
    });

    const refused: Array<[string, () => Promise<{ status: number; text: string; headers: Headers }>]> = [
      ["1001 in the query string", () => h.client.get("machines/", { id: ids(1001) })],
      ["1001 in a urlencoded body", () => h.client.post("machines/", "allocate", { id: ids(1001) })],
      ["1001 in a multipart body", () => h.client.post("machines/", "allocate", { id: ids(1001) }, { encoding: "libmaas-multipart" })],
      // Every key distinct: parsing them all would cost far more than counting them.
      ["200,000 distinct ones in a urlencoded body", () => h.client.post("machines/", "allocate", Object.fromEntries(ids(200_000).map((k) => [k, ""])))],
    ];
    for (const [what, send] of refused) {
      it(`answers Django's 400 page to ${what}, and changes nothing`, { timeout: 60_000 }, async () => {
        const before = h.sim.state().machines.map((m) => m.status);
        const reply = await send();
        assert.equal(reply.status, 400);
        assert.equal(reply.headers.get("content-type"), "text/html");
        assert.equal(reply.text, djangoPage);
        assert.deepEqual(h.sim.state().machines.map((m) => m.status), before);
      });
    }

    it("takes a multipart body of 1000 fields to MAAS's own checks", async () => {
      const reply = await h.client.post("machines/", "allocate", { id: ids(1000) }, { encoding: "libmaas-multipart" });
      assert.notEqual(reply.headers.get("content-type"), "text/html", reply.text);
    });
  });
});
