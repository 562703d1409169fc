// Defaulting and validation of a MaasMachineSpec, shared by MaasMachine (at `spec`) and
// MaasMachineTemplate (at `spec.template.spec`). Only what the CRD schema cannot say is
// checked here: the schema already holds the types, minimums, the image pattern, the
// tag pattern, the releasePolicy values and `ephemeral: true` beside `deployInMemory:
// false` (a CEL rule); MAAS's own name rules for zones, pools and system IDs (maas-names.ts),
// the provider ID's form, and everything that compares the old object with the new one are ours.
import { effectiveEphemeral, type MaasMachineSpec } from "../api/v1beta1/index.ts";
import type { JsonObject } from "./admission.ts";
import { forbidden, invalid, type FieldError } from "./field-errors.ts";
import { poolNameErrors, providerIdErrors, systemIdErrors, zoneNameErrors } from "./maas-names.ts";

export interface MachineSpecRules {
  /** Below this, an in-memory machine gets a warning; the manager's --ephemeral-min-memory. */
  ephemeralMinMemoryMiB: number;
}

/** The fields a machine is allocated with; changing one would not change the running machine. */
const ALLOCATION_FIELDS = ["image", "minCPU", "minMemory", "minDiskSize"] as const;

/**
 * Folds the deprecated `deployInMemory` into `ephemeral` and drops it, so the printer
 * column, CAPI's copies and every reader see one field. `true` wins over a stored
 * `ephemeral: false`: the schema defaults `ephemeral` to false before any webhook runs,
 * so that false cannot be told from "not written". `ephemeral: true` beside
 * `deployInMemory: false` is left as sent, for the schema's rule to refuse.
 * Returns the warnings for the response.
 */
export function defaultMachineSpec(spec: JsonObject, path: string): string[] {
  const alias = spec.deployInMemory;
  if (typeof alias !== "boolean") return [];
  // A mistyped ephemeral ("yes") is the schema's to refuse; folding would overwrite it.
  if (spec.ephemeral !== undefined && typeof spec.ephemeral !== "boolean") return [];
  if (!alias && spec.ephemeral === true) return [];
  spec.ephemeral = spec.ephemeral === true || alias;
  delete spec.deployInMemory;
  return [
    `${path}.deployInMemory is deprecated and was folded into ${path}.ephemeral (now ${String(spec.ephemeral)}); write ephemeral instead`,
  ];
}

/** The spec with the alias folded, as the defaulter leaves it; used to compare old with new. */
function normalised(spec: MaasMachineSpec): MaasMachineSpec {
  const copy: MaasMachineSpec = { ...spec, ephemeral: effectiveEphemeral(spec) };
  delete copy.deployInMemory;
  return copy;
}

/** Checks of one spec on its own (create, and the new side of an update). */
export function validateMachineSpec(spec: MaasMachineSpec, path: string): FieldError[] {
  const errors: FieldError[] = [];
  if (spec.ephemeral === false && spec.deployInMemory === true) {
    // Reached only when the defaulting webhook did not run: refuse rather than guess.
    errors.push(invalid(`${path}.ephemeral`, false, `contradicts ${path}.deployInMemory: true (its deprecated alias); remove deployInMemory and set ephemeral to the value you mean`));
  }
  if (spec.ephemeral === true && spec.deployInMemory === false) {
    errors.push(invalid(`${path}.deployInMemory`, false, `contradicts ${path}.ephemeral: true; deployInMemory is a deprecated alias of ephemeral: remove deployInMemory (or set it to true)`));
  }
  if (spec.failureDomain !== undefined) errors.push(...zoneNameErrors(`${path}.failureDomain`, spec.failureDomain));
  if (spec.resourcePool !== undefined) errors.push(...poolNameErrors(`${path}.resourcePool`, spec.resourcePool));
  if (spec.systemID !== undefined) errors.push(...systemIdErrors(`${path}.systemID`, spec.systemID));
  if (spec.providerID !== undefined) {
    errors.push(...providerIdErrors(`${path}.providerID`, spec.providerID, { field: `${path}.systemID`, value: spec.systemID }));
  }
  return errors;
}

/**
 * The warning for a machine that runs from memory with less than the manager's
 * --ephemeral-min-memory: MAAS has no such check, so it deploys anyway and may run out.
 * Given only when the spec is created or its memory or target changes, never on every update.
 */
export function memoryWarnings(spec: MaasMachineSpec, path: string, rules: MachineSpecRules): string[] {
  if (!effectiveEphemeral(spec) || spec.minMemory >= rules.ephemeralMinMemoryMiB) return [];
  return [
    `${path}.minMemory is ${spec.minMemory} MiB, below the ${rules.ephemeralMinMemoryMiB} MiB an operating system running from memory needs (the manager's --ephemeral-min-memory); it deploys anyway. Raise minMemory or set ephemeral: false`,
  ];
}

/** Whether an update changes what the memory warning looks at. */
export function memoryOrTargetChanged(oldSpec: MaasMachineSpec, newSpec: MaasMachineSpec): boolean {
  return oldSpec.minMemory !== newSpec.minMemory || effectiveEphemeral(oldSpec) !== effectiveEphemeral(newSpec);
}

function shown(value: unknown): string {
  return value === undefined ? "unset" : JSON.stringify(value);
}

/**
 * A MaasMachine's update: the allocation fields and `ephemeral` are fixed once set (the
 * manager allocated and deployed with them); `systemID` and `providerID` may be written
 * once and removed (the manager replaces a failed machine in two writes), never changed
 * to another value.
 */
export function validateMachineSpecUpdate(oldSpec: MaasMachineSpec, newSpec: MaasMachineSpec, path: string): FieldError[] {
  const before = normalised(oldSpec);
  const after = normalised(newSpec);
  const errors: FieldError[] = [];
  const roll = "create a new MaasMachineTemplate with the change and point the MachineDeployment (or KubeadmControlPlane) at it, so CAPI rolls the machines";
  for (const field of [...ALLOCATION_FIELDS, "ephemeral"] as const) {
    if (before[field] === undefined || before[field] === after[field]) continue;
    errors.push(forbidden(`${path}.${field}`, `cannot change once set (from ${shown(before[field])} to ${shown(after[field])}): the MAAS machine is allocated and deployed with it. To change it, ${roll}`));
  }
  for (const field of ["systemID", "providerID"] as const) {
    const was = before[field];
    const now = after[field];
    if (was === undefined || now === undefined || was === now) continue;
    errors.push(forbidden(`${path}.${field}`, `cannot change from ${shown(was)} to ${shown(now)} once set: it names the MAAS machine this MaasMachine holds and only the controller writes it; remove the change`));
  }
  return errors;
}

/** Whether two specs are the same once the alias is folded (template immutability). */
export function sameMachineSpec(a: MaasMachineSpec, b: MaasMachineSpec): { same: boolean; changed: string[] } {
  const left = normalised(a) as Record<string, unknown>;
  const right = normalised(b) as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(left), ...Object.keys(right)])].sort();
  const changed = keys.filter((key) => JSON.stringify(left[key]) !== JSON.stringify(right[key]));
  return { same: changed.length === 0, changed };
}
