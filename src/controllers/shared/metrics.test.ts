import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import type { MaasMachine } from "../../api/v1beta1/index.ts";
import { createProviderMetrics } from "./metrics.ts";

function maasMachine(name: string, spec: Partial<MaasMachine["spec"]>, status?: MaasMachine["status"]): MaasMachine {
  return {
    apiVersion: "infrastructure.cluster.x-k8s.io/v1beta1",
    kind: "MaasMachine",
    metadata: { name, namespace: "ns" },
    spec: { minCPU: 2, minMemory: 4096, image: "ubuntu/jammy", ...spec },
    ...(status === undefined ? {} : { status }),
  };
}

describe("capmaas_machines", () => {
  it("counts the MaasMachines the source visits by deployment target and MAAS state, afresh on each scrape", async () => {
    const registry = new Registry();
    const metrics = createProviderMetrics(registry);
    let objects = [
      maasMachine("a", { ephemeral: true }, { deploymentTarget: "memory", machineState: "Deployed" }),
      maasMachine("b", { ephemeral: true }, { deploymentTarget: "memory", machineState: "Deployed" }),
      maasMachine("c", { ephemeral: false }),
    ];
    metrics.countMachinesFrom((visit) => objects.forEach((o) => visit(o)));
    const values = async () =>
      Object.fromEntries((await metrics.machines.get()).values.map((v) => [`${String(v.labels.deployment_target)}/${String(v.labels.state)}`, v.value]));
    assert.deepEqual(await values(), { "memory/Deployed": 2, "disk/Pending": 1 });
    objects = [maasMachine("c", { ephemeral: false }, { deploymentTarget: "disk", machineState: "Deploying" })];
    assert.deepEqual(await values(), { "disk/Deploying": 1 });
  });
});
