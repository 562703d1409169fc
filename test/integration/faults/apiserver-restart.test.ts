// kube-apiserver SIGKILLed mid-run on a private control plane and started again on the
// same etcd, with changes made while it was down through a second kube-apiserver on
// that etcd (as another replica of an HA control plane would serve them), which the
// manager does not talk to: a Machine deleted, and a new Machine with its MaasMachine
// and bootstrap Secret created. Once the manager's server is back its informers
// recover by themselves, nothing is lost, and both changes are acted on: the deleted
// machine is released, the new one deployed.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MAAS_MACHINE } from "../../../src/api/v1beta1/index.ts";
import { CAPI_MACHINE, SECRET } from "../../../src/capi/index.ts";
import { startTestEnv, type TestEnv } from "../../testenv/index.ts";
import { CLOUD_INIT, Testbed, adminClient, bootstrapSecret, createNamespace, machineObject, maasMachineObject, waitFor } from "../controllers/provider-harness.ts";
import { assertOwnership, conditionOf, deleteAllAndAssertReleased, maasMachinesIn } from "./fault-support.ts";

describe("when kube-apiserver is SIGKILLed and restarted on the same etcd", () => {
  let env: TestEnv | undefined;
  let bed: Testbed | undefined;
  before(async () => {
    env = await startTestEnv();
    bed = new Testbed({ prefix: "apiserver", env, managerArgs: ["--maas-watch-interval=5s"] });
    await bed.start();
  });
  after(async () => {
    await bed?.stop();
    await env?.stop();
  });

  it("recovers by itself, loses nothing, and acts on what changed while it was down", async () => {
    assert.ok(env !== undefined && bed !== undefined);
    const testbed = bed;
    const ns = await createNamespace(testbed.client, "apiserver");
    await testbed.readyCluster(ns, "c1");
    const spec = { minCPU: 4, minMemory: 16384, tags: ["control-plane"] };
    await testbed.machineWithData(ns, "c1", "kept", spec);
    await testbed.machineWithData(ns, "c1", "removed", spec);
    const kept = await testbed.readyMaasMachine(ns, "kept");
    const removed = await testbed.readyMaasMachine(ns, "removed");
    const removedId = removed.spec.systemID ?? "";

    await env.killApiServer();
    const second = await env.startSecondApiServer();
    const other = adminClient(second.kubeConfig());
    try {
      await other.delete(CAPI_MACHINE, { namespace: ns, name: "removed" });
      await other.create(SECRET, bootstrapSecret(ns, "added-bootstrap", "c1", CLOUD_INIT));
      await other.create(CAPI_MACHINE, machineObject({ filter: testbed.filter, namespace: ns, name: "added", cluster: "c1", dataSecretName: "added-bootstrap" }));
      await other.create(MAAS_MACHINE, maasMachineObject(testbed.filter, ns, "added", { minCPU: 8, minMemory: 32768, tags: ["worker"] }));
    } finally {
      await other.transport.close();
      await second.stop();
    }
    // No API server at all for a while: the manager's watches fail and keep retrying.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    assert.equal(testbed.provider?.child.hasExited, false, "the manager lives through it");
    assert.equal(testbed.sim.requestLog().filter((e) => e.op === "release").length, 0, "nothing released before the change could be seen");

    await env.startApiServer();
    // A fresh client: the old one's pooled connections died with the server.
    await testbed.client.transport.close();
    testbed.client = adminClient(env.kubeConfig());
    const { client } = testbed;

    await waitFor("the deleted Machine's MaasMachine gone", async () => !(await maasMachinesIn(client, ns)).some((m) => m.metadata.name === "removed"), 120_000);
    const releases = testbed.sim.requestLog().filter((e) => e.op === "release" && e.status === 200 && e.path.endsWith(`/machines/${removedId}/`));
    assert.equal(releases.length, 1, "its MAAS machine released once");
    await waitFor("its MAAS machine back in the pool", () => testbed.sim.state().machines.find((m) => m.systemId === removedId)?.owner === null);

    const added = await testbed.readyMaasMachine(ns, "added", 120_000);
    assert.ok(added.spec.systemID !== undefined, "the Machine created while the server was down is deployed");
    const still = await testbed.maasMachine(ns, "kept");
    assert.equal(conditionOf(still, "Ready")?.status, "True", "the untouched machine stays Ready");
    assert.equal(still.spec.systemID, kept.spec.systemID);
    assert.equal(testbed.allocationsFor(ns, "kept").length, 1, "and is not allocated again");
    assert.equal(testbed.allocationsFor(ns, "added").length, 1);

    await assertOwnership(client, ns, () => testbed.sim.state());
    await deleteAllAndAssertReleased(client, ns, () => testbed.sim.state());
  });
});
