import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { API_KEY, plaintextHeader, startHarness, type Harness } from "./test-support.ts";

describe("authentication", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ inventory: { users: [{ username: "alice", apiKey: "AC:AT:AS" }], machines: [{ systemId: "m00001" }] } });
  });
  after(async () => {
    await h.sim.close();
  });

  describe("without credentials", () => {
    it("answers 401 text/plain Forbidden on a protected resource", async () => {
      const r = await h.client.get("zones/", {}, { auth: "none" });
      assert.equal(r.status, 401);
      assert.equal(r.text, "Forbidden");
      assert.match(r.headers.get("content-type") ?? "", /^text\/plain/);
      assert.ok(r.headers.get("x-maas-api-hash"));
    });

    it("treats an incomplete OAuth header (five of six parameters) as no credentials", async () => {
      const header = plaintextHeader(API_KEY).replace(/oauth_nonce="[^"]*", /, "");
      const r = await h.client.get("machines/m00001/", {}, { auth: { header } });
      assert.equal(r.status, 401);
      assert.equal(r.text, "Forbidden");
    });

    it("hands GET machines/ to MAAS's anonymous machines handler, which has no such operation", async () => {
      const r = await h.client.get("machines/", {}, { auth: "none" });
      assert.equal(r.status, 400);
      assert.equal(r.text, "Unrecognised signature: method=GET op=None");
    });

    it("serves version/ and describe/ anonymously", async () => {
      assert.equal((await h.client.get("version/", {}, { auth: "none" })).status, 200);
      const d = await h.client.get("describe/", {}, { auth: "none" });
      assert.equal(d.status, 200);
      assert.equal(d.headers.get("content-type"), "application/json");
    });
  });

  describe("with bad credentials", () => {
    it("names an unknown token", async () => {
      const r = await h.client.get("zones/", {}, { apiKey: "CK:NOPE:TS" });
      assert.equal(r.status, 401);
      assert.equal(r.text, "Authorization Error: 'Invalid access token: NOPE'");
      assert.equal(r.headers.get("www-authenticate"), 'OAuth realm="OAuth"');
    });

    it("names an unknown consumer as an invalid API key", async () => {
      const r = await h.client.get("zones/", {}, { apiKey: "XX:TK:TS" });
      assert.equal(r.text, "Authorization Error: Invalid API key.");
    });

    it("refuses a wrong signature", async () => {
      const r = await h.client.get("zones/", {}, { apiKey: "CK:TK:wrong" });
      assert.equal(r.status, 401);
      assert.match(r.text, /^Authorization Error: 'Invalid signature\. /);
    });

    it("refuses a replayed nonce", async () => {
      const header = plaintextHeader(API_KEY, { nonce: "once-only" });
      assert.equal((await h.client.get("zones/", {}, { auth: { header } })).status, 200);
      const again = await h.client.get("zones/", {}, { auth: { header } });
      assert.equal(again.status, 401);
      assert.equal(again.text, "Authorization Error: 'Nonce already used: once-only'");
    });

    it("refuses a timestamp older than five minutes", async () => {
      const header = plaintextHeader(API_KEY, { timestamp: Math.floor(Date.now() / 1000) - 301 });
      const r = await h.client.get("zones/", {}, { auth: { header } });
      assert.equal(r.status, 401);
      assert.match(r.text, /^Authorization Error: 'Expired timestamp: given \d+ and now \d+ has a greater difference than threshold 300'$/);
    });
  });

  describe("with good credentials in any client's shape", () => {
    it("accepts header fields in any order with realm OAuth (python-libmaas)", async () => {
      const now = Math.floor(Date.now() / 1000);
      const header = `OAuth realm="OAuth", oauth_nonce="${randomUUID()}", oauth_timestamp="${now}", oauth_version="1.0", oauth_signature_method="PLAINTEXT", oauth_consumer_key="CK", oauth_token="TK", oauth_signature="%26TS"`;
      assert.equal((await h.client.get("zones/", {}, { auth: { header } })).status, 200);
    });

    it("accepts realm MAAS+API and escaped values (gomaasclient)", async () => {
      const header = `OAuth oauth_token="TK", realm="MAAS+API", oauth_signature="%26TS", oauth_consumer_key="CK", oauth_signature_method="PLAINTEXT", oauth_nonce="${randomUUID()}", oauth_timestamp="${Math.floor(Date.now() / 1000)}"`;
      assert.equal((await h.client.get("zones/", {}, { auth: { header } })).status, 200);
    });

    it("accepts OAuth parameters in the query string, as piston does", async () => {
      const query = {
        oauth_consumer_key: "CK", oauth_token: "TK", oauth_signature_method: "PLAINTEXT", oauth_signature: "&TS",
        oauth_timestamp: String(Math.floor(Date.now() / 1000)), oauth_nonce: randomUUID(),
      };
      assert.equal((await h.client.get("zones/", query, { auth: "none" })).status, 200);
    });

    it("checks HMAC-SHA1 signatures (spectrocloud maas-client-go)", async () => {
      assert.equal((await h.client.get("machines/", { hostname: "x" }, { auth: "hmac" })).status, 200);
      const r = await h.client.post("machines/", null, { op: "allocate", system_id: "m00001", dry_run: "true" }, { auth: "hmac" });
      assert.equal(r.status, 200, r.text);
    });

    it("refuses a bad HMAC-SHA1 signature", async () => {
      const r = await h.client.get("zones/", {}, { auth: "hmac", apiKey: "CK:TK:other" });
      assert.equal(r.status, 401);
    });
  });

  describe("a non-admin user", () => {
    it("gets 403 for admin-only methods", async () => {
      const r = await h.client.post("zones/", null, { name: "z9" }, { apiKey: "AC:AT:AS" });
      assert.equal(r.status, 403);
      assert.equal(r.text, "This method is reserved for admin users.");
    });

    it("cannot deploy or release a machine allocated to another user (403, empty body), which stays as it was", async () => {
      const allocated = await h.client.post("machines/", "allocate", { system_id: "m00001" });
      assert.equal(allocated.status, 200, allocated.text);
      for (const op of ["deploy", "release"]) {
        const r = await h.client.post("machines/m00001/", op, {}, { apiKey: "AC:AT:AS" });
        assert.equal(r.status, 403, op);
        assert.equal(r.text, "", op);
      }
      const machine = h.sim.state().machines.find((m) => m.systemId === "m00001");
      assert.equal(machine?.status, 10);
      assert.equal(machine?.owner, "admin");
    });

    it("gets 403 with an empty body for a machine another user owns", async () => {
      await h.client.post("machines/", "allocate", { system_id: "m00001" });
      const r = await h.client.get("machines/m00001/", {}, { apiKey: "AC:AT:AS" });
      assert.equal(r.status, 403);
      assert.equal(r.text, "");
      const list = await h.client.get("machines/", {}, { apiKey: "AC:AT:AS" });
      assert.deepEqual(list.json(), []);
    });
  });
});
