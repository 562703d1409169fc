// A MaasMachine whose owner Machine is named but not (yet) there. Cluster API writes the
// Machine before its MaasMachine, but the manager's watch of Machines may deliver it
// after the MaasMachine: that race must cost no status write. A Machine that stays
// missing is reported after a short grace. The test writes the owner references itself
// (no Cluster API core manager), so it decides what exists when.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MAAS_MACHINE, ReadyCondition, WaitingForOwnerMachineReason, type MaasMachine } from "../../../src/api/v1beta1/index.ts";
import { CAPI_MACHINE, SECRET } from "../../../src/capi/index.ts";
import { CLOUD_INIT, Testbed, bootstrapSecret, createNamespace, machineObject, maasMachineObject, waitFor } from "./provider-harness.ts";

describe("MaasMachine whose owner Machine is not in the manager's cache", () => {
  const bed = new Testbed({ prefix: "mm-owner", capiCore: false });
  before(() => bed.start());
  after(() => bed.stop());

  /** A MaasMachine owned by the Machine `name`, which is not created here. */
  async function ownedByMissingMachine(ns: string, name: string): Promise<void> {
    const object = maasMachineObject(bed.filter, ns, name);
    object.metadata.labels = { ...object.metadata.labels, "cluster.x-k8s.io/cluster-name": "c1" };
    object.metadata.ownerReferences = [{ apiVersion: "cluster.x-k8s.io/v1beta2", kind: "Machine", name, uid: "00000000-0000-4000-8000-000000000001", controller: true }];
    await bed.client.create(MAAS_MACHINE, object);
  }

  const readyReason = (m: MaasMachine): string | undefined => m.status?.conditions?.find((c) => c.type === ReadyCondition)?.reason;

  it("writes no status while the Machine is a moment late, and goes on once it comes", async () => {
    const ns = await createNamespace(bed.client, "mm-owner-late");
    await bed.readyCluster(ns, "c1");
    const { resourceVersion } = await bed.client.list(MAAS_MACHINE, { namespace: ns });
    const versions: MaasMachine[] = [];
    const watching = new AbortController();
    const done = bed.client
      .watch(MAAS_MACHINE, { namespace: ns, resourceVersion, timeoutSeconds: 300, allowWatchBookmarks: false, signal: watching.signal }, (event) => versions.push(event.object as MaasMachine))
      .catch((err: unknown) => err);
    try {
      await bed.client.create(SECRET, bootstrapSecret(ns, "late-bootstrap", "c1", CLOUD_INIT));
      await ownedByMissingMachine(ns, "late");
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      await bed.client.create(CAPI_MACHINE, machineObject({ filter: bed.filter, namespace: ns, name: "late", cluster: "c1", dataSecretName: "late-bootstrap" }));
      await bed.readyMaasMachine(ns, "late", 60_000);
    } finally {
      watching.abort();
      await done;
    }
    const reasons = versions.map(readyReason);
    assert.ok(!reasons.includes(WaitingForOwnerMachineReason), `no version said ${WaitingForOwnerMachineReason}: ${JSON.stringify(reasons)}`);
    assert.equal(bed.allocationsFor(ns, "late").length, 1);
  });

  it("says it waits for the Machine, by name, once it has been missing for a while, and allocates nothing", async () => {
    const ns = await createNamespace(bed.client, "mm-owner-missing");
    await bed.readyCluster(ns, "c1");
    await ownedByMissingMachine(ns, "never");
    const waiting = await bed.waitForCondition(ns, "never", ReadyCondition, WaitingForOwnerMachineReason, 30_000);
    const condition = waiting.status?.conditions?.find((c) => c.type === ReadyCondition);
    assert.equal(condition?.status, "False");
    assert.match(condition?.message ?? "", /Machine never/);
    assert.equal(bed.allocationsFor(ns, "never").length, 0);
    assert.equal(await waitFor("no finalizer", async () => ((await bed.maasMachine(ns, "never")).metadata.finalizers ?? []).length === 0), true);
  });
});
