import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { MaasClient, type MaasClientOptions } from "./client.ts";
import { MaasAbortedError } from "./errors.ts";
import { API_KEY, RecordingClock, json, scriptedServer, text, versionJson, waitFor, type Handler, type ScriptedServer } from "./test-support.ts";

const machine = {
  system_id: "abc123", hostname: "h", fqdn: "h.maas", status: 9, status_name: "Deploying", power_state: "on",
  cpu_count: 2, memory: 4096, zone: { name: "default" }, pool: { name: "default" }, tag_names: [], ip_addresses: [],
  osystem: "ubuntu", distro_series: "jammy", owner: "admin",
};

// Without cancellation these calls would hang on a FakeClock that never moves; the
// limit turns that into a failure.
const NO_HANG = { timeout: 5000 };

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(handler: Handler, options: Partial<MaasClientOptions> = {}): Promise<{ server: ScriptedServer; clock: RecordingClock; maas: MaasClient }> {
  const server = await scriptedServer(handler);
  const clock = new RecordingClock(Date.now());
  const maas = new MaasClient({ endpoint: server.url, apiKey: API_KEY, clock, random: () => 0.5, timeoutMs: 30_000, ...options });
  cleanups.push(() => server.close(), () => maas.close());
  return { server, clock, maas };
}

const hang: Handler = () => undefined;

describe("cancelling a MAAS call", () => {
  describe("when the signal is already aborted", () => {
    it("rejects with Aborted and makes no request at all", NO_HANG, async () => {
      const { server, clock, maas } = await setUp((_req, res) => json(res, 200, machine));
      const reason = new Error("shutting down");
      const error = await maas.machines.deploy("abc123", { distroSeries: "jammy" }, { signal: AbortSignal.abort(reason) }).catch((e: unknown) => e);
      assert.ok(error instanceof MaasAbortedError);
      assert.equal(error.code, "Aborted");
      assert.equal(error.requestSent, false);
      assert.equal(error.op, "POST machines/abc123/?op=deploy");
      assert.equal(error.cause, reason);
      assert.equal(server.connections, 0);
      assert.equal(server.requests.length, 0);
      assert.equal(clock.pendingTimers, 0);
    });
  });

  describe("when the signal aborts while MAAS has not answered", () => {
    it("rejects at once, destroys the request and leaves no timeout timer", NO_HANG, async () => {
      const { server, clock, maas } = await setUp(hang);
      const controller = new AbortController();
      const pending = maas.machines.deploy("abc123", { distroSeries: "jammy" }, { signal: controller.signal }).catch((e: unknown) => e);
      await waitFor(() => server.requests.length === 1, "the deploy to reach MAAS");
      controller.abort();
      const error = await pending;
      assert.ok(error instanceof MaasAbortedError);
      assert.equal(error.requestSent, true, "MAAS may have started the deploy");
      await waitFor(() => server.abandoned === 1, "the server to see the connection cut");
      assert.equal(clock.pendingTimers, 0);
      assert.deepEqual(clock.sleeps, []);
    });
  });

  describe("when the signal aborts during a backoff wait", () => {
    it("stops the wait, clears its timer and sends no further attempt", NO_HANG, async () => {
      const { server, clock, maas } = await setUp((_req, res) => text(res, 503, "busy"), { retry: { maxAttempts: 4, baseDelayMs: 1000, maxDelayMs: 10_000 } });
      const controller = new AbortController();
      const pending = maas.zones.list({ signal: controller.signal }).catch((e: unknown) => e);
      await waitFor(() => clock.sleeps.length === 1, "the backoff sleep");
      assert.equal(clock.pendingTimers, 1);
      controller.abort();
      const error = await pending;
      assert.ok(error instanceof MaasAbortedError);
      assert.equal(error.requestSent, false);
      assert.equal(clock.pendingTimers, 0);
      await clock.advance(60_000);
      assert.equal(server.requests.length, 1);
    });
  });

  describe("when a call with a signal settles", () => {
    it("leaves no abort listener on the signal, whether it succeeded or was retried and failed", NO_HANG, async () => {
      const { clock, maas } = await setUp((req, res, index) => (req.url.includes("zones") && index < 3 ? text(res, 503, "busy") : json(res, 200, req.url.includes("zones") ? [] : versionJson)), {
        retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 10 },
      });
      const { signal } = new AbortController();
      await maas.version.get({ signal });
      assert.equal(getEventListeners(signal, "abort").length, 0);
      const failing = maas.zones.list({ signal }).catch((e: unknown) => e);
      await waitFor(() => clock.sleeps.length === 1, "the backoff sleep");
      await clock.advance(clock.sleeps[0] ?? 0);
      assert.equal(((await failing) as { code?: string }).code, "Unavailable");
      assert.equal(getEventListeners(signal, "abort").length, 0);
    });
  });
});
