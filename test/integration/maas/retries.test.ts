import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { MaasError, MaasNetworkError, MaasTimeoutError, type MaasClient, type MaasResponseEvent } from "../../../src/maas/index.ts";
import { AGENT, RecordingClock, clientFor, drive, logEntries, startTestSimulator, type Simulator } from "./sim-harness.ts";

const TIMEOUT_MS = 5000;

describe("retries and timeouts against the simulator", () => {
  let sim: Simulator;
  let setup: MaasClient;
  // A client whose backoff sleeps and request timeouts run on `clock`, moved by drive().
  let maas: MaasClient;
  let clock: RecordingClock;
  const timeouts = (): number => sim.requestLog().filter((e) => e.fault === "timeout").length;

  before(async () => {
    sim = await startTestSimulator();
    setup = clientFor(sim);
  });
  after(async () => {
    setup.close();
    await sim.close();
  });
  beforeEach(async () => {
    sim.clearFaults();
    for (const machine of await setup.machines.list({ agentName: AGENT })) await setup.machines.release(machine.system_id);
    sim.clearRequestLog();
    clock = new RecordingClock();
    maas = clientFor(sim, { clock, timeoutMs: TIMEOUT_MS, retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 2000 } });
  });
  afterEach(() => {
    maas.close();
    sim.clearFaults();
  });

  describe("reporting attempts to onResponse", () => {
    it("reports each attempt with the templated operation and how it ended", async () => {
      const events: MaasResponseEvent[] = [];
      const counted = clientFor(sim, { clock, onResponse: (event) => events.push(event) });
      try {
        const [machine] = await setup.machines.list({ hostnames: ["cp-1"] });
        assert.ok(machine);
        sim.setFaults([{ method: "GET", path: "^/machines/[^/]+/$", kind: "unavailable", times: 1 }]);
        await drive(counted.machines.get(machine.system_id), { clock });
        assert.deepEqual(events.map(({ durationMs: _durationMs, ...rest }) => rest), [
          { operation: "GET machines/{system_id}/", method: "GET", status: 503, code: "Unavailable", attempt: 1 },
          { operation: "GET machines/{system_id}/", method: "GET", status: 200, attempt: 2 },
        ]);
      } finally {
        counted.close();
      }
    });
  });

  describe("when MAAS answers 503", () => {
    it("retries a GET until it succeeds, backing off between attempts", async () => {
      sim.setFaults([{ method: "GET", path: "^/machines/$", kind: "unavailable", times: 2 }]);
      assert.equal((await drive(maas.machines.list(), { clock })).length, 5);
      assert.deepEqual(logEntries(sim, "GET", /^\/machines\/$/).map((e) => e.status), [503, 503, 200]);
      assert.equal(clock.sleeps.length, 2);
      assert.ok(clock.sleeps.every((ms, i) => ms >= 0 && ms < 100 * 2 ** i), `full-jitter delays under the cap: ${clock.sleeps.join(", ")}`);
    });

    it("retries an allocate after waiting the Retry-After, and allocates once", async () => {
      sim.setFaults([{ method: "POST", path: "^/machines/$", op: "allocate", kind: "unavailable", retryAfterSeconds: 1, times: 1 }]);
      const machine = await drive(maas.machines.allocate({ tags: ["small"], agentName: AGENT }), { clock });
      assert.deepEqual(clock.sleeps, [1000], "waited exactly the Retry-After");
      assert.deepEqual(logEntries(sim, "POST", /^\/machines\/$/, "allocate").map((e) => e.status), [503, 200]);
      assert.deepEqual((await setup.machines.list({ agentName: AGENT })).map((m) => m.system_id), [machine.system_id]);
    });

    it("gives up after maxAttempts with Unavailable", async () => {
      sim.setFaults([{ path: "^/zones/$", kind: "unavailable" }]);
      await assert.rejects(drive(maas.zones.list(), { clock }), (error: unknown) => {
        assert.ok(error instanceof MaasError);
        assert.equal(error.code, "Unavailable");
        assert.equal(error.status, 503);
        return true;
      });
      assert.equal(logEntries(sim, "GET", /^\/zones\/$/).length, 4);
      assert.equal(clock.sleeps.length, 3);
    });
  });

  describe("when MAAS resets the connection", () => {
    it("retries a GET", async () => {
      sim.setFaults([{ method: "GET", path: "^/machines/[^/]+/$", kind: "reset", times: 1 }]);
      const [one] = await setup.machines.list({ hostnames: ["cp-1"] });
      assert.ok(one);
      assert.equal((await drive(maas.machines.get(one.system_id), { clock })).hostname, "cp-1");
      assert.deepEqual(logEntries(sim, "GET", /^\/machines\/[^/]+\/$/).map((e) => e.fault), ["reset", null]);
    });

    it("does not retry an allocate, and never allocates twice", async () => {
      sim.setFaults([{ method: "POST", op: "allocate", kind: "reset", times: 1 }]);
      const error = await drive(maas.machines.allocate({ tags: ["control-plane"], agentName: AGENT }), { clock }).catch((e: unknown) => e);
      assert.ok(error instanceof MaasNetworkError);
      assert.equal(error.code, "Network");
      assert.equal(error.requestSent, true);
      assert.equal(logEntries(sim, "POST", /^\/machines\/$/, "allocate").length, 1);
      assert.deepEqual(clock.sleeps, [], "no backoff: the allocate was not tried again");
      // What the reconciler does next: find before create, and allocate only if nothing is held.
      const held = await setup.machines.list({ agentName: AGENT });
      assert.ok(held.length <= 1);
      if (held.length === 0) await setup.machines.allocate({ tags: ["control-plane"], agentName: AGENT });
      assert.equal((await setup.machines.list({ agentName: AGENT })).length, 1);
    });

    it("does not retry a deploy after a reset", async () => {
      const machine = await setup.machines.allocate({ tags: ["small"], agentName: AGENT });
      sim.setFaults([{ method: "POST", op: "deploy", kind: "reset", times: 1 }]);
      const error = await drive(maas.machines.deploy(machine.system_id, { distroSeries: "jammy" }), { clock }).catch((e: unknown) => e);
      assert.ok(error instanceof MaasNetworkError);
      assert.equal(logEntries(sim, "POST", /^\/machines\/[^/]+\/$/, "deploy").length, 1);
      assert.equal((await setup.machines.get(machine.system_id)).status_name, "Allocated");
    });
  });

  describe("when MAAS does not answer in time", () => {
    it("times out and retries a GET", async () => {
      sim.setFaults([{ method: "GET", path: "^/zones/$", kind: "timeout", times: 1 }]);
      const zones = await drive(maas.zones.list(), { clock, timeoutMs: TIMEOUT_MS, held: timeouts });
      assert.ok(zones.length >= 2);
      assert.deepEqual(logEntries(sim, "GET", /^\/zones\/$/).map((e) => e.fault), ["timeout", null]);
    });

    it("surfaces a Timeout for a deploy without retrying it", async () => {
      const machine = await setup.machines.allocate({ tags: ["small"], agentName: AGENT });
      sim.setFaults([{ method: "POST", op: "deploy", kind: "timeout" }]);
      const error = await drive(maas.machines.deploy(machine.system_id, { distroSeries: "jammy" }), {
        clock,
        timeoutMs: TIMEOUT_MS,
        held: timeouts,
      }).catch((e: unknown) => e);
      assert.ok(error instanceof MaasTimeoutError);
      assert.equal(error.code, "Timeout");
      assert.equal(error.requestSent, true);
      assert.equal(error.timeoutMs, TIMEOUT_MS);
      assert.equal(logEntries(sim, "POST", /^\/machines\/[^/]+\/$/, "deploy").length, 1);
      assert.deepEqual(clock.sleeps, []);
    });
  });
});
