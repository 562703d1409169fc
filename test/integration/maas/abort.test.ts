// Every service method takes the caller's AbortSignal as its last parameter: an
// already-aborted signal must stop each one before anything reaches MAAS, and an abort
// must end a request MAAS is holding.
import { after, before, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { MaasAbortedError, type CallOptions, type MaasClient } from "../../../src/maas/index.ts";
import { RecordingClock, clientFor, startTestSimulator, type Simulator } from "./sim-harness.ts";

type Call = (maas: MaasClient, call: CallOptions) => Promise<unknown>;

const everyMethod: Array<[string, Call]> = [
  ["version.get", (m, c) => m.version.get(c)],
  ["machines.list", (m, c) => m.machines.list({}, c)],
  ["machines.get", (m, c) => m.machines.get("abc123", c)],
  ["machines.allocate", (m, c) => m.machines.allocate({}, c)],
  ["machines.deploy", (m, c) => m.machines.deploy("abc123", {}, c)],
  ["machines.release", (m, c) => m.machines.release("abc123", {}, c)],
  ["machines.powerOn", (m, c) => m.machines.powerOn("abc123", {}, c)],
  ["machines.powerOff", (m, c) => m.machines.powerOff("abc123", {}, c)],
  ["machines.update", (m, c) => m.machines.update("abc123", { hostname: "renamed" }, c)],
  ["tags.list", (m, c) => m.tags.list(c)],
  ["tags.get", (m, c) => m.tags.get("small", c)],
  ["tags.create", (m, c) => m.tags.create({ name: "new-tag" }, c)],
  ["tags.delete", (m, c) => m.tags.delete("small", c)],
  ["tags.addMachines", (m, c) => m.tags.addMachines("small", ["abc123"], c)],
  ["tags.removeMachines", (m, c) => m.tags.removeMachines("small", ["abc123"], c)],
  ["zones.list", (m, c) => m.zones.list(c)],
  ["zones.get", (m, c) => m.zones.get("zone-a", c)],
  ["resourcePools.list", (m, c) => m.resourcePools.list(c)],
  ["resourcePools.get", (m, c) => m.resourcePools.get(0, c)],
  ["domains.list", (m, c) => m.domains.list(c)],
  ["domains.get", (m, c) => m.domains.get(0, c)],
  ["domains.create", (m, c) => m.domains.create({ name: "new.example.com" }, c)],
  ["dnsResources.list", (m, c) => m.dnsResources.list({}, c)],
  ["dnsResources.get", (m, c) => m.dnsResources.get(1, c)],
  ["dnsResources.create", (m, c) => m.dnsResources.create({ fqdn: "x.example.com", ipAddresses: ["10.20.0.60"] }, c)],
  ["dnsResources.update", (m, c) => m.dnsResources.update(1, { ipAddresses: ["10.20.0.61"] }, c)],
  ["dnsResources.delete", (m, c) => m.dnsResources.delete(1, c)],
  ["bootResources.list", (m, c) => m.bootResources.list(c)],
];

describe("cancelling calls against the simulator", () => {
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
  beforeEach(() => {
    sim.clearFaults();
    sim.clearRequestLog();
  });

  describe("when the signal is already aborted", () => {
    for (const [name, call] of everyMethod) {
      it(`${name} rejects with Aborted and sends nothing`, async () => {
        await assert.rejects(call(maas, { signal: AbortSignal.abort() }), { name: "MaasAbortedError", code: "Aborted", requestSent: false });
        assert.deepEqual(sim.requestLog(), []);
      });
    }
  });

  describe("when MAAS holds the request and the caller gives up", () => {
    it("rejects with Aborted, saying the request was sent", { timeout: 5000 }, async () => {
      sim.setFaults([{ method: "GET", path: "^/machines/$", kind: "timeout" }]);
      // On a clock that never moves, only the abort can end the call.
      const patient = clientFor(sim, { clock: new RecordingClock() });
      try {
        const controller = new AbortController();
        const pending = patient.machines.list({}, { signal: controller.signal }).catch((e: unknown) => e);
        while (!sim.requestLog().some((e) => e.fault === "timeout")) await new Promise((resolve) => setImmediate(resolve));
        controller.abort();
        const error = await pending;
        assert.ok(error instanceof MaasAbortedError);
        assert.equal(error.requestSent, true);
      } finally {
        patient.close();
      }
    });
  });
});
