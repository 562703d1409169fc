// What MAAS reports, copied onto the MaasMachine's status: state, power, hostname,
// where it deployed (MAAS's own ephemeral_deploy, not what we asked), zone and the
// addresses CAPI copies to the Machine; and, once Deployed and powered on, the
// contract's provisioned/Ready plus the workload Node's providerID.
import {
  MachineDeployedCondition,
  MachineDeployedReason,
  MachinePoweredOffReason,
  MachineRedeployedReason,
  type MachineAddress,
} from "../../api/v1beta1/index.ts";
import { deploymentTarget, type Machine } from "../../maas/index.ts";
import type { Result } from "../../runtime/index.ts";
import { allocatedSpec } from "./desired.ts";
import type { NormalOptions } from "./normal.ts";
import { reconcileNodeProviderID } from "./node.ts";
import type { MachineScope } from "./scope.ts";

export function reportObserved(scope: MachineScope, machine: Machine): void {
  const status = scope.status;
  status.machineState = machine.status_name;
  status.machinePowered = machine.power_state === "on";
  status.hostname = machine.hostname;
  status.failureDomain = machine.zone.name;
  const target = deploymentTarget(machine);
  // Release leaves MAAS's flag as it was, so it says where the machine runs only while deploying or deployed.
  if (target !== undefined && (machine.status_name === "Deploying" || machine.status_name === "Deployed")) {
    status.deploymentTarget = target;
  }
  const addresses = machineAddresses(machine);
  if (addresses.length > 0) status.addresses = addresses;
}

/** Hostname and FQDN as Hostname/InternalDNS, IPs as InternalIP (MAAS's addresses are on its own networks). */
export function machineAddresses(machine: Machine): MachineAddress[] {
  const addresses: MachineAddress[] = [];
  if (machine.hostname !== "") addresses.push({ type: "Hostname", address: machine.hostname });
  if (machine.fqdn !== "") addresses.push({ type: "InternalDNS", address: machine.fqdn });
  for (const ip of machine.ip_addresses) addresses.push({ type: "InternalIP", address: ip });
  return addresses;
}

export async function reportDeployed(scope: MachineScope, machine: Machine, options: NormalOptions): Promise<Result | void> {
  const status = scope.status;
  const target = deploymentTarget(machine) ?? (allocatedSpec(scope.maasMachine)?.ephemeral === true ? "memory" : "disk");
  const wasPoweredOff = scope.condition(MachineDeployedCondition)?.reason === MachinePoweredOffReason;
  if (machine.power_state !== "on") {
    scope.setCondition({
      type: MachineDeployedCondition,
      status: "False",
      reason: MachinePoweredOffReason,
      message: `MAAS reports ${machine.hostname} Deployed but powered ${machine.power_state}${target === "memory" ? "; it runs from memory, so what it held is lost" : ""}`,
    });
    return;
  }
  if (wasPoweredOff && target === "memory") {
    // A machine deployed into memory keeps booting from the network (MAAS's node.py
    // _get_boot_order): after the power cycle it is a fresh system, and the node it
    // was is gone, which Cluster API's health checks cannot tell from a reboot.
    scope.event({
      type: "Warning",
      reason: MachineRedeployedReason,
      action: "Observe",
      note: `MAAS machine ${machine.hostname} (${machine.system_id}) is powered on again after being off; it runs from memory, so it booted afresh and its earlier state is gone`,
    });
  }
  const firstTime = status.initialization?.provisioned !== true;
  status.initialization = { ...status.initialization, provisioned: true };
  // The v1beta1 contract's field, kept while the CRD carries that label.
  status.ready = true;
  scope.setCondition({
    type: MachineDeployedCondition,
    status: "True",
    reason: MachineDeployedReason,
    message: `Deployed ${target === "memory" ? "into memory" : "to disk"} as ${machine.hostname} (${machine.system_id})`,
  });
  // No Event for a routine deploy: the Ready transition records it, and an Event per
  // machine would be a third of the API writes a machine costs.
  if (firstTime) {
    const created = Date.parse(scope.maasMachine.metadata.creationTimestamp ?? "");
    if (Number.isFinite(created)) {
      scope.deps.metrics.timeToReady.observe({ deployment_target: target }, Math.max(0, (scope.clock.now() - created) / 1000));
    }
  }
  return reconcileNodeProviderID(scope, machine, options);
}
