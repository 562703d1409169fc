// The sandbox's live view on its own: rows from MaasMachines, their boot phase and Node,
// the Cluster's Available condition, change-only lines when the output is not a
// terminal, an in-place redraw when it is, and lines printed above the redrawn block.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { MaasMachine } from "../../../src/api/v1beta1/index.ts";
import type { Cluster, Machine } from "../../../src/capi/index.ts";
import type { BootPhase, BootState, MachineBootStatus } from "../../../src/sim/boot/boot.ts";
import { LiveView, clusterRow, isAvailable, machineRow, type Observation } from "../../../hack/sandbox/live-view.ts";

interface MachineOptions {
  controlPlane?: boolean;
  ephemeral?: boolean;
  state?: string;
  target?: "memory" | "disk";
  systemId?: string;
  hostname?: string;
}

function maasMachine(name: string, options: MachineOptions = {}): MaasMachine {
  return {
    apiVersion: "infrastructure.cluster.x-k8s.io/v1beta1",
    kind: "MaasMachine",
    metadata: { name, namespace: "default", labels: options.controlPlane === true ? { "cluster.x-k8s.io/control-plane": "" } : {} },
    spec: {
      minCPU: 2, minMemory: 4096, image: "ubuntu/jammy",
      ...(options.ephemeral === undefined ? {} : { ephemeral: options.ephemeral }),
      ...(options.systemId === undefined ? {} : { systemID: options.systemId }),
    },
    status: {
      ...(options.state === undefined ? {} : { machineState: options.state }),
      ...(options.target === undefined ? {} : { deploymentTarget: options.target }),
      ...(options.hostname === undefined ? {} : { hostname: options.hostname }),
    },
  } as MaasMachine;
}

/** The Cluster API Machine whose infrastructure is `maasMachineName`, with a Node once `node` is given. */
function capiMachine(maasMachineName: string, node?: string): Machine {
  return {
    apiVersion: "cluster.x-k8s.io/v1beta2",
    kind: "Machine",
    metadata: { name: `m-${maasMachineName}`, namespace: "default" },
    spec: { clusterName: "sandbox", infrastructureRef: { apiGroup: "infrastructure.cluster.x-k8s.io", kind: "MaasMachine", name: maasMachineName } },
    status: node === undefined ? {} : { nodeRef: { name: node } },
  };
}

function booting(systemId: string, phase: BootPhase, extra: Partial<MachineBootStatus> = {}): MachineBootStatus {
  return { systemId, hostname: "h", address: "127.1.0.10", phase, pids: {}, bootstrapSucceeded: false, deployedAt: "", notEmulated: [], warnings: [], ...extra };
}

function cluster(available?: { status: string; reason?: string; message?: string }): Cluster {
  return {
    apiVersion: "cluster.x-k8s.io/v1beta2",
    kind: "Cluster",
    metadata: { name: "sandbox", namespace: "default" },
    status: { conditions: available === undefined ? [] : [{ type: "Available", lastTransitionTime: "2026-01-01T00:00:00Z", reason: "R", message: "", ...available }] },
  } as Cluster;
}

const seen = (observation: Partial<Observation>): Observation => ({ maasMachines: [], machines: [], cluster: undefined, boot: null, ...observation });

/** A view over an observation the test changes, writing into `out`, at a clock the test sets. */
function harness(tty: boolean) {
  let observation = seen({});
  let now = 0;
  const out: string[] = [];
  const view = new LiveView({ observe: () => Promise.resolve(observation), write: (t) => out.push(t), tty, startedAt: 0, now: () => now });
  return {
    out,
    view,
    set(next: Partial<Observation>, atMs: number) {
      observation = seen(next);
      now = atMs;
    },
  };
}

