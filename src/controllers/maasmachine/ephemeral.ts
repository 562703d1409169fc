// Deploy-to-memory checks before anything is allocated: MAAS's version must support
// this image in memory (supportsEphemeralDeploy, from MAAS's history: 2.6 Ubuntu only,
// 2.7–3.4 Ubuntu Bionic or later, 3.5+ any image that can run from memory). If not,
// the MaasMachine gets a terminal condition and an event, and MAAS is not asked for a
// machine it could not deploy.
import { EphemeralNotSupportedReason, MachineDeployedCondition } from "../../api/v1beta1/index.ts";
import { supportsEphemeralDeploy } from "../../maas/index.ts";
import { specInForce } from "./desired.ts";
import type { MachineScope } from "./scope.ts";
import { endpointOrReport } from "./maas-errors.ts";

/** True when the machine may go on to allocation; false after reporting why not. */
export async function checkEphemeralSupport(scope: MachineScope): Promise<boolean> {
  // Once allocated, what was asked then is what counts (and it was checked then).
  if (scope.maasMachine.spec.systemID !== undefined) return true;
  const spec = specInForce(scope.maasMachine, scope.machine);
  if (!spec.ephemeral) return true;
  const endpoint = endpointOrReport(scope);
  if (endpoint === undefined) return false;
  const version = await endpoint.version(scope.signal);
  if (supportsEphemeralDeploy(version, spec.image)) return true;
  refuseEphemeral(scope, {
    source: "provider",
    message: `MAAS ${version.raw} cannot deploy ${spec.image} into memory (MAAS 2.6 supports Ubuntu only, 2.7–3.4 Ubuntu 18.04 or later, 3.5+ any image with a squashfs or root tarball). Use a supported image, upgrade MAAS, or set ephemeral: false.`,
  });
  return false;
}

/** Records a terminal refusal to deploy into memory: condition, event, metric. No retry until the spec changes. */
export function refuseEphemeral(scope: MachineScope, refusal: { source: "provider" | "maas"; message: string }): void {
  const previous = scope.condition(MachineDeployedCondition);
  if (previous?.reason !== EphemeralNotSupportedReason || previous.message !== refusal.message) {
    scope.event({ type: "Warning", reason: EphemeralNotSupportedReason, action: "Deploy", note: refusal.message });
    scope.deps.metrics.ephemeralRefusals.inc({ source: refusal.source });
  }
  scope.setCondition({ type: MachineDeployedCondition, status: "False", reason: EphemeralNotSupportedReason, message: refusal.message });
  // v1beta1 contract readers see it as a terminal failure too.
  scope.status.failureReason = "InvalidConfiguration";
  scope.status.failureMessage = refusal.message;
}
