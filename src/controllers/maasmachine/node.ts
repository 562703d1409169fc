// MAAS has no cloud controller manager, so nothing sets a workload Node's
// spec.providerID and CAPI could not match the Node to its Machine. Once the workload
// API answers, we set it on the Node named like the MAAS hostname (if it is empty).
import { NODE, type Node } from "../../capi/index.ts";
import type { Machine } from "../../maas/index.ts";
import { isNotFound, type KubeClient, type Result } from "../../runtime/index.ts";
import type { NormalOptions } from "./normal.ts";
import type { MachineScope } from "./scope.ts";

/** How soon to look again while the workload cluster or its Node is not there yet. */
const NODE_RETRY_MS = 15_000;

export async function reconcileNodeProviderID(scope: MachineScope, machine: Machine, options: NormalOptions): Promise<Result | void> {
  const providerID = scope.maasMachine.spec.providerID;
  const capiMachine = scope.machine;
  if (providerID === undefined || capiMachine === undefined) return;
  // CAPI matched the Node already (it sets nodeRef once a Node carries our providerID).
  if (capiMachine.status?.nodeRef?.name !== undefined && capiMachine.status.nodeRef.name !== "") return;
  const namespace = scope.maasMachine.metadata.namespace ?? "";
  const client = options.workloadClusters.client(namespace, capiMachine.spec.clusterName);
  // No kubeconfig Secret yet: its arrival enqueues the cluster's MaasMachines (setup.ts).
  if (client === undefined) return;
  try {
    const node = await findNode(client, machine);
    if (node === undefined) return { requeueAfterMs: NODE_RETRY_MS };
    const current = node.spec?.providerID;
    if (current === providerID) return;
    if (current !== undefined && current !== "") {
      scope.log.warn({ node: node.metadata.name, providerID: current }, "workload Node already has another providerID; leaving it");
      return;
    }
    await client.patch(NODE, { name: node.metadata.name }, { spec: { providerID } });
    scope.log.info({ node: node.metadata.name, providerID }, "set the workload Node's providerID");
    return;
  } catch (err) {
    // The workload API is often not up yet right after deploy: look again later.
    scope.log.debug({ err: err instanceof Error ? err.message : String(err) }, "workload cluster not reachable yet");
    return { requeueAfterMs: NODE_RETRY_MS };
  }
}

/** The Node named like the MAAS hostname (kubeadm's default), else the one whose hostname label matches. */
async function findNode(client: KubeClient, machine: Machine): Promise<Node | undefined> {
  try {
    return await client.get(NODE, { name: machine.hostname });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  const page = await client.list(NODE, { labelSelector: `kubernetes.io/hostname=${machine.hostname}`, limit: 2 });
  return page.items[0];
}
