// A MaasCluster's deletion (after its MaasMachines, deleting only the DNS record it
// created; nothing at all for `clusterctl move`) and the contract's skip rules: paused,
// externally managed, not yet owned by a Cluster.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  DeleteForMoveAnnotation,
  DeletingReason,
  MAAS_CLUSTER,
  MAAS_MACHINE,
  ManagedByAnnotation,
  PausedCondition,
  ReadyCondition,
  WaitingForClusterReason,
  API_VERSION,
} from "../../../src/api/v1beta1/index.ts";
import { CAPI_CLUSTER } from "../../../src/capi/index.ts";
import {
  DOMAIN,
  condition,
  createCluster,
  createMachinePair,
  createMaasCluster,
  getMaasCluster,
  setMachineState,
  settle,
  simRecords,
  startHarness,
  uniqueName,
  waitForGone,
  waitForMaasCluster,
  waitForRecord,
  type Harness,
} from "./maascluster-support.ts";

const HOLD = "test.example.com/hold";
const provisioned = (c: { status?: { initialization?: { provisioned?: boolean } } }): boolean => c.status?.initialization?.provisioned === true;

describe("MaasCluster controller: deletion and the contract's skip rules", () => {
  let h: Harness;
  const releaseHold = (name: string) =>
    h.kube.patch(MAAS_MACHINE, { namespace: h.ns, name }, { metadata: { finalizers: null } }, { type: "merge" });

  before(async () => {
    h = await startHarness("maascluster-lifecycle");
  });
  after(async () => {
    await h?.stop();
  });

  describe("when the MaasCluster is deleted", () => {
    it("waits for the cluster's MaasMachines, then deletes the DNS resource it created and lets the object go", async () => {
      const name = uniqueName("del");
      const fqdn = `${name}.${DOMAIN}`;
      await createMaasCluster(h, await createCluster(h, name));
      await waitForMaasCluster(h, name, provisioned, "provisioned");
      await createMachinePair(h, name, `${name}-cp-0`, { controlPlane: true, finalizers: [HOLD] });
      await createMachinePair(h, name, `${name}-md-0`, { controlPlane: false, finalizers: [HOLD] });
      await setMachineState(h, `${name}-cp-0`, "Deployed", "10.20.0.30");
      await waitForRecord(h, fqdn, ["10.20.0.30"]);

      await h.kube.delete(MAAS_CLUSTER, { namespace: h.ns, name });
      const waiting = await waitForMaasCluster(h, name, (c) => condition(c, ReadyCondition)?.reason === DeletingReason, "Deleting");
      assert.match(condition(waiting, ReadyCondition)?.message ?? "", /Waiting for 2 MaasMachine/);
      await h.kube.delete(MAAS_MACHINE, { namespace: h.ns, name: `${name}-md-0` });
      await releaseHold(`${name}-md-0`);
      await waitForMaasCluster(h, name, (c) => /Waiting for 1 MaasMachine/.test(condition(c, ReadyCondition)?.message ?? ""), "one left");
      assert.deepEqual(simRecords(h).get(fqdn), ["10.20.0.30"], "the control plane keeps its name until its machines are gone");

      await h.kube.delete(MAAS_MACHINE, { namespace: h.ns, name: `${name}-cp-0` });
      await releaseHold(`${name}-cp-0`);
      await waitForGone(h, name);
      assert.equal(simRecords(h).has(fqdn), false, "the record it created is deleted");
    });

    it("deletes nothing in MAAS when clusterctl move deletes it", async () => {
      const name = uniqueName("move");
      const fqdn = `${name}.${DOMAIN}`;
      await createMaasCluster(h, await createCluster(h, name));
      await waitForMaasCluster(h, name, provisioned, "provisioned");
      await h.kube.patch(MAAS_CLUSTER, { namespace: h.ns, name }, { metadata: { annotations: { [DeleteForMoveAnnotation]: "" } } }, { type: "merge" });
      await h.kube.delete(MAAS_CLUSTER, { namespace: h.ns, name });
      await waitForGone(h, name);
      assert.deepEqual(simRecords(h).get(fqdn), [], "the record stays for the target management cluster");
    });
  });

  describe("when the Cluster is paused", () => {
    it("changes nothing, in MAAS or on delete, and says Paused until it is unpaused", async () => {
      const name = uniqueName("pause");
      const fqdn = `${name}.${DOMAIN}`;
      await createMaasCluster(h, await createCluster(h, name));
      await waitForMaasCluster(h, name, provisioned, "provisioned");
      await h.kube.patch(CAPI_CLUSTER, { namespace: h.ns, name }, { spec: { paused: true } }, { type: "merge" });
      await waitForMaasCluster(h, name, (c) => condition(c, PausedCondition)?.status === "True", "Paused");

      await createMachinePair(h, name, `${name}-cp-0`, { controlPlane: true });
      await setMachineState(h, `${name}-cp-0`, "Deployed", "10.20.0.40");
      await h.kube.delete(MAAS_CLUSTER, { namespace: h.ns, name });
      await h.kube.delete(MAAS_MACHINE, { namespace: h.ns, name: `${name}-cp-0` });
      await settle();
      assert.deepEqual(simRecords(h).get(fqdn), [], "no address written while paused");
      const held = await getMaasCluster(h, name);
      assert.ok(held?.metadata.deletionTimestamp !== undefined && held.metadata.finalizers?.length === 1, "the finalizer stays while paused");

      await h.kube.patch(CAPI_CLUSTER, { namespace: h.ns, name }, { spec: { paused: false } }, { type: "merge" });
      await waitForGone(h, name);
      assert.equal(simRecords(h).has(fqdn), false);
    });
  });

  describe("when the MaasCluster is paused by its own annotation", () => {
    it("does not start: no finalizer, no record, only the Paused condition", async () => {
      const name = uniqueName("pause-ann");
      await createMaasCluster(h, await createCluster(h, name), { annotations: { "cluster.x-k8s.io/paused": "" } });
      const paused = await waitForMaasCluster(h, name, (c) => condition(c, PausedCondition)?.status === "True", "Paused");
      assert.match(condition(paused, PausedCondition)?.message ?? "", /MaasCluster has the cluster.x-k8s.io\/paused annotation/);
      await settle();
      const still = await getMaasCluster(h, name);
      assert.equal(still?.metadata.finalizers, undefined);
      assert.equal(still?.spec.controlPlaneEndpoint, undefined);
      assert.equal(simRecords(h).has(`${name}.${DOMAIN}`), false);
    });
  });

  describe("when the MaasCluster is externally managed", () => {
    it("leaves it and MAAS untouched", async () => {
      const name = uniqueName("ext");
      await createMaasCluster(h, await createCluster(h, name), { annotations: { [ManagedByAnnotation]: "someone-else" } });
      await settle();
      const untouched = await getMaasCluster(h, name);
      assert.equal(untouched?.status, undefined);
      assert.equal(untouched?.metadata.finalizers, undefined);
      assert.equal(simRecords(h).has(`${name}.${DOMAIN}`), false);
    });
  });

  describe("when no Cluster owns the MaasCluster yet", () => {
    it("waits with Ready=False WaitingForCluster and touches nothing in MAAS", async () => {
      const name = uniqueName("orphan");
      await h.kube.create(MAAS_CLUSTER, { apiVersion: API_VERSION, kind: "MaasCluster", metadata: { name, namespace: h.ns }, spec: { dnsDomain: DOMAIN } });
      const waiting = await waitForMaasCluster(h, name, (c) => condition(c, ReadyCondition) !== undefined, "Ready");
      assert.equal(condition(waiting, ReadyCondition)?.reason, WaitingForClusterReason);
      assert.equal(condition(waiting, ReadyCondition)?.status, "False");
      assert.equal(waiting.metadata.finalizers, undefined);
      assert.equal(simRecords(h).has(`${name}.${DOMAIN}`), false);
    });
  });
});
