// The MaasCluster controller: the CAPI InfraCluster of a MAAS cluster. It names the
// control plane with a MAAS DNS resource <cluster>.<dnsDomain> (or uses the user's
// endpoint), keeps that record pointing at the Deployed control-plane machines, offers
// MAAS zones as failure domains and reports provisioned; on delete it waits for the
// cluster's MaasMachines and removes only the record it created.
export { setupMaasClusterController, type MaasClusterController, type MaasClusterControllerOptions } from "./setup.ts";
export { MaasClusterReconciler, type MaasClusterCaches, type MaasClusterReconcilerOptions } from "./reconciler.ts";
export { DNSResourceAdoptedAnnotation, DNSResourceCreatedAnnotation } from "./dns.ts";