describe("the sandbox's live view", () => {
  describe("a machine's row", () => {
    const boot: BootState = {
      machines: [booting("s-init", "booting", { role: "init", step: "etcd" }), booting("s-join", "booting", { role: "worker-join" }), booting("s-done", "booted", { role: "init", step: "done" })],
      clusters: [],
    };
    const machines = [capiMachine("with-node", "maas-04"), capiMachine("no-node")];
    const cases: [string, MaasMachine, Partial<ReturnType<typeof machineRow>>][] = [
      ["before allocation: Pending, no host, the target the spec asks for", maasMachine("a", { ephemeral: true }), { role: "worker", host: "-", state: "Pending", target: "ephemeral", boot: "-", node: "-" }],
      ["a disk machine without ephemeral set", maasMachine("b", { controlPlane: true }), { role: "control-plane", target: "disk" }],
      ["MAAS's deployment target wins over the spec", maasMachine("c", { ephemeral: true, state: "Deployed", target: "disk" }), { state: "Deployed", target: "disk" }],
      ["allocated: MAAS's hostname", maasMachine("d", { state: "Deploying", systemId: "s-none", hostname: "maas-02" }), { host: "maas-02", state: "Deploying", boot: "-" }],
      ["kubeadm init at a step", maasMachine("e", { systemId: "s-init" }), { boot: "init:etcd" }],
      ["kubeadm join before its first step", maasMachine("f", { systemId: "s-join" }), { boot: "join:start" }],
      ["booted", maasMachine("g", { systemId: "s-done" }), { boot: "booted" }],
      ["its Cluster API Machine has a Node", maasMachine("with-node", { systemId: "s-done" }), { boot: "booted", node: "maas-04" }],
      ["its Cluster API Machine has no Node yet", maasMachine("no-node", { systemId: "s-done" }), { node: "-" }],
    ];
    for (const [name, machine, expected] of cases) {
      it(name, () => {
        const row = machineRow(machine, { machines, boot });
        assert.deepEqual(Object.fromEntries(Object.keys(expected).map((k) => [k, row[k as keyof typeof row]])), expected);
      });
    }
  });

  describe("the Cluster's row", () => {
    const long = `* WorkersAvailable:\n  * MachineDeployment sandbox-md-0: ${"x".repeat(200)}`;
    const cases: [string, Cluster, { available: string; waitingFor: string | RegExp }, boolean][] = [
      ["no Available condition yet", cluster(), { available: "-", waitingFor: "no Available condition yet" }, false],
      ["not Available: the message's bullets on one line", cluster({ status: "False", message: "* ControlPlaneAvailable: Control plane not yet initialized" }), { available: "False", waitingFor: "ControlPlaneAvailable: Control plane not yet initialized" }, false],
      ["a nested message, cut short", cluster({ status: "False", message: long }), { available: "False", waitingFor: /^WorkersAvailable: MachineDeployment sandbox-md-0: x+…$/ }, false],
      ["no message: the reason", cluster({ status: "Unknown", reason: "AvailableUnknown" }), { available: "Unknown", waitingFor: "AvailableUnknown" }, false],
      ["Available", cluster({ status: "True", message: "" }), { available: "True", waitingFor: "" }, true],
    ];
    for (const [name, c, expected, available] of cases) {
      it(name, () => {
        const row = clusterRow(c);
        assert.equal(row.available, expected.available);
        if (expected.waitingFor instanceof RegExp) {
          assert.match(row.waitingFor, expected.waitingFor);
          assert.ok(row.waitingFor.length <= 100, row.waitingFor);
        } else {
          assert.equal(row.waitingFor, expected.waitingFor);
        }
        assert.equal(isAvailable(c), available);
      });
    }
  });

  describe("when the output is not a terminal", () => {
    it("prints a line per machine or Cluster that changed, nothing when nothing did, and a line when a machine is gone", async () => {
      const h = harness(false);
      h.set({ maasMachines: [maasMachine("cp", { controlPlane: true, ephemeral: true }), maasMachine("w1", { ephemeral: true })], cluster: cluster({ status: "False", message: "* ControlPlaneAvailable: not yet" }) }, 1000);
      await h.view.poll();
      assert.deepEqual(h.out, [
        "machine +1.0s  cp  control-plane  -  Pending  ephemeral  -  -\n",
        "machine +1.0s  w1  worker  -  Pending  ephemeral  -  -\n",
        "cluster +1.0s  sandbox  Available=False  ControlPlaneAvailable: not yet\n",
      ]);
      await h.view.poll();
      await h.view.poll();
      assert.equal(h.out.length, 3, "unchanged machines and Cluster print nothing");
      const cp = maasMachine("cp", { controlPlane: true, ephemeral: true, state: "Deployed", target: "memory", systemId: "s1", hostname: "maas-01" });
      h.set({
        maasMachines: [cp, maasMachine("w1", { ephemeral: true })],
        machines: [capiMachine("cp", "maas-01")],
        boot: { machines: [booting("s1", "booted")], clusters: [] },
        cluster: cluster({ status: "False", message: "* ControlPlaneAvailable: not yet" }),
      }, 2500);
      await h.view.poll();
      assert.deepEqual(h.out.slice(3), ["machine +2.5s  cp  control-plane  maas-01  Deployed  ephemeral  booted  maas-01\n"]);
      h.set({ maasMachines: [cp], machines: [capiMachine("cp", "maas-01")], boot: { machines: [booting("s1", "booted")], clusters: [] }, cluster: cluster({ status: "True" }) }, 3000);
      await h.view.poll();
      assert.deepEqual(h.out.slice(4), ["machine +3.0s  w1  gone\n", "cluster +3.0s  sandbox  Available=True\n"]);
    });
  });

  describe("when the output is a terminal", () => {
    it("redraws the block in place: up over the lines drawn last time, each line cleared", async () => {
      const h = harness(true);
      h.set({ maasMachines: [maasMachine("cp", { controlPlane: true, ephemeral: true })] }, 500);
      await h.view.poll();
      const first = h.out[0] ?? "";
      assert.ok(!first.includes("\x1b[3A"), "the first draw moves nowhere");
      assert.equal(first.split("\n").length - 1, 3, "header, one machine, summary");
      h.set({
        maasMachines: [maasMachine("cp", { controlPlane: true, ephemeral: true, state: "Deployed", systemId: "s1" }), maasMachine("w1", { ephemeral: true })],
        machines: [capiMachine("cp", "maas-01")],
        boot: { machines: [booting("s1", "booted")], clusters: [] },
        cluster: cluster({ status: "False", message: "* WorkersAvailable: 0 of 1" }),
      }, 1500);
      await h.view.poll();
      const second = h.out[1] ?? "";
      assert.ok(second.startsWith("\x1b[3A"), "moves up over the 3 lines drawn before");
      assert.equal(second.split("\x1b[2K").length - 1, 5, "header, two machines, the Cluster, summary, each cleared first");
      assert.match(second, /cluster sandbox {2}Available=False {2}WorkersAvailable: 0 of 1/);
      assert.match(second, /1\/2 Deployed, 1 booted, 1 Nodes \(1\.5s\)/);
    });

    it("prints lines that stay in place of the block, and draws the block again below them", async () => {
      const h = harness(true);
      h.set({ maasMachines: [maasMachine("cp", { controlPlane: true })], cluster: cluster({ status: "True" }) }, 500);
      await h.view.poll();
      h.view.print(["Available", "use it"]);
      assert.equal(h.out[1], "\x1b[4A\x1b[JAvailable\nuse it\n", "up over header, machine, Cluster and summary, cleared to the end, then the lines");
      await h.view.poll();
      assert.ok((h.out[2] ?? "").startsWith("\x1b[2KMACHINE"), "the next draw starts below the printed lines without moving up");
    });
  });
});
