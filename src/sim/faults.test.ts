import assert from "node:assert/strict";
import { after, beforeEach, describe, it } from "node:test";
import { parseFaultSpec, FaultRuleError } from "./faults.ts";
import { startHarness, type Harness } from "./test-support.ts";

/** Waits for the simulator's I/O (not for time) until `condition` holds. */
async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !condition(); i++) await new Promise((resolve) => setImmediate(resolve));
  assert.ok(condition(), "the simulator did not get there");
}

describe("fault injection", () => {
  let h: Harness;
  beforeEach(async () => {
    await h?.sim.close();
    h = await startHarness({ machines: 4 });
  });
  after(async () => {
    await h.sim.close();
  });

  const statuses = async (n: number, op = "allocate"): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await h.client.post("machines/", op, { dry_run: "true" })).status);
    return out;
  };

  describe("unavailable", () => {
    it("answers 503 text/plain with Retry-After, only as many times as allowed", async () => {
      h.sim.setFaults([{ kind: "unavailable", method: "POST", path: "^/machines/$", op: "allocate", retryAfterSeconds: 2, times: 2 }]);
      const first = await h.client.post("machines/", "allocate", {});
      assert.equal(first.status, 503);
      assert.equal(first.headers.get("retry-after"), "2");
      assert.match(first.headers.get("content-type") ?? "", /^text\/plain/);
      assert.deepEqual(await statuses(3), [503, 200, 200]);
    });

    it("changes nothing when it fires", async () => {
      h.sim.setFaults([{ kind: "unavailable", op: "allocate" }]);
      const before = h.sim.state().machines.map((m) => m.status);
      await h.client.post("machines/", "allocate", {});
      assert.deepEqual(h.sim.state().machines.map((m) => m.status), before);
      assert.equal(h.sim.requestLog().at(-1)?.fault, "unavailable");
    });

    it("matches only its method, path and op", async () => {
      h.sim.setFaults([{ kind: "unavailable", method: "GET", path: "^/zones/$" }]);
      assert.equal((await h.client.get("zones/")).status, 503);
      assert.equal((await h.client.get("machines/")).status, 200);
      assert.equal((await h.client.post("zones/", null, { name: "x1" })).status, 200);
    });
  });

  describe("under concurrent requests", () => {
    it("fires a rule exactly `times` times when requests arrive together", async () => {
      h.sim.setFaults([{ kind: "unavailable", op: "allocate", times: 3 }]);
      const replies = await Promise.all(Array.from({ length: 8 }, () => h.client.post("machines/", "allocate", { dry_run: "true" })));
      assert.equal(replies.filter((r) => r.status === 503).length, 3);
      assert.equal(replies.filter((r) => r.status === 200).length, 5);
      assert.equal(h.sim.requestLog().filter((e) => e.fault === "unavailable").length, 3);
    });

    it("counts a latency rule's `times` when the request arrives, not when it is answered", async () => {
      h.sim.setFaults([{ kind: "latency", latencyMs: 1000, op: "allocate", times: 1 }]);
      const slow = h.client.post("machines/", "allocate", { dry_run: "true" });
      await waitUntil(() => h.sim.requestLog().length === 0 && h.clock.pendingTimers > 0);
      // While the first waits on simulated time, the next one is no longer delayed.
      assert.equal((await h.client.post("machines/", "allocate", { dry_run: "true" })).status, 200);
      await h.clock.advance(1000);
      assert.equal((await slow).status, 200);
      assert.deepEqual(h.sim.requestLog().map((e) => e.fault), [null, "latency"]);
    });

    it("never allocates one machine twice when allocates arrive together", async () => {
      const replies = await Promise.all(Array.from({ length: 6 }, () => h.client.post("machines/", "allocate", {})));
      const ids = replies.filter((r) => r.status === 200).map((r) => r.json().system_id);
      assert.equal(ids.length, 4);
      assert.equal(new Set(ids).size, 4);
      assert.deepEqual(replies.filter((r) => r.status !== 200).map((r) => r.status), [409, 409]);
    });
  });

  describe("probability", () => {
    it("fires the same sequence for the same seed", async () => {
      const runs: number[][] = [];
      for (const seed of [11, 11, 12]) {
        h.sim.setFaults([{ kind: "unavailable", op: "allocate", probability: 0.5 }], seed);
        runs.push(await statuses(16));
      }
      assert.deepEqual(runs[0], runs[1]);
      assert.notDeepEqual(runs[0], runs[2]);
      assert.ok(runs[0]?.includes(503) && runs[0]?.includes(200));
    });
  });

  describe("reset", () => {
    it("drops the connection before the request reaches MAAS logic", async () => {
      h.sim.setFaults([{ kind: "reset", op: "deploy", times: 1 }]);
      const id = h.sim.state().machines[0]?.systemId ?? "";
      await assert.rejects(h.client.post(`machines/${id}/`, "deploy", {}));
      assert.equal(h.sim.state().machines[0]?.status, 4);
      assert.equal((await h.client.post(`machines/${id}/`, "deploy", {})).status, 200);
      const faulted = h.sim.requestLog().find((e) => e.fault === "reset");
      assert.equal(faulted?.status, null);
    });
  });

  describe("timeout", () => {
    it("never answers; the client gives up, nothing changes and the hold's timer goes with the connection", async () => {
      h.sim.setFaults([{ kind: "timeout", op: "allocate" }]);
      const giveUp = new AbortController();
      const pending = fetch(`${h.sim.endpoint}/api/2.0/machines/?op=allocate`, { method: "POST", signal: giveUp.signal }).then(() => "answered", () => "gave up");
      await waitUntil(() => h.sim.requestLog().some((e) => e.fault === "timeout"));
      assert.equal(h.clock.pendingTimers, 1, "the hold's timer");
      giveUp.abort();
      assert.equal(await pending, "gave up");
      await waitUntil(() => h.clock.pendingTimers === 0);
      assert.ok(h.sim.state().machines.every((m) => m.status === 4));
    });

    it("drops the connection when the hold ends", async () => {
      h.sim.setFaults([{ kind: "timeout", op: "allocate", latencyMs: 30_000 }]);
      const pending = fetch(`${h.sim.endpoint}/api/2.0/machines/?op=allocate`, { method: "POST" }).then(() => "answered", () => "dropped");
      await waitUntil(() => h.sim.requestLog().some((e) => e.fault === "timeout"));
      await h.clock.advance(30_000);
      assert.equal(await pending, "dropped");
    });
  });

  describe("closing the simulator", () => {
    it("ends held and delayed requests at once and leaves no timer behind", async () => {
      h.sim.setFaults([
        { kind: "timeout", op: "allocate" },
        { kind: "latency", latencyMs: 60_000, path: "^/zones/$" },
      ]);
      const outcome = (p: Promise<unknown>): Promise<string> => p.then(() => "answered", () => "dropped");
      const held = outcome(fetch(`${h.sim.endpoint}/api/2.0/machines/?op=allocate`, { method: "POST" }));
      const delayed = outcome(h.client.get("zones/"));
      await waitUntil(() => h.sim.requestLog().length === 1 && h.clock.pendingTimers === 2);
      await h.sim.close();
      assert.deepEqual(await Promise.all([held, delayed]), ["dropped", "dropped"]);
      assert.equal(h.clock.pendingTimers, 0);
    });
  });

  describe("latency", () => {
    it("delays the answer by simulated time, then serves normally", async () => {
      h.sim.setFaults([{ kind: "latency", latencyMs: 1_500, path: "^/zones/$" }]);
      let done = false;
      const pending = h.client.get("zones/").then((r) => {
        done = true;
        return r;
      });
      await h.clock.advance(1_000);
      assert.equal(done, false);
      await h.clock.advance(500);
      assert.equal((await pending).status, 200);
    });
  });

  describe("rule checks", () => {
    it("parses key=value and JSON specs", () => {
      assert.deepEqual(parseFaultSpec("kind=unavailable,op=allocate,times=2,retryAfterSeconds=1"), { kind: "unavailable", op: "allocate", times: 2, retryAfterSeconds: 1 });
      assert.deepEqual(parseFaultSpec("kind=reset,path=^/machines/(a|b),c/$"), { kind: "reset", path: "^/machines/(a|b),c/$" });
      assert.deepEqual(parseFaultSpec('{"kind":"timeout","latencyMs":50}'), { kind: "timeout", latencyMs: 50 });
    });

    for (const [spec, text] of [["kind=boom", /kind: write one of/], ["kind=reset,times=-1", /times: write a whole number/], ["kind=reset,probability=2", /probability/], ["kind=reset,path=(", /path: not a valid regular expression/], ["kind=reset,colour=red", /unknown field|key=value/]] as const) {
      it(`refuses ${spec} naming the problem`, () => {
        assert.throws(() => parseFaultSpec(spec), (e: unknown) => e instanceof FaultRuleError && text.test(e.message));
      });
    }
  });
});
