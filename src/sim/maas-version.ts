// What a configured MAAS version changes in the API. Each gate names the MAAS
// release (tag in canonical/maas) where the behaviour was checked.

export interface MaasVersion {
  /** As given, e.g. "3.6.0" or "3.0.0~beta1"; what /version/ reports. */
  readonly text: string;
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

const VERSION_PATTERN = /^(\d+)\.(\d+)(?:\.(\d+))?(?:[~+-][0-9A-Za-z.~+-]*)?$/;

/** Parses "3.6.0", "3.5", "3.0.0~beta1"; throws with the fix in the message. */
export function parseMaasVersion(text: string): MaasVersion {
  const match = VERSION_PATTERN.exec(text.trim());
  if (match === null) {
    throw new Error(`maasVersion "${text}" is not a MAAS version; write it like 3.6.0 or 3.4.2`);
  }
  const major = Number(match[1]);
  if (major < 2 || major > 4) {
    throw new Error(`maasVersion "${text}" is outside the simulated range 2.0–4.x; pick e.g. 3.6.0`);
  }
  return { text: text.trim(), major, minor: Number(match[2]), patch: Number(match[3] ?? 0) };
}

/** True when `v` is at least major.minor.patch. */
export function atLeast(v: MaasVersion, major: number, minor: number, patch = 0): boolean {
  if (v.major !== major) return v.major > major;
  if (v.minor !== minor) return v.minor > minor;
  return v.patch >= patch;
}

/** The LP#2033632 fix (commit 70d6b9ec/10dd7873) shipped in 3.3.7, 3.4.2 and 3.5.0. */
function hasLp2033632Fix(v: MaasVersion): boolean {
  if (v.major === 3 && v.minor === 3) return v.patch >= 7;
  if (v.major === 3 && v.minor === 4) return v.patch >= 2;
  return atLeast(v, 3, 5);
}

/** Feature switches derived from the version, named after what they change. */
export interface VersionFeatures {
  /** deploy reads ephemeral_deploy (2.6.0+; 2.5.3 has no such parameter and ignores it). */
  ephemeralParam: boolean;
  /** Node.start() refuses ephemeral deploys that are not Ubuntu ≥ Bionic (2.7.0 to 3.4.x). */
  ephemeralUbuntuBionicOnly: boolean;
  /** Node.start() checks the image can run from memory (3.5.0+). */
  ephemeralImageCheck: boolean;
  /** The API forces ephemeral for diskless machines (3.5.0+). */
  ephemeralForcedWhenDiskless: boolean;
  /** Machine JSON has ephemeral_deploy (3.3.7+ of 3.3, 3.4.2+ of 3.4, 3.5.0+). */
  ephemeralField: boolean;
  /** Every deploy writes the flag, so a deploy without it resets it (same releases as the field). */
  deployResetsEphemeral: boolean;
  /** _release() resets the flag (2.6.0 to 3.4.x; removed in 3.5.0). */
  releaseClearsEphemeral: boolean;
  /** set_ephemeral_deploy() keeps the flag on for diskless machines (2.7.0+). */
  ephemeralKeptForDiskless: boolean;
  /** The VM-host refusal text for ephemeral deploys. */
  vmHostEphemeralText: string;
  /** register_vmhost exists (3.0.0+). */
  registerVmhostParam: boolean;
  /** deployment_target / not_deployment_target constraints (3.5.0+). */
  deploymentTargetConstraint: boolean;
  /** zone and pool are repeatable constraints with "No such zone(s): …" texts (3.3.0+). */
  multiZoneConstraint: boolean;
  /** enable_hw_sync deploy parameter (3.2.0+). */
  hwSyncParam: boolean;
  /** `…/op-<name>` path-style operations (3.3.0+, support.py RE_OPER). */
  pathOps: boolean;
  /** Machine JSON fields that appeared over time (DISPLAYED_MACHINE_FIELDS per tag). */
  fields: {
    iscsiBlockDeviceSet: boolean; // until 2.9
    virtualmachineId: boolean; // 2.9+
    workloadAnnotations: boolean; // 3.0+
    hwSync: boolean; // last_sync, next_sync, sync_interval: 3.2+
    parent: boolean; // 3.3+
    enableHwSync: boolean; // 3.3.7+ / 3.4.0+
    errorDescription: boolean; // 3.5+
    enableKernelCrashDump: boolean; // 3.6+
    isDpu: boolean; // 3.7+
  };
}

export function featuresOf(v: MaasVersion): VersionFeatures {
  const fixed = hasLp2033632Fix(v);
  let vmHostEphemeralText = "Cannot install KVM host for ephemeral deployments.";
  if (atLeast(v, 3, 5)) vmHostEphemeralText = "A machine can not be a VM host if it is deployed to memory.";
  else if (atLeast(v, 3, 0)) vmHostEphemeralText = "Cannot deploy as a VM host for ephemeral deployments.";
  return {
    ephemeralParam: atLeast(v, 2, 6),
    ephemeralUbuntuBionicOnly: atLeast(v, 2, 7) && !atLeast(v, 3, 5),
    ephemeralImageCheck: atLeast(v, 3, 5),
    ephemeralForcedWhenDiskless: atLeast(v, 3, 5),
    ephemeralField: fixed,
    deployResetsEphemeral: fixed,
    releaseClearsEphemeral: atLeast(v, 2, 6) && !atLeast(v, 3, 5),
    ephemeralKeptForDiskless: atLeast(v, 2, 7),
    vmHostEphemeralText,
    registerVmhostParam: atLeast(v, 3, 0),
    deploymentTargetConstraint: atLeast(v, 3, 5),
    multiZoneConstraint: atLeast(v, 3, 3),
    hwSyncParam: atLeast(v, 3, 2),
    pathOps: atLeast(v, 3, 3),
    fields: {
      iscsiBlockDeviceSet: !atLeast(v, 3, 0),
      virtualmachineId: atLeast(v, 2, 9),
      workloadAnnotations: atLeast(v, 3, 0),
      hwSync: atLeast(v, 3, 2),
      parent: atLeast(v, 3, 3),
      enableHwSync: (v.major === 3 && v.minor === 3 && v.patch >= 7) || atLeast(v, 3, 4),
      errorDescription: atLeast(v, 3, 5),
      enableKernelCrashDump: atLeast(v, 3, 6),
      isDpu: atLeast(v, 3, 7),
    },
  };
}
