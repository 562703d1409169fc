// reconcileNormal: the steps a live MaasMachine goes through, each returning either
// "go on" (undefined) or the result that ends this pass. The order is the contract's:
// wait for the Cluster's infrastructure and the bootstrap data, check that MAAS can do
// what is asked, hold a finalizer, find or allocate, deploy, report.
import {
  EphemeralNotSupportedReason,
  MachineDeployedCondition,
  WaitingForBootstrapDataReason,
  WaitingForClusterInfrastructureReadyReason,
  WaitingForClusterReason,
} from "../../api/v1beta1/index.ts";
import { bootstrapDataSecretName } from "../../capi/index.ts";
import type { Result } from "../../runtime/index.ts";
import type { WorkloadClusters } from "../shared/workload-clusters.ts";
import { reconcileAllocate } from "./allocate.ts";
import { BOOTSTRAP_RETRY_MS, readBootstrapData, reconcileDeploy } from "./deploy.ts";
import { checkEphemeralSupport } from "./ephemeral.ts";
import type { MaasMachineCaches } from "./reconciler.ts";
import type { MachineScope } from "./scope.ts";
import { checkImmutableFields } from "./spec-changes.ts";
import { wantsEphemeral } from "./desired.ts";

export interface NormalOptions {
  caches: MaasMachineCaches;
  workloadClusters: WorkloadClusters;
}

export async function reconcileNormal(scope: MachineScope, options: NormalOptions): Promise<Result | void> {
  if (!reconcileWaits(scope)) return;
  // The Secret itself, not only its name, before a machine is taken from MAAS: one
  // allocated while the data is missing would sit held, doing nothing, until it comes.
  if (scope.maasMachine.spec.systemID === undefined && (await readBootstrapData(scope, options)) === undefined) {
    return { requeueAfterMs: BOOTSTRAP_RETRY_MS };
  }
  checkImmutableFields(scope);
  if (!(await checkEphemeralSupport(scope))) return;
  const allocated = await reconcileAllocate(scope);
  if (allocated !== undefined) return allocated;
  return reconcileDeploy(scope, options);
}

/** True when the Cluster and the bootstrap data are there; otherwise says what it waits for. */
function reconcileWaits(scope: MachineScope): boolean {
  const { cluster, machine, maasMachine } = scope;
  // The waits guard the first allocation; a machine MAAS already holds for us is followed to the end.
  if (maasMachine.spec.systemID !== undefined) return true;
  const waiting = (reason: string, message: string): false => {
    scope.setCondition({ type: MachineDeployedCondition, status: "False", reason, message });
    return false;
  };
  if (cluster === undefined) {
    return waiting(WaitingForClusterReason, `Waiting for Cluster ${machine?.spec.clusterName ?? "(unknown)"}`);
  }
  if (cluster.status?.initialization?.infrastructureProvisioned !== true) {
    return waiting(WaitingForClusterInfrastructureReadyReason, `Waiting for Cluster ${cluster.metadata.name}'s infrastructure to be provisioned`);
  }
  if (machine === undefined || bootstrapDataSecretName(machine) === undefined) {
    return waiting(WaitingForBootstrapDataReason, "Waiting for the bootstrap provider to set Machine spec.bootstrap.dataSecretName");
  }
  const held = scope.condition(MachineDeployedCondition);
  // A refusal to deploy into memory holds until the spec changes (a new generation) or
  // the Machine's override no longer asks for memory: retrying would only allocate,
  // be refused and release again.
  if (
    held?.reason === EphemeralNotSupportedReason &&
    held.observedGeneration === maasMachine.metadata.generation &&
    wantsEphemeral(maasMachine, machine)
  ) {
    return false;
  }
  return true;
}
