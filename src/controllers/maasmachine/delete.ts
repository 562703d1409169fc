// reconcileDelete: give the MAAS machine back, then let the MaasMachine go. Disk
// machines are erased as spec.releasePolicy says; machines deployed to memory never
// are (their disks were not written; MAAS itself would erase only when asked). A
// machine MAAS no longer has, or no longer holds for us (released or taken behind our
// back), does not block deletion and is not released, and a delete by `clusterctl move`
// releases nothing: the machine lives on under the target management cluster.
import {
  DeletingReason,
  MaasMachineFinalizer,
  MachineDeployedCondition,
  MachineReleasingReason,
  ReadyCondition,
} from "../../api/v1beta1/index.ts";
import { isDeleteForMove } from "../../capi/index.ts";
import { MaasError, MachineStatus, type ReleaseParams } from "../../maas/index.ts";
import type { Result } from "../../runtime/index.ts";
import { heldUnder } from "./allocate.ts";
import { allocatedSpec } from "./desired.ts";
import { endpointOrReport, reportMaasFailure } from "./maas-errors.ts";
import type { MachineScope } from "./scope.ts";

/** MAAS states where the machine is already back (or on its way back) in the pool. */
const RELEASED = new Set<number>([MachineStatus.Ready, MachineStatus.Releasing, MachineStatus.DiskErasing, MachineStatus.New]);

export async function reconcileDelete(scope: MachineScope): Promise<Result | void> {
  const { maasMachine } = scope;
  if (!(maasMachine.metadata.finalizers ?? []).includes(MaasMachineFinalizer)) return;
  if (isDeleteForMove(maasMachine)) {
    scope.log.info("deleted by clusterctl move; the MAAS machine is kept for the target cluster");
    return removeFinalizer(scope);
  }
  const endpoint = endpointOrReport(scope);
  if (endpoint === undefined) throw new Error("cannot release the MAAS machine: no MAAS credentials configured");
  scope.setCondition({ type: ReadyCondition, status: "False", reason: DeletingReason, message: "Releasing the MAAS machine" });

  const targets = await machinesToRelease(scope);
  const systemId = maasMachine.spec.systemID;
  if (systemId !== undefined && !targets.includes(systemId)) {
    // Released, deleted or taken behind our back: nothing of ours to give back, and
    // releasing it now could take it from whoever holds it.
    scope.log.info({ systemId }, "MAAS no longer holds the machine for this MaasMachine; nothing to release");
  }
  for (const target of targets) await release(scope, target);
  await removeFinalizer(scope);
  // Only now: until the finalizer is gone a retry may come.
  for (const id of new Set([...targets, ...(systemId === undefined ? [] : [systemId])])) endpoint.watcher.unwatch(id);
}

/**
 * What MAAS holds under our agent names (heldUnder: the one spec.systemID was allocated
 * with, which `clusterctl move` carries, and the object's own): spec.systemID while it
 * is still ours, and any machine an earlier pass allocated without getting to write the
 * spec (a crash). Asked every time, rather than trusting spec.systemID or the watcher's
 * last read: a machine released and taken by someone else since is no longer ours to
 * release, and a release that went through clears the agent name, so a retry never
 * releases twice.
 */
async function machinesToRelease(scope: MachineScope): Promise<string[]> {
  const { services } = scope.deps.maas.endpoint();
  try {
    const held: string[] = [];
    for (const name of heldUnder(scope)) {
      const found = await services.machines.list({ agentName: name }, { signal: scope.signal });
      held.push(...found.filter((m) => !RELEASED.has(m.status)).map((m) => m.system_id));
    }
    return [...new Set(held)];
  } catch (err) {
    throw reportMaasFailure(scope, err, "Looking for MAAS machines held for this MaasMachine");
  }
}

async function release(scope: MachineScope, systemId: string): Promise<void> {
  const { services, watcher } = scope.deps.maas.endpoint();
  try {
    const released = await services.machines.release(systemId, releaseParams(scope), { signal: scope.signal });
    watcher.watch(systemId, scope.key);
    watcher.observe(released);
    scope.log.info({ systemId, state: released.status_name }, "released MAAS machine");
    scope.event({ type: "Normal", reason: MachineReleasingReason, action: "Release", note: `Released MAAS machine ${released.hostname} (${systemId})` });
  } catch (err) {
    // Gone from MAAS: nothing left to give back.
    if (err instanceof MaasError && err.code === "NotFound") return;
    scope.setCondition({
      type: MachineDeployedCondition,
      status: "False",
      reason: MachineReleasingReason,
      message: `Releasing ${systemId} failed: ${err instanceof Error ? err.message : String(err)}`,
    });
    throw reportMaasFailure(scope, err, `Releasing ${systemId}`);
  }
}

function releaseParams(scope: MachineScope): ReleaseParams {
  const comment = `Released by Cluster API: MaasMachine ${scope.maasMachine.metadata.namespace ?? ""}/${scope.maasMachine.metadata.name} deleted`;
  const ephemeral = allocatedSpec(scope.maasMachine)?.ephemeral ?? scope.status.deploymentTarget === "memory";
  if (ephemeral) return { comment };
  switch (scope.maasMachine.spec.releasePolicy) {
    case "quick-erase":
      return { comment, erase: true, quickErase: true };
    case "secure-erase":
      return { comment, erase: true, secureErase: true };
    default:
      return { comment };
  }
}

async function removeFinalizer(scope: MachineScope): Promise<void> {
  const { maasMachine } = scope;
  maasMachine.metadata.finalizers = (maasMachine.metadata.finalizers ?? []).filter((f) => f !== MaasMachineFinalizer);
  await scope.persist();
}
