// Find before allocate. The finalizer is written before MAAS is asked for anything, and
// every allocation carries `agent_name` = this MaasMachine's identity (MAAS stores it on
// the node at acquire and `GET machines/?agent_name=` filters by it: maas@3.x
// api/machines.py AcquireNodeForm/IGNORED_FIELDS and ReadNodesForm). So after a crash
// between allocate and the spec write, the next pass finds the machine it holds instead
// of allocating a second one. The system ID and provider ID are written at once, before
// the deploy.
import {
  InsufficientCapacityReason,
  MaasMachineFinalizer,
  MachineAllocatingReason,
  MachineAllocationFailedReason,
  MachineDeployedCondition,
} from "../../api/v1beta1/index.ts";
import { formatProviderID } from "../../capi/index.ts";
import { MaasError, MachineStatus, type AllocateParams, type Machine } from "../../maas/index.ts";
import type { Result } from "../../runtime/index.ts";
import { allocatedAgentName, recordAllocatedSpec, specInForce, type AllocatedSpec } from "./desired.ts";
import { endpointOrReport, reportMaasAnswered, reportMaasFailure } from "./maas-errors.ts";
import type { MachineScope } from "./scope.ts";

/** MAAS states of a machine still held for us; anything else was released or lost. */
export const HELD = new Set<number>([MachineStatus.Allocated, MachineStatus.Deploying, MachineStatus.Deployed, MachineStatus.FailedDeployment]);

/** The identity every allocation of this MaasMachine carries as MAAS's agent_name. */
export function agentName(scope: MachineScope): string {
  const { namespace, name, uid } = scope.maasMachine.metadata;
  return `capmaas/${namespace ?? ""}/${name}/${uid ?? ""}`;
}

/**
 * The agent names MAAS may hold this object's machines under: the one spec.systemID was
 * allocated with (recorded beside it; after `clusterctl move` the object has a new uid,
 * and so a new agent name, while MAAS keeps the old one) and the object's own, for an
 * allocation made before a crash kept it from being recorded.
 */
export function heldUnder(scope: MachineScope): string[] {
  return [...new Set([allocatedAgentName(scope.maasMachine) ?? agentName(scope), agentName(scope)])];
}

/**
 * Makes sure spec.systemID names a machine MAAS holds for us. Returns undefined to go
 * on to the deploy, or a result that ends this pass.
 */
export async function reconcileAllocate(scope: MachineScope): Promise<Result | undefined> {
  const { maasMachine } = scope;
  if (maasMachine.spec.systemID !== undefined) return undefined;
  const endpoint = endpointOrReport(scope);
  if (endpoint === undefined) return {};

  // A finalizer already there means an earlier pass may have allocated: look first.
  let mayHoldOne = (maasMachine.metadata.finalizers ?? []).includes(MaasMachineFinalizer);
  if (!mayHoldOne) {
    maasMachine.metadata.finalizers = [...(maasMachine.metadata.finalizers ?? []), MaasMachineFinalizer];
    const { storedWasNewer } = await scope.persist();
    // Our copy was older than the stored object (a new leader whose cache lags the old
    // one's writes): that object may name a machine already, or hold a finalizer that an
    // earlier allocation followed.
    if (storedWasNewer) {
      if (maasMachine.spec.systemID !== undefined) return undefined;
      mayHoldOne = true;
    }
  }
  const spec = specInForce(maasMachine, scope.machine);
  let machine: Machine | undefined;
  try {
    if (mayHoldOne) machine = await findHeld(scope);
    if (machine === undefined) {
      scope.setCondition({ type: MachineDeployedCondition, status: "False", reason: MachineAllocatingReason, message: "Allocating a MAAS machine" });
      machine = await endpoint.services.machines.allocate(allocateParams(scope, spec), { signal: scope.signal });
      scope.log.info({ systemId: machine.system_id, hostname: machine.hostname }, "allocated MAAS machine");
    } else {
      scope.log.info({ systemId: machine.system_id }, "adopted the MAAS machine allocated for this MaasMachine earlier");
    }
  } catch (err) {
    throw reportAllocateFailure(scope, err);
  }
  recordAllocation(scope, machine, spec);
  scope.heldConfirmed = machine.system_id;
  reportMaasAnswered(scope, endpoint);
  endpoint.watcher.watch(machine.system_id, scope.key);
  endpoint.watcher.observe(machine);
  // Written now: a deploy must never run for a machine our spec does not name.
  await scope.persist();
  return undefined;
}

function allocateParams(scope: MachineScope, spec: AllocatedSpec): AllocateParams {
  const { maasMachine, machine } = scope;
  const zone = machine?.spec.failureDomain ?? maasMachine.spec.failureDomain;
  const tags = maasMachine.spec.tags ?? [];
  return {
    cpuCount: spec.minCPU,
    memoryMiB: spec.minMemory,
    ...(tags.length === 0 ? {} : { tags }),
    ...(maasMachine.spec.resourcePool === undefined ? {} : { pool: maasMachine.spec.resourcePool }),
    ...(zone === undefined || zone === "" ? {} : { zone }),
    // MAAS's storage constraint is "<label>:<size in GB>" (decimal, 1000^3 bytes:
    // node_constraint_filter_forms.py) and its first entry is the device holding "/";
    // minDiskSize is GiB, so it is converted and rounded up to a whole GB.
    ...(spec.minDiskSize === undefined ? {} : { storage: `root:${String(Math.ceil(spec.minDiskSize * 1.073741824))}` }),
    agentName: agentName(scope),
    comment: `Cluster API MaasMachine ${maasMachine.metadata.namespace ?? ""}/${maasMachine.metadata.name}`,
  };
}

