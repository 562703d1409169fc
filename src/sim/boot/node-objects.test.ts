import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubeObject } from "./kube-api.ts";
import { backToReady, kubeletNode, nodeTaints, withoutConditionTaints, withUnknownStatus, withUnreachableTaints, type NodeFacts } from "./node-objects.ts";

const T0 = new Date("2026-12-07T10:00:00.123Z");
const T1 = new Date("2026-12-07T10:05:00.456Z");

const facts = (over: Partial<NodeFacts> = {}): NodeFacts => ({
  nodeName: "brave-otter",
  address: "127.10.0.12",
  hostname: "brave-otter",
  architecture: "arm64/generic",
  kubeletVersion: "v1.34.2",
  osImage: "ubuntu/jammy",
  cpuCount: 4,
  memoryMiB: 8192,
  controlPlane: false,
  taints: [],
  kubeletExtraArgs: [],
  bootId: "b00t",
  now: T0,
  ...over,
});

type Condition = { type: string; status: string; reason: string; lastTransitionTime: string };
const conditionsOf = (node: KubeObject): Condition[] => (node.status as { conditions: Condition[] }).conditions;
const taintKeys = (node: KubeObject): string[] => ((node.spec as { taints?: Array<{ key: string; effect: string }> }).taints ?? []).map((t) => `${t.key}:${t.effect}`);

describe("the Node a booted machine registers", () => {
  describe("the taints it registers with", () => {
    // [role, nodeRegistration.taints, expected]
    const cases: Array<[Parameters<typeof nodeTaints>[0], Parameters<typeof nodeTaints>[1], string[]]> = [
      ["init", undefined, ["node-role.kubernetes.io/control-plane:NoSchedule"]],
      ["control-plane-join", undefined, ["node-role.kubernetes.io/control-plane:NoSchedule"]],
      ["init", [], []],
      ["worker-join", undefined, []],
      ["worker-join", [{ key: "node.cluster.x-k8s.io/uninitialized", value: "", effect: "NoSchedule" }], ["node.cluster.x-k8s.io/uninitialized:NoSchedule"]],
    ];
    for (const [role, taints, expected] of cases) {
      it(`${role} with taints ${taints === undefined ? "absent" : JSON.stringify(taints.map((t) => t.key))}: ${JSON.stringify(expected)}`, () => {
        assert.deepEqual(nodeTaints(role, taints).map((t) => `${t.key}:${t.effect}`), expected);
      });
    }
  });

  it("carries the kubelet's labels, --node-labels, the provider ID from kubeletExtraArgs, and the architecture MAAS reports", () => {
    const node = kubeletNode(facts({ kubeletExtraArgs: [{ name: "node-labels", value: "pool=a, tier=gold" }, { name: "provider-id", value: "maas:///zone/abc" }] }));
    const labels = node.metadata?.labels as Record<string, string>;
    assert.equal(labels["kubernetes.io/hostname"], "brave-otter");
    assert.equal(labels["kubernetes.io/arch"], "arm64");
    assert.equal(labels.pool, "a");
    assert.equal(labels.tier, "gold");
    assert.equal(labels["node-role.kubernetes.io/control-plane"], undefined);
    assert.equal((node.spec as { providerID?: string }).providerID, "maas:///zone/abc");
  });

  it("marks a control-plane node with kubeadm's two labels", () => {
    const labels = kubeletNode(facts({ controlPlane: true })).metadata?.labels as Record<string, string>;
    assert.equal(labels["node-role.kubernetes.io/control-plane"], "");
    assert.equal(labels["node.kubernetes.io/exclude-from-external-load-balancers"], "");
  });

  it("once Ready, loses the not-ready taint the admission plugin added and unreachable ones an old Node of its name had, and no other", () => {
    const node = {
      spec: {
        taints: [
          { key: "node.kubernetes.io/not-ready", effect: "NoSchedule" },
          { key: "node.kubernetes.io/unreachable", effect: "NoExecute" },
          { key: "node.kubernetes.io/unreachable", effect: "NoSchedule" },
          { key: "a", effect: "NoSchedule" },
        ],
      },
    };
    assert.deepEqual(taintKeys(withoutConditionTaints(node)), ["a:NoSchedule"]);
  });
});

describe("when the kubelet goes quiet (the node-lifecycle controller's writes)", () => {
  const healthy = kubeletNode(facts());

  it("turns the four conditions Unknown with NodeStatusUnknown, transitioned now", () => {
    const node = withUnknownStatus(healthy, T1);
    assert.deepEqual(
      conditionsOf(node).map((c) => [c.type, c.status, c.reason, c.lastTransitionTime]),
      ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"].map((type) => [type, "Unknown", "NodeStatusUnknown", "2026-12-07T10:05:00Z"]),
    );
  });

  it("leaves a condition already Unknown as it was, and adds a missing one as never updated", () => {
    const onlyReady = { status: { conditions: [{ type: "Ready", status: "Unknown", reason: "NodeStatusUnknown", lastTransitionTime: "2026-12-07T09:00:00Z" }] } };
    const node = withUnknownStatus(onlyReady, T1);
    assert.deepEqual(conditionsOf(node).find((c) => c.type === "Ready")?.lastTransitionTime, "2026-12-07T09:00:00Z");
    assert.deepEqual(conditionsOf(node).find((c) => c.type === "PIDPressure")?.reason, "NodeStatusNeverUpdated");
  });

  it("swaps a not-ready taint for the unreachable NoSchedule and NoExecute ones, the latter stamped", () => {
    const node = withUnreachableTaints({ spec: { taints: [{ key: "node.kubernetes.io/not-ready", effect: "NoExecute" }, { key: "keep", effect: "NoSchedule" }] } }, T1);
    assert.deepEqual(taintKeys(node), ["keep:NoSchedule", "node.kubernetes.io/unreachable:NoSchedule", "node.kubernetes.io/unreachable:NoExecute"]);
    assert.equal((node.spec as { taints: Array<{ timeAdded?: string }> }).taints[2]?.timeAdded, "2026-12-07T10:05:00Z");
  });

  it("back on, is healthy again from now, keeps what did not change, and loses the unreachable taints", () => {
    const quiet = withUnreachableTaints(withUnknownStatus(healthy, T1), T1);
    const later = new Date("2026-12-07T10:09:00Z");
    const node = backToReady(quiet, later);
    assert.deepEqual(conditionsOf(node).map((c) => [c.type, c.status, c.lastTransitionTime]), [
      ["MemoryPressure", "False", "2026-12-07T10:09:00Z"],
      ["DiskPressure", "False", "2026-12-07T10:09:00Z"],
      ["PIDPressure", "False", "2026-12-07T10:09:00Z"],
      ["Ready", "True", "2026-12-07T10:09:00Z"],
    ]);
    assert.deepEqual(taintKeys(node), []);
    assert.deepEqual(conditionsOf(backToReady(healthy, later)).map((c) => c.lastTransitionTime), Array(4).fill("2026-12-07T10:00:00Z"));
  });
});
