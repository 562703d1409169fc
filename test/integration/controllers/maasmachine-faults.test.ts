// The MaasMachine controller when things go wrong or differ per machine: the per-Machine
// ephemeral override, no machine matching, a failed deployment, and a manager killed
// between allocate and the spec write. Each asserts against the simulator's state and
// request log that nothing is held twice and nothing is left behind.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MAAS_MACHINE } from "../../../src/api/v1beta1/index.ts";
import { kindSpec } from "../../../src/api/v1beta1/index.ts";
import type { KubeObject } from "../../../src/runtime/index.ts";
import { Testbed, createNamespace, waitFor } from "./provider-harness.ts";

const POLICY = kindSpec<KubeObject>({
  group: "admissionregistration.k8s.io",
  version: "v1",
  kind: "ValidatingAdmissionPolicy",
  plural: "validatingadmissionpolicies",
  namespaced: false,
});
const POLICY_BINDING = kindSpec<KubeObject>({
  group: "admissionregistration.k8s.io",
  version: "v1",
  kind: "ValidatingAdmissionPolicyBinding",
  plural: "validatingadmissionpolicybindings",
  namespaced: false,
});

describe("MaasMachine under faults", () => {
  const bed = new Testbed({ prefix: "mm-faults" });
  before(() => bed.start());
  after(() => bed.stop());

  describe("when the owning Machine carries the ephemeral annotation", () => {
    it("deploys that one machine of a disk template into memory, and the other to disk", async () => {
      const ns = await createNamespace(bed.client, "mm-selective");
      await bed.readyCluster(ns, "c1");
      const spec = { minCPU: 4, minMemory: 16384, tags: ["control-plane"], ephemeral: false };
      await bed.machineWithData(ns, "c1", "flipped", spec, { annotations: { "maas.infrastructure.cluster.x-k8s.io/ephemeral": "true" } });
      await bed.machineWithData(ns, "c1", "plain", spec);
      const flipped = await bed.readyMaasMachine(ns, "flipped");
      const plain = await bed.readyMaasMachine(ns, "plain");
      assert.equal(flipped.status?.deploymentTarget, "memory");
      assert.equal(plain.status?.deploymentTarget, "disk");
      const deploys = bed.sim.requestLog().filter((e) => e.op === "deploy" && e.status === 200);
      const flags = (systemId: string | undefined) => deploys.findLast((e) => e.path.endsWith(`/${systemId ?? ""}/`))?.params.ephemeral_deploy;
      assert.equal(flags(flipped.spec.systemID), "true");
      assert.equal(flags(plain.spec.systemID), undefined);
      await releaseAll(ns, ["flipped", "plain"]);
    });
  });

  describe("when no MAAS machine matches the constraints", () => {
    it("says so with MAAS's text, retries with backoff, and succeeds once a machine is added", async () => {
      const ns = await createNamespace(bed.client, "mm-capacity");
      await bed.readyCluster(ns, "c2");
      await bed.machineWithData(ns, "c2", "huge", { minCPU: 64, minMemory: 4096 });
      const waiting = await bed.waitForCondition(ns, "huge", "MachineDeployed", "InsufficientCapacity");
      const message = waiting.status?.conditions?.find((c) => c.type === "MachineDeployed")?.message ?? "";
      assert.match(message, /No available machine matches constraints/);
      assert.equal(waiting.spec.systemID, undefined);
      const tries = bed.allocationsFor(ns, "huge").length;
      assert.equal(tries, 0, "no allocation succeeded");

      const added = await fetch(`${bed.sim.adminUrl}/machines`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ machines: [{ hostname: "huge-1", cpuCount: 64, memoryMiB: 262144, zone: "zone-a" }] }),
      });
      assert.equal(added.status, 201);
      const ready = await bed.readyMaasMachine(ns, "huge", 120_000);
      assert.equal(bed.sim.state().machines.find((m) => m.systemId === ready.spec.systemID)?.hostname, "huge-1");
      // Backoff, not a storm: a handful of 409s in the time it waited.
      const conflicts = bed.sim.requestLog().filter((e) => e.op === "allocate" && e.status === 409 && String(e.params.agent_name).includes(`/${ns}/huge/`));
      assert.ok(conflicts.length >= 1 && conflicts.length <= 12, `allocate was refused ${String(conflicts.length)} times`);
      await releaseAll(ns, ["huge"]);
    });
  });

  describe("when MAAS fails to deploy the machine", () => {
    it("allocates another machine before releasing the failed one, deploys it, and holds nothing else", async () => {
      const ns = await createNamespace(bed.client, "mm-failed");
      await bed.readyCluster(ns, "c3");
      const candidates = bed.sim.state().machines.filter((m) => m.owner === null && m.tags.includes("worker"));
      assert.ok(candidates.length >= 2, "two free worker machines");
      // Every free worker but one fails: whichever MAAS hands out first fails at least once.
      const failing = candidates.slice(0, -1);
      for (const m of failing) await patchMachine(m.systemId, { failDeployment: true });
      try {
        await bed.machineWithData(ns, "c3", "retry", { minCPU: 8, minMemory: 32768, tags: ["worker"] });
        const ready = await bed.readyMaasMachine(ns, "retry", 120_000);
        assert.equal(ready.spec.systemID, candidates.at(-1)?.systemId, "deployed on the machine that works");
        const held = bed.heldMachines().filter((m) => m.agentName.includes(`/${ns}/retry/`));
        assert.deepEqual(held.map((m) => m.systemId), [ready.spec.systemID], "only the deployed machine is held");
        const events = await bed.events(ns, "retry");
        assert.ok(events.some((e) => e.reason === "MachineDeployFailed" && failing.some((m) => e.note.includes(m.systemId))), "an event names the failed system ID");
      } finally {
        for (const m of failing) await patchMachine(m.systemId, { failDeployment: false });
      }
      await releaseAll(ns, ["retry"]);
    });
  });

  describe("when the manager dies between allocate and the spec write", () => {
    it("adopts the machine it allocated on restart and allocates no second one", async () => {
      const ns = await createNamespace(bed.client, "mm-crash");
      await bed.readyCluster(ns, "c4");
      // The API server refuses the system ID write, so the allocate lands in MAAS and the spec write never does.
      const policyName = `deny-systemid-${ns}`;
      await bed.client.create(POLICY, {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicy",
        metadata: { name: policyName },
        spec: {
          failurePolicy: "Fail",
          matchConstraints: { resourceRules: [{ apiGroups: ["infrastructure.cluster.x-k8s.io"], apiVersions: ["*"], operations: ["UPDATE"], resources: ["maasmachines"] }] },
          validations: [{ expression: "!has(object.spec.systemID)", message: "test: system ID writes are refused" }],
        },
      } as KubeObject);
      await bed.client.create(POLICY_BINDING, {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicyBinding",
        metadata: { name: policyName },
        spec: { policyName, validationActions: ["Deny"], matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } } } },
      } as KubeObject);
      try {
        await bed.machineWithData(ns, "c4", "crash", { minCPU: 8, minMemory: 32768, tags: ["worker"] });
        await waitFor("the allocation in MAAS", () => bed.allocationsFor(ns, "crash").length > 0, 60_000);
        await bed.provider?.kill();
      } finally {
        await bed.client.delete(POLICY_BINDING, { name: policyName });
        await bed.client.delete(POLICY, { name: policyName });
      }
      const allocatedId = bed.heldMachines().find((m) => m.agentName.includes(`/${ns}/crash/`))?.systemId;
      assert.notEqual(allocatedId, undefined);
      assert.equal((await bed.maasMachine(ns, "crash")).spec.systemID, undefined, "the spec never got the system ID");

      await bed.startManager();
      const ready = await bed.readyMaasMachine(ns, "crash", 90_000);
      assert.equal(ready.spec.systemID, allocatedId, "adopted the machine it had allocated");
      assert.equal(bed.allocationsFor(ns, "crash").length, 1, "allocated once");
      await releaseAll(ns, ["crash"]);
    });
  });

  async function patchMachine(systemId: string, body: Record<string, unknown>): Promise<void> {
    const answer = await fetch(`${bed.sim.adminUrl}/machines/${systemId}`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    assert.equal(answer.status, 200, await answer.text());
  }

  /** Deletes the MaasMachines and waits until they are gone, so later tests find their machines free. */
  async function releaseAll(namespace: string, names: readonly string[]): Promise<void> {
    for (const name of names) await bed.client.delete(MAAS_MACHINE, { namespace, name });
    await waitFor("MaasMachines gone", async () => {
      const left = await bed.client.list(MAAS_MACHINE, { namespace });
      return left.items.filter((m) => names.includes(m.metadata.name)).length === 0;
    });
    const held = bed.heldMachines().filter((m) => names.some((name) => m.agentName.includes(`/${namespace}/${name}/`)));
    assert.deepEqual(held, [], "every machine released");
  }
});
