import { after, before, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { MaasError, MaasNetworkError, MaasTimeoutError, type MaasClient } from "../../../src/maas/index.ts";
import { AGENT, clientFor, logEntries, startTestSimulator, type Simulator } from "./sim-harness.ts";

describe("retries and timeouts against the simulator", () => {
  let sim: Simulator;
  let maas: MaasClient;

  before(async () => {
    sim = await startTestSimulator();
    maas = clientFor(sim);
  });
  after(async () => {
    maas.close();
    await sim.close();
  });
  beforeEach(async () => {
    sim.clearFaults();
    for (const machine of await maas.machines.list({ agentName: AGENT })) await maas.machines.release(machine.system_id);
    sim.clearRequestLog();
  });

  describe("when MAAS answers 503", () => {
    it("retries a GET until it succeeds", async () => {
      sim.setFaults([{ method: "GET", path: "^/machines/$", kind: "unavailable", times: 2 }]);
      assert.equal((await maas.machines.list()).length, 5);
      assert.deepEqual(logEntries(sim, "GET", /^\/machines\/$/).map((e) => e.status), [503, 503, 200]);
    });

    it("retries an allocate, honouring Retry-After, and allocates once", async () => {
      sim.setFaults([{ method: "POST", path: "^/machines/$", op: "allocate", kind: "unavailable", retryAfterSeconds: 1, times: 1 }]);
      const started = Date.now();
      const machine = await maas.machines.allocate({ tags: ["small"], agentName: AGENT });
      assert.ok(Date.now() - started >= 950, "waited the Retry-After");
      assert.deepEqual(logEntries(sim, "POST", /^\/machines\/$/, "allocate").map((e) => e.status), [503, 200]);
      assert.deepEqual((await maas.machines.list({ agentName: AGENT })).map((m) => m.system_id), [machine.system_id]);
    });

    it("gives up after maxAttempts with Unavailable", async () => {
      sim.setFaults([{ path: "^/zones/$", kind: "unavailable" }]);
      await assert.rejects(maas.zones.list(), (error: unknown) => {
        assert.ok(error instanceof MaasError);
        assert.equal(error.code, "Unavailable");
        assert.equal(error.status, 503);
        return true;
      });
      assert.equal(logEntries(sim, "GET", /^\/zones\/$/).length, 4);
    });
  });

  describe("when MAAS resets the connection", () => {
    it("retries a GET", async () => {
      sim.setFaults([{ method: "GET", path: "^/machines/[^/]+/$", kind: "reset", times: 1 }]);
      const [one] = await maas.machines.list({ hostnames: ["cp-1"] });
      assert.ok(one);
      assert.equal((await maas.machines.get(one.system_id)).hostname, "cp-1");
      assert.deepEqual(logEntries(sim, "GET", /^\/machines\/[^/]+\/$/).map((e) => e.fault), ["reset", null]);
    });

    it("does not retry an allocate, and never allocates twice", async () => {
      sim.setFaults([{ method: "POST", op: "allocate", kind: "reset", times: 1 }]);
      const error = await maas.machines.allocate({ tags: ["control-plane"], agentName: AGENT }).catch((e: unknown) => e);
      assert.ok(error instanceof MaasNetworkError);
      assert.equal(error.code, "Network");
      assert.equal(error.requestSent, true);
      assert.equal(logEntries(sim, "POST", /^\/machines\/$/, "allocate").length, 1);
      // What the reconciler does next: find before create, and allocate only if nothing is held.
      const held = await maas.machines.list({ agentName: AGENT });
      assert.ok(held.length <= 1);
      if (held.length === 0) await maas.machines.allocate({ tags: ["control-plane"], agentName: AGENT });
      assert.equal((await maas.machines.list({ agentName: AGENT })).length, 1);
    });
  });

  describe("when MAAS does not answer in time", () => {
    it("times out and retries a GET", async () => {
      sim.setFaults([{ method: "GET", path: "^/zones/$", kind: "timeout", latencyMs: 3000, times: 1 }]);
      const quick = clientFor(sim, { timeoutMs: 300 });
      try {
        const zones = await quick.zones.list();
        assert.ok(zones.length >= 2);
        assert.equal(logEntries(sim, "GET", /^\/zones\/$/).length, 2);
      } finally {
        quick.close();
      }
    });

    it("surfaces a Timeout for a deploy without retrying it", async () => {
      const machine = await maas.machines.allocate({ tags: ["small"], agentName: AGENT });
      sim.setFaults([{ method: "POST", op: "deploy", kind: "timeout", latencyMs: 3000 }]);
      const quick = clientFor(sim, { timeoutMs: 300 });
      try {
        const error = await quick.machines.deploy(machine.system_id, { distroSeries: "jammy" }).catch((e: unknown) => e);
        assert.ok(error instanceof MaasTimeoutError);
        assert.equal(error.code, "Timeout");
        assert.equal(error.requestSent, true);
        assert.equal(logEntries(sim, "POST", /^\/machines\/[^/]+\/$/, "deploy").length, 1);
      } finally {
        quick.close();
        sim.clearFaults();
      }
    });
  });
});
