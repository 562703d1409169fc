import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { MaasClient } from "./client.ts";
import { MaasUnexpectedResponseError } from "./errors.ts";
import { API_KEY, RecordingClock, json, scriptedServer, withoutRetry, type ScriptedServer } from "./test-support.ts";

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function clientAnswering(body: unknown): Promise<{ maas: MaasClient; server: ScriptedServer; clock: RecordingClock }> {
  const server = await scriptedServer((_req, res) => json(res, 200, body));
  const clock = new RecordingClock();
  const maas = new MaasClient({ endpoint: server.url, apiKey: API_KEY, clock, random: () => 0.5 });
  cleanups.push(() => server.close(), () => maas.close());
  return { maas, server, clock };
}

describe("checking the shape of MAAS's answers", () => {
  describe("when a 200 list has an item that does not fit the schema", () => {
    it("reports Unexpected with MAAS's status and the operation, naming the field, without retrying", async () => {
      const { maas, server, clock } = await clientAnswering([{ id: 1, name: "default" }, { id: "two", name: "zone-a" }]);
      const error = await withoutRetry(maas.zones.list(), clock);
      assert.ok(error instanceof MaasUnexpectedResponseError);
      assert.equal(error.code, "Unexpected");
      assert.equal(error.status, 200);
      assert.equal(error.op, "GET zones/");
      assert.match(error.message, /\/1\/id/);
      assert.equal(server.requests.length, 1);
    });
  });

  describe("when a 200 object for an operation lacks a field", () => {
    it("keeps the status and the op of the call", async () => {
      const { maas } = await clientAnswering({ system_id: "abc123" });
      await assert.rejects(maas.machines.deploy("abc123", { distroSeries: "jammy" }), {
        name: "MaasUnexpectedResponseError",
        status: 200,
        op: "POST machines/abc123/?op=deploy",
      });
    });
  });
});
