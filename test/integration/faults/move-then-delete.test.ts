// A MaasMachine moved by `clusterctl move` and later deleted in its new home. The move
// deletes the object here without releasing anything (delete-for-move) and creates it
// again with the same spec and annotations, but the API server gives the new object a
// new uid, and MAAS still holds the machine under the agent name of the old one. The
// delete must still release it, and only it.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DeleteForMoveAnnotation, MAAS_MACHINE, type MaasMachine } from "../../../src/api/v1beta1/index.ts";
import { CAPI_CLUSTER, CAPI_MACHINE } from "../../../src/capi/index.ts";
import { Testbed, createNamespace, waitFor } from "../controllers/provider-harness.ts";
import { maasMachinesIn } from "./fault-support.ts";
import { leakedAfterDelete } from "./maas-invariants.ts";
import { releasesBySystemId } from "./request-ledger.ts";

describe("a MaasMachine moved by clusterctl move, then deleted", () => {
  const bed = new Testbed({ prefix: "move-delete" });
  before(() => bed.start());
  after(() => bed.stop());

  it("releases the MAAS machine the object held before the move", async () => {
    const ns = await createNamespace(bed.client, "move-delete");
    await bed.readyCluster(ns, "c1");
    await bed.machineWithData(ns, "c1", "moved", { minCPU: 2, minMemory: 4096 });
    const before = await bed.readyMaasMachine(ns, "moved", 90_000);
    const systemId = before.spec.systemID ?? "";

    // clusterctl move, as it does it: pause, copy the object, delete it with the annotation
    // and strip its finalizers, create the copy (a new uid) where it moves to, unpause.
    await setPaused(ns, "c1", true);
    const copy = movedCopy(await bed.maasMachine(ns, "moved"));
    await bed.client.patch(MAAS_MACHINE, { namespace: ns, name: "moved" }, { metadata: { annotations: { [DeleteForMoveAnnotation]: "" } } });
    await bed.client.delete(MAAS_MACHINE, { namespace: ns, name: "moved" });
    await bed.client.patch(MAAS_MACHINE, { namespace: ns, name: "moved" }, { metadata: { finalizers: null } }).catch(() => undefined);
    await waitFor("the old object gone", async () => (await maasMachinesIn(bed.client, ns)).length === 0);
    await bed.client.create(MAAS_MACHINE, copy);
    await setPaused(ns, "c1", false);
    const moved = await bed.readyMaasMachine(ns, "moved", 90_000);
    assert.notEqual(moved.metadata.uid, before.metadata.uid, "a new object");
    assert.equal(moved.spec.systemID, systemId, "naming the same MAAS machine");
    const afterSeq = bed.sim.requestLog().at(-1)?.seq ?? 0;

    await bed.client.delete(CAPI_MACHINE, { namespace: ns, name: "moved" });
    await waitFor("the moved MaasMachine gone", async () => (await maasMachinesIn(bed.client, ns)).length === 0, 90_000);
    assert.deepEqual(leakedAfterDelete(bed.sim.state(), ns), []);
    assert.deepEqual(Object.fromEntries(releasesBySystemId(bed.sim.requestLog(), [systemId], afterSeq)), { [systemId]: 1 });
  });

  async function setPaused(namespace: string, cluster: string, paused: boolean): Promise<void> {
    await bed.client.patch(CAPI_CLUSTER, { namespace, name: cluster }, { spec: { paused } });
  }
});

/**
 * The object as clusterctl move creates it in the target (mover.go createTargetObject):
 * the source as read, finalizers and annotations included, without resourceVersion,
 * owner references rebuilt (the same Machine here); the API server gives it a new uid.
 */
function movedCopy(source: MaasMachine): MaasMachine {
  const { name, namespace, labels, annotations, finalizers, ownerReferences } = source.metadata;
  return {
    apiVersion: source.apiVersion,
    kind: source.kind,
    metadata: { name, namespace, labels, annotations, finalizers, ownerReferences },
    spec: source.spec,
  } as MaasMachine;
}
