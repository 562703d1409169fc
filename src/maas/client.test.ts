import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { MaasClient } from "./client.ts";
import { MaasError } from "./errors.ts";

const API_KEY = "consumerKEY1:tokenKEY22:tokenSECRET333";

describe("MaasClient", () => {
  it("keeps the key out of toString, JSON and inspect", () => {
    const maas = new MaasClient({ endpoint: "http://maas:5240/MAAS", apiKey: API_KEY });
    const views = [String(maas), JSON.stringify(maas), inspect(maas, { depth: Infinity, showHidden: true }), JSON.stringify({ nested: maas })];
    for (const view of views) assert.ok(view.includes("http://maas:5240/MAAS/api/2.0/"), view);
    const services = Object.values(maas).map((service: unknown) => inspect(service, { depth: Infinity, showHidden: true }) + JSON.stringify(service));
    for (const view of [...views, ...services]) {
      for (const part of API_KEY.split(":")) assert.ok(!view.includes(part), `${view} leaks ${part}`);
    }
  });

  it("refuses a malformed key at construction without echoing it", () => {
    assert.throws(() => new MaasClient({ endpoint: "http://maas:5240/MAAS", apiKey: "consumerKEY1:tokenSECRET333" }), (error: unknown) => {
      assert.ok(error instanceof MaasError);
      assert.equal(error.code, "InvalidConfig");
      assert.match(error.message, /three ':'-separated parts/);
      assert.ok(!error.message.includes("tokenSECRET333"));
      return true;
    });
  });

  it("refuses a non-positive timeout", () => {
    assert.throws(() => new MaasClient({ endpoint: "http://maas/MAAS", apiKey: API_KEY, timeoutMs: 0 }), { code: "InvalidConfig" });
  });

});
