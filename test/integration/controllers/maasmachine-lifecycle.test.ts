// A MaasMachine after it is deployed: deletion (release, erase policy, pause,
// clusterctl move), a machine that leaves Deployed behind our back, a spec edit after
// allocation, and the memory warning for machines deployed into memory.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MAAS_MACHINE } from "../../../src/api/v1beta1/index.ts";
import { CAPI_CLUSTER, CAPI_MACHINE } from "../../../src/capi/index.ts";
import { MaasClient } from "../../../src/maas/index.ts";
import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { auditLogPathIn } from "../../testenv/control-plane.ts";
import { MANAGER_USER } from "../../testenv/manager-identity.ts";
import { Testbed, createNamespace, waitFor } from "./provider-harness.ts";

describe("MaasMachine once deployed", () => {
  const bed = new Testbed({ prefix: "mm-life", managerArgs: ["--ephemeral-min-memory=20Gi", "--maas-watch-interval=2s"] });
  before(() => bed.start());
  after(() => bed.stop());

  // Machines are reused from test to test, so calls are counted from a mark in the log.
  const mark = (): number => bed.sim.requestLog().at(-1)?.seq ?? 0;
  const calls = (op: string, systemId: string, since: number) =>
    bed.sim.requestLog().filter((e) => e.seq > since && e.op === op && e.status === 200 && e.path.endsWith(`/machines/${systemId}/`));
  const simMachine = (systemId: string | undefined) => bed.sim.state().machines.find((m) => m.systemId === systemId);

  async function deployed(ns: string, cluster: string, name: string, spec: Parameters<Testbed["machineWithData"]>[3]) {
    await bed.machineWithData(ns, cluster, name, spec);
    return bed.readyMaasMachine(ns, name);
  }

  /** The manager's requests on one MaasMachine, from the control plane's audit log: "verb[/subresource] code". */
  async function managerRequestsOn(ns: string, name: string): Promise<string[]> {
    const log = await readFile(auditLogPathIn(dirname(bed.env.kubeconfigPath)), "utf8");
    const requests: string[] = [];
    for (const line of log.split("\n")) {
      if (!line.includes(MANAGER_USER) || !line.includes(name)) continue;
      const e = JSON.parse(line) as { verb?: string; user?: { username?: string }; objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string }; responseStatus?: { code?: number } };
      if (e.user?.username !== MANAGER_USER || e.objectRef?.resource !== "maasmachines" || e.objectRef.namespace !== ns || e.objectRef.name !== name) continue;
      requests.push(`${e.verb ?? ""}${e.objectRef.subresource === undefined ? "" : `/${e.objectRef.subresource}`} ${String(e.responseStatus?.code ?? "")}`);
    }
    return requests;
  }

  async function gone(ns: string, name: string): Promise<void> {
    await waitFor(`MaasMachine ${name} gone`, async () => {
      const left = await bed.client.list(MAAS_MACHINE, { namespace: ns });
      return !left.items.some((m) => m.metadata.name === name);
    });
  }

  describe("when the Machine is deleted", () => {
    it("releases a disk machine with the erase its releasePolicy asks for, and the MaasMachine goes", async () => {
      const ns = await createNamespace(bed.client, "mm-delete");
      await bed.readyCluster(ns, "c1");
      const m = await deployed(ns, "c1", "disk", { minCPU: 8, minMemory: 32768, tags: ["worker"], releasePolicy: "quick-erase" });
      const start = mark();
      const before = (await managerRequestsOn(ns, "disk")).length;
      await bed.client.delete(CAPI_MACHINE, { namespace: ns, name: "disk" });
      await gone(ns, "disk");
      // The deletion and the state after our last write come from the cache: no re-read.
      const whileDeleting = (await managerRequestsOn(ns, "disk")).slice(before);
      assert.deepEqual(whileDeleting.filter((r) => r.startsWith("get")), [], `the manager read the MaasMachine while deleting it; its requests: ${whileDeleting.join(", ")}`);
      const releases = calls("release", m.spec.systemID ?? "", start);
      assert.equal(releases.length, 1);
      assert.equal(releases[0]?.params.erase, "true");
      assert.equal(releases[0]?.params.quick_erase, "true");
      await waitFor("the machine back in the pool", () => simMachine(m.spec.systemID)?.owner === null);
    });

    it("never erases a machine deployed into memory, whatever its releasePolicy", async () => {
      const ns = await createNamespace(bed.client, "mm-delete-mem");
      await bed.readyCluster(ns, "c2");
      const m = await deployed(ns, "c2", "mem", { minCPU: 8, minMemory: 32768, tags: ["worker"], ephemeral: true, releasePolicy: "secure-erase" });
      const start = mark();
      await bed.client.delete(CAPI_MACHINE, { namespace: ns, name: "mem" });
      await gone(ns, "mem");
      const releases = calls("release", m.spec.systemID ?? "", start);
      // Exactly once: a pass that acted on the cache's copy from before the object went would release it again.
      assert.equal(releases.length, 1);
      assert.equal(releases[0]?.params.erase, undefined);
      assert.equal(releases[0]?.params.secure_erase, undefined);
    });
  });

  describe("when the Cluster is paused", () => {
    it("touches nothing, deletion included, until it is unpaused", async () => {
      const ns = await createNamespace(bed.client, "mm-paused");
      await bed.readyCluster(ns, "c3");
      const m = await deployed(ns, "c3", "held", { minCPU: 4, minMemory: 16384, tags: ["control-plane"] });
      await bed.client.patch(CAPI_CLUSTER, { namespace: ns, name: "c3" }, { spec: { paused: true } });
      await bed.waitForCondition(ns, "held", "Paused", "True");
      const start = mark();
      await bed.client.delete(MAAS_MACHINE, { namespace: ns, name: "held" });
      await new Promise((resolve) => setTimeout(resolve, 2000));
      assert.equal(calls("release", m.spec.systemID ?? "", start).length, 0, "nothing released while paused");
      assert.equal(simMachine(m.spec.systemID)?.status, 6, "still Deployed in MAAS");
      assert.ok((await bed.maasMachine(ns, "held")).metadata.finalizers?.length, "finalizer kept");

      await bed.client.patch(CAPI_CLUSTER, { namespace: ns, name: "c3" }, { spec: { paused: false } });
      await gone(ns, "held");
      assert.equal(calls("release", m.spec.systemID ?? "", start).length, 1);
      await waitFor("the machine back in the pool", () => simMachine(m.spec.systemID)?.owner === null);
    });
  });

  describe("when clusterctl move deletes the MaasMachine", () => {
    it("lets it go without releasing the MAAS machine", async () => {
      const ns = await createNamespace(bed.client, "mm-move");
      await bed.readyCluster(ns, "c4");
      const m = await deployed(ns, "c4", "moved", { minCPU: 4, minMemory: 16384, tags: ["control-plane"] });
      const start = mark();
      await bed.client.patch(MAAS_MACHINE, { namespace: ns, name: "moved" }, { metadata: { annotations: { "clusterctl.cluster.x-k8s.io/delete-for-move": "" } } });
      await bed.client.delete(MAAS_MACHINE, { namespace: ns, name: "moved" });
      await gone(ns, "moved");
      assert.equal(calls("release", m.spec.systemID ?? "", start).length, 0);
      assert.notEqual(simMachine(m.spec.systemID)?.owner, null, "still held in MAAS for the target cluster");
      // This test's machine is still held; give it back so later tests find it free.
      await new MaasClient({ endpoint: bed.sim.endpoint, apiKey: bed.sim.apiKey }).machines.release(m.spec.systemID ?? "");
      await waitFor("the machine back in the pool", () => simMachine(m.spec.systemID)?.owner === null);
    });
  });

  describe("when the MAAS machine is released behind our back", () => {
    it("reports it lost with an event and never redeploys it", async () => {
      const ns = await createNamespace(bed.client, "mm-lost");
      await bed.readyCluster(ns, "c5");
      const m = await deployed(ns, "c5", "lost", { minCPU: 4, minMemory: 16384, tags: ["control-plane"] });
      const systemId = m.spec.systemID ?? "";
      const start = mark();
      await new MaasClient({ endpoint: bed.sim.endpoint, apiKey: bed.sim.apiKey }).machines.release(systemId);
      const lost = await bed.waitForCondition(ns, "lost", "MachineDeployed", "MachineLost");
      assert.equal(lost.status?.initialization?.provisioned, true, "provisioned never flips back");
      assert.equal(lost.spec.systemID, systemId);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal(calls("deploy", systemId, start).length, 0, "never deployed again");
      assert.equal(bed.allocationsFor(ns, "lost").length, 1, "no new allocation");
      await bed.client.delete(MAAS_MACHINE, { namespace: ns, name: "lost" });
      await gone(ns, "lost");
      await waitFor("the machine back in the pool", () => simMachine(systemId)?.owner === null);
    });
  });

  describe("when a machine deployed into memory is powered off and on again", () => {
    it("says it is off while it is, then Ready again with a warning that it booted afresh", async () => {
      const ns = await createNamespace(bed.client, "mm-cycle");
      await bed.readyCluster(ns, "c9");
      const m = await deployed(ns, "c9", "cycled", { minCPU: 8, minMemory: 32768, tags: ["worker"], ephemeral: true });
      const systemId = m.spec.systemID ?? "";
      const start = mark();
      const maas = new MaasClient({ endpoint: bed.sim.endpoint, apiKey: bed.sim.apiKey });
      await maas.machines.powerOff(systemId);
      const off = await bed.waitForCondition(ns, "cycled", "MachineDeployed", "MachinePoweredOff");
      assert.match(off.status?.conditions?.find((c) => c.type === "MachineDeployed")?.message ?? "", /runs from memory/);
      assert.equal(off.status?.conditions?.find((c) => c.type === "Ready")?.status, "False");
      assert.equal(off.status?.initialization?.provisioned, true, "provisioned never flips back");
      await maas.machines.powerOn(systemId);
      await bed.waitForCondition(ns, "cycled", "Ready", "True");
      const events = await bed.events(ns, "cycled");
      assert.ok(events.some((e) => e.type === "Warning" && e.reason === "MachineRedeployed" && e.note.includes(systemId)), JSON.stringify(events));
      assert.equal(calls("deploy", systemId, start).length, 0, "not deployed again by us");
      await bed.client.delete(MAAS_MACHINE, { namespace: ns, name: "cycled" });
      await gone(ns, "cycled");
    });
  });

  describe("when MAAS no longer has the machine", () => {
    it("reports it not found with an event, replaces nothing, and its deletion is not blocked", async () => {
      const ns = await createNamespace(bed.client, "mm-gone");
      await bed.readyCluster(ns, "c8");
      const m = await deployed(ns, "c8", "gone", { minCPU: 4, minMemory: 16384, tags: ["control-plane"] });
      const systemId = m.spec.systemID ?? "";
      const start = mark();
      const maas = new MaasClient({ endpoint: bed.sim.endpoint, apiKey: bed.sim.apiKey });
      const machine = await maas.machines.get(systemId);
      await maas.machines.delete(systemId);
      const missing = await bed.waitForCondition(ns, "gone", "MachineDeployed", "MachineNotFound");
      assert.equal(missing.spec.systemID, systemId, "still names the machine it had");
      assert.equal(bed.sim.requestLog().filter((e) => e.seq > start && e.op === "allocate").length, 0, "no replacement allocated");
      await bed.client.delete(MAAS_MACHINE, { namespace: ns, name: "gone" });
      await gone(ns, "gone");
      // Give the machine back to the pool for the tests after this one.
      await fetch(`${bed.sim.adminUrl}/machines`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ machines: [{ hostname: machine.hostname, cpuCount: machine.cpu_count, memoryMiB: machine.memory, zone: machine.zone.name, pool: "capi", tags: machine.tag_names }] }),
      });
    });
  });

  describe("when a field fixed at allocation is edited", () => {
    it("reports the change in SpecUpToDate and keeps the machine as allocated", async () => {
      const ns = await createNamespace(bed.client, "mm-immutable");
      await bed.readyCluster(ns, "c6");
      const m = await deployed(ns, "c6", "fixed", { minCPU: 4, minMemory: 16384, tags: ["control-plane"] });
      await bed.client.patch(MAAS_MACHINE, { namespace: ns, name: "fixed" }, { spec: { image: "ubuntu/noble" } });
      const changed = await bed.waitForCondition(ns, "fixed", "SpecUpToDate", "ImmutableFieldChanged");
      const message = changed.status?.conditions?.find((c) => c.type === "SpecUpToDate")?.message ?? "";
      assert.match(message, /image: ubuntu\/noble \(allocated with ubuntu\/jammy\)/);
      assert.equal(changed.spec.systemID, m.spec.systemID);
      assert.equal(changed.status?.conditions?.find((c) => c.type === "Ready")?.status, "True");
      await bed.client.delete(MAAS_MACHINE, { namespace: ns, name: "fixed" });
      await gone(ns, "fixed");
    });
  });

  describe("when a machine deployed into memory has less memory than --ephemeral-min-memory", () => {
    it("warns with both numbers and deploys anyway", async () => {
      const ns = await createNamespace(bed.client, "mm-memory");
      await bed.readyCluster(ns, "c7");
      const m = await deployed(ns, "c7", "small", { minCPU: 4, minMemory: 8192, tags: ["control-plane"], ephemeral: true });
      const condition = m.status?.conditions?.find((c) => c.type === "EphemeralMemorySufficient");
      assert.equal(condition?.status, "False");
      assert.match(condition?.message ?? "", /16384 MiB/);
      assert.match(condition?.message ?? "", /20480 MiB/);
      assert.equal(m.status?.deploymentTarget, "memory");
      await bed.client.delete(MAAS_MACHINE, { namespace: ns, name: "small" });
      await gone(ns, "small");
    });
  });
});
