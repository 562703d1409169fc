// Which IPs the control-plane DNS record should hold, read from the informer caches:
// the InternalIP addresses of the cluster's control-plane MaasMachines that MAAS
// reports Deployed and that are not going away. A control-plane MaasMachine is one
// whose owner Machine carries CAPI's control-plane label (the MaasMachine's own label
// stands in while the Machine is not in the cache, e.g. already deleted).
import type { MaasMachine } from "../../api/v1beta1/index.ts";
import {
  CLUSTER_NAME_INDEX,
  clusterNameIndexValue,
  isControlPlane,
  ownerMachineName,
  type Machine,
} from "../../capi/index.ts";
import type { Informer } from "../../runtime/index.ts";

export interface ControlPlaneAddresses {
  /** Sorted, without duplicates. */
  addresses: string[];
  /** Control-plane MaasMachines that exist at all, deployed or not, deleting or not. */
  controlPlaneMachines: number;
}

export interface ClusterMachineCaches {
  maasMachines: Informer<MaasMachine>;
  machines: Informer<Machine>;
}

/** The cluster's MaasMachines, by CAPI's cluster-name label (an index lookup). */
export function clusterMaasMachines(caches: Pick<ClusterMachineCaches, "maasMachines">, namespace: string, clusterName: string): MaasMachine[] {
  return caches.maasMachines.byIndex(CLUSTER_NAME_INDEX, clusterNameIndexValue(namespace, clusterName));
}

export function controlPlaneAddresses(caches: ClusterMachineCaches, namespace: string, clusterName: string): ControlPlaneAddresses {
  const addresses = new Set<string>();
  let controlPlaneMachines = 0;
  for (const maasMachine of clusterMaasMachines(caches, namespace, clusterName)) {
    const owner = ownerMachineName(maasMachine);
    const machine = owner === undefined ? undefined : caches.machines.get(namespace, owner);
    if (!isControlPlane(machine ?? maasMachine)) continue;
    controlPlaneMachines++;
    if (!serving(maasMachine, machine)) continue;
    for (const a of maasMachine.status?.addresses ?? []) if (a.type === "InternalIP") addresses.add(a.address);
  }
  return { addresses: [...addresses].sort(), controlPlaneMachines };
}

/** Deployed in MAAS and not being deleted: a machine on its way out should stop taking API traffic. */
function serving(maasMachine: MaasMachine, machine: Machine | undefined): boolean {
  const status = maasMachine.status;
  return (
    status?.initialization?.provisioned === true &&
    status.machineState === "Deployed" &&
    maasMachine.metadata.deletionTimestamp === undefined &&
    machine?.metadata.deletionTimestamp === undefined
  );
}
