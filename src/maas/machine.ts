// The machine as MAAS returns it. Field names stay MAAS's snake_case so a reader can
// hold this type next to the MAAS API docs (DISPLAYED_MACHINE_FIELDS in
// maasserver/api/machines.py); fields not named here are kept on the object.
import { Type } from "@sinclair/typebox";
import { Nullable, openObject, type MaasObject } from "./validate.ts";

/** NODE_STATUS (maascommon/enums/node.py); the number in a machine's `status`. */
export const MachineStatus = {
  New: 0,
  Commissioning: 1,
  FailedCommissioning: 2,
  Missing: 3,
  Ready: 4,
  Reserved: 5,
  Deployed: 6,
  Retired: 7,
  Broken: 8,
  Deploying: 9,
  Allocated: 10,
  FailedDeployment: 11,
  Releasing: 12,
  FailedReleasing: 13,
  DiskErasing: 14,
  FailedDiskErasing: 15,
  RescueMode: 16,
  EnteringRescueMode: 17,
  FailedEnteringRescueMode: 18,
  ExitingRescueMode: 19,
  FailedExitingRescueMode: 20,
  Testing: 21,
  FailedTesting: 22,
} as const;

export type MachineStatusCode = (typeof MachineStatus)[keyof typeof MachineStatus];

const ZoneRefSchema = openObject({ name: Type.String(), id: Type.Optional(Type.Integer()) });
const PoolRefSchema = openObject({ name: Type.String(), id: Type.Optional(Type.Integer()) });
const DomainRefSchema = openObject({ name: Type.String(), id: Type.Optional(Type.Integer()) });

export const MachineSchema = openObject({
  system_id: Type.String({ minLength: 1 }),
  hostname: Type.String(),
  fqdn: Type.String(),
  status: Type.Integer(),
  status_name: Type.String(),
  /** The latest event text; null when the machine has no events yet. */
  status_message: Type.Optional(Nullable(Type.String())),
  /** "on", "off", "unknown" or "error". */
  power_state: Type.String(),
  power_type: Type.Optional(Type.String()),
  cpu_count: Type.Integer(),
  /** MiB. */
  memory: Type.Integer(),
  architecture: Type.Optional(Nullable(Type.String())),
  zone: ZoneRefSchema,
  pool: Nullable(PoolRefSchema),
  domain: Type.Optional(DomainRefSchema),
  tag_names: Type.Array(Type.String()),
  ip_addresses: Type.Array(Type.String()),
  /** Empty until deployed; cleared on release. */
  osystem: Type.String(),
  distro_series: Type.String(),
  hwe_kernel: Type.Optional(Nullable(Type.String())),
  /** Username, or null when nobody holds the machine. */
  owner: Nullable(Type.String()),
  /**
   * Deployed (or last deployed) to memory. Absent on MAAS 3.4.0, 3.4.1 and 3.3.6 or
   * older; not cleared by release, so read it together with `status`.
   */
  ephemeral_deploy: Type.Optional(Type.Boolean()),
  enable_hw_sync: Type.Optional(Type.Boolean()),
  description: Type.Optional(Type.String()),
  error_description: Type.Optional(Type.String()),
  locked: Type.Optional(Type.Boolean()),
  netboot: Type.Optional(Type.Boolean()),
  node_type: Type.Optional(Type.Integer()),
  resource_uri: Type.Optional(Type.String()),
});

/** A MAAS machine: the fields this project reads, typed; all other fields kept. */
export type Machine = MaasObject<typeof MachineSchema>;

const TYPED_FIELDS: readonly string[] = Object.keys(MachineSchema.properties);

/**
 * The machine with only the fields MachineSchema types, for a copy kept for long (one per
 * machine, as the provider's MAAS watcher keeps): MAAS's whole machine is mostly
 * interfaces and block devices, about 8 KB of JSON from the simulator and more from a
 * real MAAS, where these fields are about 1 KB.
 */
export function typedFieldsOf(machine: Machine): Machine {
  const kept: Record<string, unknown> = {};
  for (const field of TYPED_FIELDS) if (field in machine) kept[field] = machine[field];
  return kept as Machine;
}

export type DeploymentTarget = "memory" | "disk";

/**
 * Where a deployed machine runs: "memory" for an ephemeral deploy, "disk" otherwise;
 * undefined when MAAS is too old to report `ephemeral_deploy`. Only meaningful while the
 * machine is Deploying or Deployed, because release leaves the flag as it was.
 */
export function deploymentTarget(machine: Pick<Machine, "ephemeral_deploy">): DeploymentTarget | undefined {
  if (machine.ephemeral_deploy === undefined) return undefined;
  return machine.ephemeral_deploy ? "memory" : "disk";
}
