// What the MaasMachine asks MAAS for, and which of it is fixed once a machine is
// allocated. The values allocated with are kept in an annotation next to spec.systemID
// (written in the same patch), so a later edit of the spec is reported and ignored
// instead of silently changing a running machine; `clusterctl move` carries them. The
// agent_name the machine was allocated under is kept there too: MAAS holds the machine
// under it, and after a move the object's own agent name (its uid) is a new one.
import {
  AllocatedSpecAnnotation,
  EphemeralAnnotation,
  effectiveEphemeral,
  type MaasMachine,
} from "../../api/v1beta1/index.ts";
import type { Machine } from "../../capi/index.ts";

/** The fields that cannot change once the machine is allocated. */
export interface AllocatedSpec {
  image: string;
  minCPU: number;
  minMemory: number;
  minDiskSize?: number;
  ephemeral: boolean;
}

const FIELDS = ["image", "minCPU", "minMemory", "minDiskSize", "ephemeral"] as const;

/**
 * Whether this machine deploys into memory. The owner Machine's annotation
 * `maas.infrastructure.cluster.x-k8s.io/ephemeral` ("true" / "false") wins over the
 * MaasMachine's `ephemeral` (or its alias `deployInMemory`): it is the per-machine
 * override of a template shared by a whole pool. Any other annotation value is ignored.
 */
export function wantsEphemeral(maasMachine: MaasMachine, machine: Machine | undefined): boolean {
  const override = machine?.metadata.annotations?.[EphemeralAnnotation];
  if (override === "true") return true;
  if (override === "false") return false;
  return effectiveEphemeral(maasMachine.spec);
}

/** The spec as it stands, in the form that is stored at allocation. */
export function currentSpec(maasMachine: MaasMachine, machine: Machine | undefined): AllocatedSpec {
  const { image, minCPU, minMemory, minDiskSize } = maasMachine.spec;
  return { image, minCPU, minMemory, ...(minDiskSize === undefined ? {} : { minDiskSize }), ephemeral: wantsEphemeral(maasMachine, machine) };
}

/** What this machine is held to: the values stored at allocation, else the spec as it stands. */
export function specInForce(maasMachine: MaasMachine, machine: Machine | undefined): AllocatedSpec {
  return allocatedSpec(maasMachine) ?? currentSpec(maasMachine, machine);
}

/** The values stored at allocation, or undefined before (or for a machine allocated without them). */
export function allocatedSpec(maasMachine: MaasMachine): AllocatedSpec | undefined {
  const text = maasMachine.metadata.annotations?.[AllocatedSpecAnnotation];
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as Partial<AllocatedSpec>;
    if (typeof value.image !== "string" || typeof value.minCPU !== "number" || typeof value.minMemory !== "number") return undefined;
    return {
      image: value.image,
      minCPU: value.minCPU,
      minMemory: value.minMemory,
      ...(typeof value.minDiskSize === "number" ? { minDiskSize: value.minDiskSize } : {}),
      ephemeral: value.ephemeral === true,
    };
  } catch {
    return undefined;
  }
}

export function recordAllocatedSpec(maasMachine: MaasMachine, spec: AllocatedSpec, agentName: string): void {
  maasMachine.metadata.annotations = { ...maasMachine.metadata.annotations, [AllocatedSpecAnnotation]: JSON.stringify({ ...spec, agentName }) };
}

/** The agent_name spec.systemID was allocated under; undefined for a machine allocated before it was recorded. */
export function allocatedAgentName(maasMachine: MaasMachine): string | undefined {
  const text = maasMachine.metadata.annotations?.[AllocatedSpecAnnotation];
  if (text === undefined) return undefined;
  try {
    const value = (JSON.parse(text) as { agentName?: unknown }).agentName;
    return typeof value === "string" && value !== "" ? value : undefined;
  } catch {
    return undefined;
  }
}

export function forgetAllocatedSpec(maasMachine: MaasMachine): void {
  const annotations = { ...maasMachine.metadata.annotations };
  delete annotations[AllocatedSpecAnnotation];
  maasMachine.metadata.annotations = annotations;
}

/** The fields whose current value differs from the stored one, e.g. `["image: ubuntu/noble (allocated with ubuntu/jammy)"]`. */
export function changedFields(stored: AllocatedSpec, current: AllocatedSpec): string[] {
  return FIELDS.filter((field) => stored[field] !== current[field]).map(
    (field) => `${field}: ${String(current[field] ?? "unset")} (allocated with ${String(stored[field] ?? "unset")})`,
  );
}
