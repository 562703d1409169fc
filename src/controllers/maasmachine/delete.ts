// reconcileDelete: give the MAAS machine back, then let the MaasMachine go. Disk
// machines are erased as spec.releasePolicy says; machines deployed to memory never
// are (their disks were not written; MAAS itself would erase only when asked). A
// machine MAAS no longer has does not block deletion, and a delete by `clusterctl move`
// releases nothing: the machine lives on under the target management cluster.
import {
  DeletingReason,
  MaasMachineFinalizer,
  MachineDeployedCondition,
  MachineReleasingReason,
  ReadyCondition,
} from "../../api/v1beta1/index.ts";
import { isDeleteForMove } from "../../capi/index.ts";
import { MaasError, MachineStatus, type Machine, type ReleaseParams } from "../../maas/index.ts";
import type { Result } from "../../runtime/index.ts";
import { agentName } from "./allocate.ts";
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
  for (const systemId of targets) await release(scope, systemId);
  await removeFinalizer(scope);
  // Only now: until the finalizer is gone a retry may come, and the release answer the
  // watcher keeps is what stops it releasing a machine MAAS may have handed on since.
  for (const systemId of targets) endpoint.watcher.unwatch(systemId);
}

/** spec.systemID, or — for a crash between allocate and the spec write — what MAAS holds under our agent name. */
async function machinesToRelease(scope: MachineScope): Promise<string[]> {
  const systemId = scope.maasMachine.spec.systemID;
  if (systemId !== undefined) return [systemId];
  const { services } = scope.deps.maas.endpoint();
  try {
    const held = await services.machines.list({ agentName: agentName(scope) }, { signal: scope.signal });
    return held.filter((m) => !RELEASED.has(m.status)).map((m) => m.system_id);
  } catch (err) {
    throw reportMaasFailure(scope, err, "Looking for MAAS machines held for this MaasMachine");
  }
}

async function release(scope: MachineScope, systemId: string): Promise<void> {
  const { services, watcher } = scope.deps.maas.endpoint();
  const seen: Machine | undefined = watcher.snapshot(systemId)?.machine;
  if (seen !== undefined && RELEASED.has(seen.status)) return;
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
