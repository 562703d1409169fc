import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { FakeClock } from "../clock/index.ts";
import { buildStoreData } from "./inventory.ts";
import { Lifecycle, type MachineObserver } from "./lifecycle.ts";
import { featuresOf, parseMaasVersion } from "./maas-version.ts";
import { MachineStatus } from "./status.ts";
import { Store } from "./store.ts";
import type { SimMachine } from "./types.ts";

/** What the boot stage would hear, as "event systemId". */
function recorder(): { observer: MachineObserver; events: string[] } {
  const events: string[] = [];
  return {
    events,
    observer: {
      deployed: (m) => events.push(`deployed ${m.systemId}`),
      stopped: (m, why) => events.push(`stopped(${why}) ${m.systemId}`),
      poweredOn: (m) => events.push(`poweredOn ${m.systemId}`),
    },
  };
}

describe("what the lifecycle tells its observer (the boot stage)", () => {
  let clock: FakeClock;
  let lifecycle: Lifecycle;
  let events: string[];
  let m: SimMachine;

  beforeEach(() => {
    clock = new FakeClock();
    const store = new Store(
      buildStoreData({ inventory: { machines: [{ systemId: "aaa111", hostname: "one" }] }, machines: 0, seed: 1, maasVersion: "3.6.0", admin: { username: "admin", consumerKey: "a", tokenKey: "b", tokenSecret: "c" } }),
    );
    const recorded = recorder();
    events = recorded.events;
    lifecycle = new Lifecycle({ store, clock, features: featuresOf(parseMaasVersion("3.6.0")), deploySeconds: 5, releaseSeconds: 2, deployFailureRate: 0, seed: 1, observer: recorded.observer });
    m = store.machine("aaa111") as SimMachine;
    m.status = MachineStatus.ALLOCATED;
    m.owner = "admin";
  });

  const deployed = async (): Promise<void> => {
    lifecycle.startDeploy(m);
    await clock.advance(5000);
    events.length = 0;
  };

  it("hears a machine reach Deployed, and not one whose deployment fails", async () => {
    lifecycle.startDeploy(m);
    assert.deepEqual(events, []);
    await clock.advance(5000);
    assert.deepEqual(events, ["deployed aaa111"]);
    m.status = MachineStatus.ALLOCATED;
    m.failDeployment = true;
    lifecycle.startDeploy(m);
    await clock.advance(5000);
    assert.equal(m.status, MachineStatus.FAILED_DEPLOYMENT);
    assert.deepEqual(events, ["deployed aaa111"]);
  });

  describe("once a machine is Deployed", () => {
    beforeEach(deployed);

    // [what happens, the call, what the observer hears]
    const cases: Array<[string, () => void, string[]]> = [
      ["a release stops what ran on it", () => lifecycle.startRelease(m, false), ["stopped(release) aaa111"]],
      ["a release with erase stops it too", () => lifecycle.startRelease(m, true), ["stopped(release) aaa111"]],
      ["a power-off stops it, once", () => (lifecycle.powerOff(m), lifecycle.powerOff(m)), ["stopped(power-off) aaa111"]],
      ["a power-on of a machine already on is nothing", () => lifecycle.powerOn(m), []],
      ["a power-on after a power-off boots it from its disk", () => (lifecycle.powerOff(m), lifecycle.powerOn(m)), ["stopped(power-off) aaa111", "poweredOn aaa111"]],
      ["a new deployment (an in-memory machine powered on) stops it first", () => lifecycle.startDeploy(m), ["stopped(redeploy) aaa111"]],
      ["deleting the machine stops it", () => lifecycle.forget(m), ["stopped(delete) aaa111"]],
    ];
    for (const [what, act, heard] of cases) {
      it(what, () => {
        act();
        assert.deepEqual(events, heard);
      });
    }
  });

  describe("while a machine is Deploying", () => {
    it("hears nothing when it is released, powered off or deleted: nothing runs on it yet", () => {
      lifecycle.startDeploy(m);
      lifecycle.powerOff(m);
      lifecycle.startRelease(m, false);
      lifecycle.forget(m);
      assert.deepEqual(events, []);
    });
  });
});
