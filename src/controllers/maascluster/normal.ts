// reconcileNormal: the steps a live MaasCluster goes through. A finalizer first (the
// DNS resource made later must not outlive the object unnoticed), then the zones
// offered as failure domains, then the control-plane endpoint, then provisioned, and
// last the endpoint's addresses. Provisioned comes before any address on purpose:
// CAPI creates the control-plane Machines only once the Cluster's infrastructure is
// provisioned and its endpoint valid (v1.14 KubeadmControlPlane reconcile and
// initControlPlaneScope), so waiting for a control-plane address first would deadlock.
import { MaasClusterFinalizer } from "../../api/v1beta1/index.ts";
import { controlPlaneAddresses } from "./control-plane-addresses.ts";
import { managedFqdn, managesDnsResource, reconcileDnsAddresses, reconcileDnsResource, reconcileGivenEndpoint, takeClusterEndpoint } from "./dns.ts";
import { reconcileFailureDomains } from "./failure-domains.ts";
import { endpointOrThrow, reportMaasReachable, reportMaasReachableFromWatcher } from "./maas-errors.ts";
import type { MaasClusterCaches } from "./reconciler.ts";
import type { ClusterScope } from "./scope.ts";

export async function reconcileNormal(scope: ClusterScope, caches: MaasClusterCaches, clusterName: string): Promise<void> {
  await ensureFinalizer(scope);
  const endpoint = endpointOrThrow(scope);
  await reconcileFailureDomains(scope, endpoint);

  takeClusterEndpoint(scope);
  if (!managesDnsResource(scope)) {
    reconcileGivenEndpoint(scope);
    markProvisioned(scope);
    // Only the zones were asked for, if any were named.
    if ((scope.maasCluster.spec.failureDomains ?? []).length > 0) reportMaasReachable(scope, endpoint);
    else reportMaasReachableFromWatcher(scope, endpoint);
    return;
  }
  const fqdn = managedFqdn(scope, clusterName);
  const desired = controlPlaneAddresses(caches, scope.namespace, clusterName);
  const record = await reconcileDnsResource(scope, endpoint, fqdn, desired);
  markProvisioned(scope);
  await reconcileDnsAddresses(scope, endpoint, record, desired);
  reportMaasReachable(scope, endpoint);
}

async function ensureFinalizer(scope: ClusterScope): Promise<void> {
  const finalizers = scope.maasCluster.metadata.finalizers ?? [];
  if (finalizers.includes(MaasClusterFinalizer)) return;
  scope.maasCluster.metadata.finalizers = [...finalizers, MaasClusterFinalizer];
  await scope.persist();
}

/** The endpoint is known: CAPI may copy it to the Cluster and start the control plane. Never taken back. */
function markProvisioned(scope: ClusterScope): void {
  scope.status.initialization = { ...scope.status.initialization, provisioned: true };
  // The v1beta1 contract's field, which CAPI still reads from providers on that contract.
  scope.status.ready = true;
}
