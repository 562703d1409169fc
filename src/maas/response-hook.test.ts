import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { FakeClock } from "../clock/index.ts";
import { MaasClient, type MaasClientOptions } from "./client.ts";
import type { MaasResponseEvent } from "./http.ts";
import { API_KEY, RecordingClock, json, scriptedServer, text, waitFor, type Handler, type ScriptedServer } from "./test-support.ts";

const openServers: ScriptedServer[] = [];
const openClients: MaasClient[] = [];

afterEach(async () => {
  for (const c of openClients.splice(0)) c.close();
  for (const s of openServers.splice(0)) await s.close();
});

const machine = {
  system_id: "abc123", hostname: "h", fqdn: "h.maas", status: 9, status_name: "Deploying", power_state: "on",
  cpu_count: 2, memory: 4096, zone: { name: "default" }, pool: { name: "default" }, tag_names: [], ip_addresses: [],
  osystem: "ubuntu", distro_series: "jammy", owner: "admin",
};

/** A client whose every attempt is recorded, against a scripted server. */
async function recorded(handler: Handler, options: Partial<MaasClientOptions> & { clock?: FakeClock } = {}) {
  const server = await scriptedServer(handler);
  openServers.push(server);
  const events: MaasResponseEvent[] = [];
  const maas = new MaasClient({
    endpoint: server.url,
    apiKey: API_KEY,
    clock: options.clock ?? new RecordingClock(),
    random: () => 0.5,
    onResponse: (event) => events.push(event),
    ...options,
  });
  openClients.push(maas);
  return { server, maas, events };
}

/** The event without its duration, which the test cannot know. */
function outcome(event: MaasResponseEvent | undefined): Omit<MaasResponseEvent, "durationMs"> | undefined {
  if (event === undefined) return undefined;
  const { durationMs, ...rest } = event;
  assert.ok(Number.isFinite(durationMs) && durationMs >= 0, `durationMs ${durationMs}`);
  return rest;
}

describe("the onResponse hook", () => {
  describe("when MAAS answers", () => {
    it("reports the attempt with the templated operation, the status and the duration", async () => {
      const { maas, events } = await recorded((_req, res) => json(res, 200, machine));
      await maas.machines.deploy("abc123", { distroSeries: "jammy", userData: "#cloud-config secret-token", ephemeralDeploy: true });
      assert.equal(events.length, 1);
      assert.deepEqual(outcome(events[0]), { operation: "POST machines/{system_id}/?op=deploy", method: "POST", status: 200, attempt: 1 });
    });

    it("never carries parameters, user data, the key or the machine's ID", async () => {
      const { maas, events } = await recorded((_req, res) => json(res, 200, machine));
      await maas.machines.deploy("abc123", { distroSeries: "jammy", userData: "#cloud-config secret-token" });
      const seen = JSON.stringify(events);
      const userData = Buffer.from("#cloud-config secret-token").toString("base64");
      for (const secret of ["abc123", "jammy", "secret-token", userData, ...API_KEY.split(":")]) assert.ok(!seen.includes(secret), `event leaks ${secret}`);
    });

    it("names every call that addresses one object by MAAS's URI template", async () => {
      const tag = { name: "cp", definition: "", comment: "" };
      const { maas, events } = await recorded((req, res) => {
        if (req.url.includes("/machines/")) json(res, 200, machine);
        else if (req.url.includes("op=update_nodes")) json(res, 200, { added: 1, removed: 0 });
        else if (req.url.includes("/tags/")) json(res, 200, tag);
        else if (req.url.includes("/dnsresources/")) json(res, 200, { id: 7, fqdn: "a.maas", ip_addresses: [] });
        else json(res, 200, { id: 1, name: "zone-a", description: "" });
      });
      await maas.machines.get("abc123");
      await maas.machines.update("abc123", { hostname: "h2" });
      await maas.machines.release("abc123");
      await maas.tags.get("cp");
      await maas.tags.addMachines("cp", ["abc123"]);
      await maas.dnsResources.get(7);
      await maas.zones.get("zone-a");
      await maas.resourcePools.get(3);
      await maas.domains.get(1);
      assert.deepEqual(events.map((e) => e.operation), [
        "GET machines/{system_id}/",
        "PUT machines/{system_id}/",
        "POST machines/{system_id}/?op=release",
        "GET tags/{name}/",
        "POST tags/{name}/?op=update_nodes",
        "GET dnsresources/{id}/",
        "GET zones/{name}/",
        "GET resourcepool/{id}/",
        "GET domains/{id}/",
      ]);
    });

    it("names a collection call by its path and op", async () => {
      const { maas, events } = await recorded((_req, res) => json(res, 200, machine));
      await maas.machines.allocate({ cpuCount: 2, tags: ["cp"] });
      assert.deepEqual(outcome(events[0]), { operation: "POST machines/?op=allocate", method: "POST", status: 200, attempt: 1 });
    });

    it("gives the status and error code of a refusal", async () => {
      const { maas, events } = await recorded((_req, res) => text(res, 409, "No machine available."));
      await assert.rejects(maas.machines.allocate({}), { code: "Conflict" });
      assert.deepEqual(outcome(events[0]), { operation: "POST machines/?op=allocate", method: "POST", status: 409, code: "Conflict", attempt: 1 });
    });

    it("gives the status and Unexpected for a 200 whose body is not JSON", async () => {
      const { maas, events } = await recorded((_req, res) => text(res, 200, "<html>proxy</html>"));
      await assert.rejects(maas.machines.deploy("abc123"), { code: "Unexpected" });
      assert.deepEqual(outcome(events[0]), { operation: "POST machines/{system_id}/?op=deploy", method: "POST", status: 200, code: "Unexpected", attempt: 1 });
    });
  });

  describe("when a call is retried", () => {
    it("reports each attempt, numbered", async () => {
      const clock = new RecordingClock();
      const { maas, events, server } = await recorded((_req, res, index) => {
        if (index === 0) text(res, 503, "busy", { "Retry-After": "1" });
        else json(res, 200, machine);
      }, { clock });
      const got = maas.machines.get("abc123");
      await waitFor(() => clock.sleeps.length === 1, "the backoff");
      await clock.advance(clock.sleeps[0] ?? 0);
      await got;
      assert.equal(server.requests.length, 2);
      assert.deepEqual(events.map(outcome), [
        { operation: "GET machines/{system_id}/", method: "GET", status: 503, code: "Unavailable", attempt: 1 },
        { operation: "GET machines/{system_id}/", method: "GET", status: 200, attempt: 2 },
      ]);
    });
  });

  describe("when the connection breaks", () => {
    it("gives the error code and no status", async () => {
      const { maas, events } = await recorded((_req, res) => res.socket?.destroy());
      await assert.rejects(maas.machines.deploy("abc123"), { code: "Network" });
      assert.deepEqual(outcome(events[0]), { operation: "POST machines/{system_id}/?op=deploy", method: "POST", code: "Network", attempt: 1 });
    });
  });

  describe("when the hook throws", () => {
    it("still returns MAAS's answer, so a metrics fault cannot fail or repeat a deploy", async () => {
      const { maas, server } = await recorded((_req, res) => json(res, 200, machine), {
        onResponse: () => {
          throw new Error("metrics registry broke");
        },
      });
      const deployed = await maas.machines.deploy("abc123");
      assert.equal(deployed.system_id, "abc123");
      assert.equal(server.requests.length, 1);
    });
  });
});
