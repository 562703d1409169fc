// The Cluster API contract as this provider reads it: minimal v1beta2 Machine and
// Cluster types, the pause / externally-managed / clusterctl-move rules, owner lookup,
// bootstrap data, provider IDs, and the cluster-name index with the map functions
// that turn a change to a CAPI object into the requests of our controllers.
export * from "./types.ts";
export * from "./contract.ts";
export * from "./provider-id.ts";
export * from "./cluster-index.ts";
