// Fields fixed at allocation (image, minCPU, minMemory, minDiskSize, ephemeral): an
// edit after allocation is reported in SpecUpToDate and the stored values are used.
// (The admission webhook refuses such edits up front; this covers objects written
// while it was not installed.)
import { ImmutableFieldChangedReason, SpecUpToDateCondition, SpecUpToDateReason } from "../../api/v1beta1/index.ts";
import { allocatedSpec, changedFields, currentSpec } from "./desired.ts";
import type { MachineScope } from "./scope.ts";

export function checkImmutableFields(scope: MachineScope): void {
  const stored = allocatedSpec(scope.maasMachine);
  if (stored === undefined) return;
  const changed = changedFields(stored, currentSpec(scope.maasMachine, scope.machine));
  if (changed.length === 0) {
    if (scope.condition(SpecUpToDateCondition) !== undefined) {
      scope.setCondition({ type: SpecUpToDateCondition, status: "True", reason: SpecUpToDateReason });
    }
    return;
  }
  const message = `Cannot change once the machine is allocated; using the allocated values. Changed: ${changed.join("; ")}. To change them, create a new template and roll the machines.`;
  if (scope.condition(SpecUpToDateCondition)?.message !== message) {
    scope.event({ type: "Warning", reason: ImmutableFieldChangedReason, action: "Reconcile", note: message });
  }
  scope.setCondition({ type: SpecUpToDateCondition, status: "False", reason: ImmutableFieldChangedReason, message });
}
