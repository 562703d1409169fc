// Node statuses exactly as MAAS numbers and names them.
// MAAS: src/maascommon/enums/node.py (NodeStatus) and src/maascommon/node.py
// (NODE_STATUS_LABELS) at 3.7.0; unchanged in numbering since 2.x.

/** MAAS NODE_STATUS codes. */
export const MachineStatus = {
  NEW: 0,
  COMMISSIONING: 1,
  FAILED_COMMISSIONING: 2,
  MISSING: 3,
  READY: 4,
  RESERVED: 5,
  DEPLOYED: 6,
  RETIRED: 7,
  BROKEN: 8,
  DEPLOYING: 9,
  ALLOCATED: 10,
  FAILED_DEPLOYMENT: 11,
  RELEASING: 12,
  FAILED_RELEASING: 13,
  DISK_ERASING: 14,
  FAILED_DISK_ERASING: 15,
  RESCUE_MODE: 16,
  ENTERING_RESCUE_MODE: 17,
  FAILED_ENTERING_RESCUE_MODE: 18,
  EXITING_RESCUE_MODE: 19,
  FAILED_EXITING_RESCUE_MODE: 20,
  TESTING: 21,
  FAILED_TESTING: 22,
} as const;

export type MachineStatusCode = (typeof MachineStatus)[keyof typeof MachineStatus];

const LABELS: Record<number, string> = {
  0: "New",
  1: "Commissioning",
  2: "Failed commissioning",
  3: "Missing",
  4: "Ready",
  5: "Reserved",
  6: "Deployed",
  7: "Retired",
  8: "Broken",
  9: "Deploying",
  10: "Allocated",
  11: "Failed deployment",
  12: "Releasing",
  13: "Releasing failed",
  14: "Disk erasing",
  15: "Failed disk erasing",
  16: "Rescue mode",
  17: "Entering rescue mode",
  18: "Failed to enter rescue mode",
  19: "Exiting rescue mode",
  20: "Failed to exit rescue mode",
  21: "Testing",
  22: "Failed testing",
};

/** The `status_name` MAAS shows for a status code. */
export function statusName(status: number): string {
  return LABELS[status] ?? "Unknown";
}

/**
 * The one-word filter values of `GET machines/?status=`: the lower-cased enum
 * names. MAAS: src/maasserver/enum.py NODE_STATUS_SHORT_LABEL_CHOICES.
 */
export const STATUS_SHORT_NAMES: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(MachineStatus).map(([name, code]) => [name.toLowerCase(), code]),
);

/**
 * Statuses from which a release starts. MAAS: models/node.py RELEASABLE_STATUSES.
 */
export const RELEASABLE_STATUSES: ReadonlySet<number> = new Set([
  MachineStatus.ALLOCATED,
  MachineStatus.RESERVED,
  MachineStatus.BROKEN,
  MachineStatus.DEPLOYING,
  MachineStatus.DEPLOYED,
  MachineStatus.FAILED_DEPLOYMENT,
  MachineStatus.FAILED_DISK_ERASING,
  MachineStatus.FAILED_RELEASING,
]);