/**
 * The machine an earlier pass allocated for us, if MAAS still holds one that can still
 * be deployed. Every other machine held under our agent name (a failed deployment
 * whose replacement was allocated before a crash, a duplicate) is released, so
 * nothing stays held that no MaasMachine names.
 */
export async function findHeld(scope: MachineScope, options: { except?: string } = {}): Promise<Machine | undefined> {
  const { services } = scope.deps.maas.endpoint();
  const found = await services.machines.list({ agentName: agentName(scope) }, { signal: scope.signal });
  const held = found.filter((m) => HELD.has(m.status) && m.system_id !== options.except);
  const adopted = held.find((m) => m.status !== MachineStatus.FailedDeployment);
  for (const machine of held) {
    if (machine === adopted) continue;
    scope.log.warn({ systemId: machine.system_id, state: machine.status_name }, "releasing a MAAS machine held for this MaasMachine that it does not use");
    await services.machines.release(machine.system_id, { comment: "Released by Cluster API: not used by its MaasMachine" }, { signal: scope.signal });
  }
  return adopted;
}

/**
 * Whether MAAS still holds `systemId` under the agent name it was allocated with. MAAS
 * would not stop us acting on a machine someone else took (an admin's key may deploy or
 * release any machine), and a release clears the agent name (maas@3.7.0 models/node.py
 * Node._release), so this is how a machine released and taken behind our back is told
 * from ours. True without asking for the machine this pass allocated or found.
 */
export async function stillHeld(scope: MachineScope, systemId: string): Promise<boolean> {
  if (scope.heldConfirmed === systemId) return true;
  const { services } = scope.deps.maas.endpoint();
  let found: Machine[];
  try {
    found = await services.machines.list({ agentName: allocatedAgentName(scope.maasMachine) ?? agentName(scope), systemIds: [systemId] }, { signal: scope.signal });
  } catch (err) {
    throw reportMaasFailure(scope, err, `Checking that MAAS still holds ${systemId} for this MaasMachine`);
  }
  const held = found.some((m) => m.system_id === systemId && HELD.has(m.status));
  if (held) scope.heldConfirmed = systemId;
  return held;
}

/**
 * Allocates for this MaasMachine while it still holds `failed`, so MAAS cannot hand the
 * same machine back; undefined when MAAS has no other machine (409).
 */
export async function allocateReplacement(scope: MachineScope, failed: string): Promise<Machine | undefined> {
  const spec = specInForce(scope.maasMachine, scope.machine);
  const existing = await findHeld(scope, { except: failed });
  if (existing !== undefined) return existing;
  try {
    return await scope.deps.maas.endpoint().services.machines.allocate(allocateParams(scope, spec), { signal: scope.signal });
  } catch (err) {
    if (err instanceof MaasError && err.code === "Conflict") return undefined;
    throw reportAllocateFailure(scope, err);
  }
}

/** Records the replacement in two writes: systemID cannot change in one (it is immutable once set). */
export async function switchTo(scope: MachineScope, replacement: Machine): Promise<void> {
  const spec = specInForce(scope.maasMachine, scope.machine);
  delete scope.maasMachine.spec.systemID;
  delete scope.maasMachine.spec.providerID;
  await scope.persist();
  recordAllocation(scope, replacement, spec);
  const { watcher } = scope.deps.maas.endpoint();
  watcher.watch(replacement.system_id, scope.key);
  watcher.observe(replacement);
  await scope.persist();
}

function recordAllocation(scope: MachineScope, machine: Machine, spec: AllocatedSpec): void {
  const { maasMachine } = scope;
  maasMachine.spec.systemID = machine.system_id;
  maasMachine.spec.providerID = formatProviderID(machine.zone.name, machine.system_id);
  recordAllocatedSpec(maasMachine, spec, agentName(scope));
  scope.status.failureDomain = machine.zone.name;
  scope.status.hostname = machine.hostname;
  scope.status.machineState = machine.status_name;
}

function reportAllocateFailure(scope: MachineScope, err: unknown): unknown {
  if (!(err instanceof MaasError)) return err;
  if (err.code === "Conflict") {
    scope.deps.metrics.allocationConflicts.inc();
    const message = `No MAAS machine matches: ${err.body ?? err.message}. Retrying with backoff; add machines or relax minCPU, minMemory, tags, resourcePool or the zone.`;
    if (scope.condition(MachineDeployedCondition)?.reason !== InsufficientCapacityReason) {
      scope.event({ type: "Warning", reason: InsufficientCapacityReason, action: "Allocate", note: message });
    }
    scope.setCondition({ type: MachineDeployedCondition, status: "False", reason: InsufficientCapacityReason, message });
    return err;
  }
  if (err.code === "BadRequest") {
    const message = `MAAS refused the allocation: ${err.body ?? err.message}. Check the tags, resourcePool and zone exist in MAAS.`;
    scope.event({ type: "Warning", reason: MachineAllocationFailedReason, action: "Allocate", note: message });
    scope.setCondition({ type: MachineDeployedCondition, status: "False", reason: MachineAllocationFailedReason, message });
    return err;
  }
  return reportMaasFailure(scope, err, "Allocating a MAAS machine");
}
