// The sandbox's live view on its own: rows from MaasMachines, change-only lines when the
// output is not a terminal, an in-place redraw when it is.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { MaasMachine } from "../../../src/api/v1beta1/index.ts";
import { LiveView, machineRow } from "../../../hack/sandbox/live-view.ts";

function maasMachine(name: string, options: { controlPlane?: boolean; ephemeral?: boolean; state?: string; target?: "memory" | "disk"; ready?: boolean } = {}): MaasMachine {
  return {
    apiVersion: "infrastructure.cluster.x-k8s.io/v1beta1",
    kind: "MaasMachine",
    metadata: { name, namespace: "default", labels: options.controlPlane === true ? { "cluster.x-k8s.io/control-plane": "" } : {} },
    spec: { minCPU: 2, minMemory: 4096, image: "ubuntu/jammy", ...(options.ephemeral === undefined ? {} : { ephemeral: options.ephemeral }) },
    status: {
      ...(options.state === undefined ? {} : { machineState: options.state }),
      ...(options.target === undefined ? {} : { deploymentTarget: options.target }),
      conditions: [{ type: "Ready", status: options.ready === true ? "True" : "False", reason: "R", message: "", lastTransitionTime: "2026-01-01T00:00:00Z" }],
    },
  } as MaasMachine;
}

/** A view over a list the test changes, writing into `out`, at a clock the test sets. */
function harness(tty: boolean) {
  let machines: MaasMachine[] = [];
  let now = 0;
  const out: string[] = [];
  const view = new LiveView({ list: () => Promise.resolve(machines), write: (t) => out.push(t), tty, startedAt: 0, now: () => now });
  return {
    out,
    view,
    set(next: MaasMachine[], atMs: number) {
      machines = next;
      now = atMs;
    },
  };
}

describe("the sandbox's live view", () => {
  describe("a machine's row", () => {
    const cases: [string, MaasMachine, { role: string; state: string; target: string; ready: boolean }][] = [
      ["before allocation: Pending, the target the spec asks for", maasMachine("a", { ephemeral: true }), { role: "worker", state: "Pending", target: "ephemeral", ready: false }],
      ["a disk machine without ephemeral set", maasMachine("b", { controlPlane: true }), { role: "control-plane", state: "Pending", target: "disk", ready: false }],
      ["MAAS's deployment target wins over the spec", maasMachine("c", { ephemeral: true, state: "Deployed", target: "disk", ready: true }), { role: "worker", state: "Deployed", target: "disk", ready: true }],
      ["deployed into memory and Ready", maasMachine("d", { controlPlane: true, state: "Deployed", target: "memory", ready: true }), { role: "control-plane", state: "Deployed", target: "ephemeral", ready: true }],
    ];
    for (const [name, machine, expected] of cases) {
      it(name, () => {
        const { role, state, target, ready } = machineRow(machine);
        assert.deepEqual({ role, state, target, ready }, expected);
      });
    }
  });

  describe("when the output is not a terminal", () => {
    it("prints a line per machine that changed, nothing when nothing did, and a line when one is gone", async () => {
      const h = harness(false);
      h.set([maasMachine("cp", { controlPlane: true, ephemeral: true }), maasMachine("w1", { ephemeral: true })], 1000);
      await h.view.poll();
      assert.equal(h.out.length, 2);
      assert.match(h.out[0] ?? "", /^machine \+1\.0s {2}cp {2}control-plane {2}Pending {2}ephemeral {2}-\n$/);
      await h.view.poll();
      await h.view.poll();
      assert.equal(h.out.length, 2, "unchanged machines print nothing");
      h.set([maasMachine("cp", { controlPlane: true, ephemeral: true, state: "Deployed", target: "memory", ready: true }), maasMachine("w1", { ephemeral: true })], 2500);
      await h.view.poll();
      assert.deepEqual(h.out.slice(2), ["machine +2.5s  cp  control-plane  Deployed  ephemeral  ready\n"]);
      h.set([maasMachine("cp", { controlPlane: true, ephemeral: true, state: "Deployed", target: "memory", ready: true })], 3000);
      await h.view.poll();
      assert.deepEqual(h.out.slice(3), ["machine +3.0s  w1  gone\n"]);
    });
  });

  describe("when the output is a terminal", () => {
    it("redraws the block in place: up over the lines drawn last time, each line cleared", async () => {
      const h = harness(true);
      h.set([maasMachine("cp", { controlPlane: true, ephemeral: true })], 500);
      await h.view.poll();
      const first = h.out[0] ?? "";
      assert.ok(!first.includes("\x1b[3A"), "the first draw moves nowhere");
      assert.equal(first.split("\n").length - 1, 3, "header, one machine, summary");
      h.set([maasMachine("cp", { controlPlane: true, ephemeral: true, state: "Deploying" }), maasMachine("w1", { ephemeral: true })], 1500);
      await h.view.poll();
      const second = h.out[1] ?? "";
      assert.ok(second.startsWith("\x1b[3A"), "moves up over the 3 lines drawn before");
      assert.equal(second.split("\x1b[2K").length - 1, 4, "header, two machines, summary, each cleared first");
      assert.match(second, /0\/2 Deployed, 0 ready \(1\.5s\)/);
    });
  });
});
