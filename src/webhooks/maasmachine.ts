// MaasMachine: the alias folded into `ephemeral`; the allocation fields, `ephemeral`,
// `systemID` and `providerID` fixed as validateMachineSpecUpdate says; a memory warning
// for machines that run from memory.
import type { MaasMachine } from "../api/v1beta1/index.ts";
import {
  defaultMachineSpec,
  memoryOrTargetChanged,
  memoryWarnings,
  validateMachineSpec,
  validateMachineSpecUpdate,
  type MachineSpecRules,
} from "./machine-spec.ts";
import { child, type KindWebhook } from "./webhook.ts";

export function maasMachineWebhook(rules: MachineSpecRules): KindWebhook<MaasMachine> {
  return {
    kind: "MaasMachine",
    default(object) {
      const spec = child(object, "spec");
      return spec === undefined ? [] : defaultMachineSpec(spec, "spec");
    },
    validateCreate(machine) {
      return { errors: validateMachineSpec(machine.spec, "spec"), warnings: memoryWarnings(machine.spec, "spec", rules) };
    },
    validateUpdate(oldMachine, newMachine, context) {
      const errors = validateMachineSpec(newMachine.spec, "spec");
      if (!context.skipImmutability) errors.push(...validateMachineSpecUpdate(oldMachine.spec, newMachine.spec, "spec"));
      // The controller's own writes (finalizer, systemID) must not repeat the create's warning.
      const warnings = memoryOrTargetChanged(oldMachine.spec, newMachine.spec) ? memoryWarnings(newMachine.spec, "spec", rules) : [];
      return { errors, warnings };
    },
  };
}
