// The control-plane DNS record's addresses follow the cluster's control-plane
// MaasMachines as MAAS reports them Deployed and as they go, and are never emptied
// while a control-plane machine exists. The tests write MaasMachine status the way the
// MaasMachine controller would (it does not run here).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  DNSResourceReadyCondition,
  MAAS_MACHINE,
  MachineControlPlaneLabel,
  WaitingForControlPlaneAddressesReason,
} from "../../../src/api/v1beta1/index.ts";
import { CAPI_MACHINE } from "../../../src/capi/index.ts";
import {
  DOMAIN,
  condition,
  createCluster,
  createMachinePair,
  createMaasCluster,
  dnsWrites,
  setMachineState,
  settle,
  simRecords,
  startHarness,
  waitForMaasCluster,
  waitForRecord,
  type Harness,
} from "./maascluster-support.ts";

const HOLD = "test.example.com/hold";

describe("MaasCluster controller: the DNS record follows the control-plane machines", () => {
  let h: Harness;
  const cluster = "addr";
  const fqdn = `${cluster}.${DOMAIN}`;
  const dnsReady = () => waitForMaasCluster(h, cluster, (c) => condition(c, DNSResourceReadyCondition) !== undefined, "DNSResourceReady");

  before(async () => {
    h = await startHarness("maascluster-addresses");
    await createMaasCluster(h, await createCluster(h, cluster));
    await waitForMaasCluster(h, cluster, (c) => c.status?.initialization?.provisioned === true, "provisioned");
    await createMachinePair(h, cluster, "cp-0", { controlPlane: true });
    await createMachinePair(h, cluster, "cp-1", { controlPlane: true, finalizers: [HOLD] });
    await createMachinePair(h, cluster, "worker-0", { controlPlane: false });
  });
  after(async () => {
    await h?.kube.patch(MAAS_MACHINE, { namespace: h.ns, name: "cp-1" }, { metadata: { finalizers: null } }, { type: "merge" }).catch(() => undefined);
    await h?.stop();
  });

  describe("while no control-plane machine is Deployed", () => {
    it("holds no address and says it waits for one", async () => {
      await setMachineState(h, "cp-0", "Deploying", "10.20.0.10");
      const waiting = await waitForMaasCluster(
        h,
        cluster,
        (c) => condition(c, DNSResourceReadyCondition)?.reason === WaitingForControlPlaneAddressesReason,
        "waiting for control-plane addresses",
      );
      assert.equal(condition(waiting, DNSResourceReadyCondition)?.status, "False");
      assert.deepEqual(simRecords(h).get(fqdn), []);
    });
  });

  describe("as control-plane machines become Deployed", () => {
    it("adds a control-plane machine's InternalIP, and never a worker's", async () => {
      await setMachineState(h, "worker-0", "Deployed", "10.20.0.99");
      await setMachineState(h, "cp-0", "Deployed", "10.20.0.10");
      await waitForRecord(h, fqdn, ["10.20.0.10"]);
      const ready = await waitForMaasCluster(h, cluster, (c) => condition(c, DNSResourceReadyCondition)?.status === "True", "DNSResourceReady");
      assert.match(condition(ready, DNSResourceReadyCondition)?.message ?? "", /10\.20\.0\.10/);
    });

    it("adds the next one", async () => {
      await setMachineState(h, "cp-1", "Deployed", "10.20.0.11");
      await waitForRecord(h, fqdn, ["10.20.0.10", "10.20.0.11"]);
    });

    it("writes MAAS only when the set of addresses changes", async () => {
      const writes = dnsWrites(h);
      await h.kube.patch(MAAS_MACHINE, { namespace: h.ns, name: "cp-0" }, { metadata: { labels: { touched: "yes" } } }, { type: "merge" });
      await setMachineState(h, "worker-0", "Deployed", "10.20.0.98");
      await settle();
      assert.equal(dnsWrites(h), writes);
    });

    it("adds a Machine that joins the control plane", async () => {
      await h.kube.patch(CAPI_MACHINE, { namespace: h.ns, name: "worker-0" }, { metadata: { labels: { [MachineControlPlaneLabel]: "" } } }, { type: "merge" });
      await waitForRecord(h, fqdn, ["10.20.0.10", "10.20.0.11", "10.20.0.98"]);
      await h.kube.patch(CAPI_MACHINE, { namespace: h.ns, name: "worker-0" }, { metadata: { labels: { [MachineControlPlaneLabel]: null } } }, { type: "merge" });
      await waitForRecord(h, fqdn, ["10.20.0.10", "10.20.0.11"]);
    });
  });

  describe("as control-plane machines go", () => {
    it("drops a machine as soon as it is being deleted", async () => {
      await h.kube.delete(MAAS_MACHINE, { namespace: h.ns, name: "cp-1" });
      await waitForRecord(h, fqdn, ["10.20.0.10"]);
    });

    it("keeps the last addresses when no control-plane machine is Deployed any more (a power blip), and says so", async () => {
      await setMachineState(h, "cp-0", "Deploying", "10.20.0.10");
      const blip = await waitForMaasCluster(
        h,
        cluster,
        (c) => condition(c, DNSResourceReadyCondition)?.status === "False",
        "DNSResourceReady False",
      );
      assert.equal(condition(blip, DNSResourceReadyCondition)?.reason, WaitingForControlPlaneAddressesReason);
      assert.match(condition(blip, DNSResourceReadyCondition)?.message ?? "", /keeps its last addresses 10\.20\.0\.10/);
      assert.deepEqual(simRecords(h).get(fqdn), ["10.20.0.10"]);
    });

    it("takes the machine's address again when it is back, and a changed one in its place", async () => {
      await setMachineState(h, "cp-0", "Deployed", "10.20.0.12");
      await waitForRecord(h, fqdn, ["10.20.0.12"]);
      assert.equal(condition(await dnsReady(), DNSResourceReadyCondition)?.status, "True");
    });
  });
});
