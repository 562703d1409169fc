// The parts of Cluster API's v1beta2 Machine and Cluster (api/core/v1beta2 at v1.14)
// and of core Kubernetes objects that this provider reads, field for field as CAPI
// serialises them. Only what we read is typed; the rest passes through untouched.
import { kindSpec, type Condition, type KubeObject, type MachineAddress } from "../api/v1beta1/index.ts";

/** clusterv1.ContractVersionedObjectReference: v1beta2 names the group, not a version. */
export interface ContractVersionedObjectReference {
  apiGroup?: string;
  kind?: string;
  name?: string;
}

export interface Machine extends KubeObject {
  spec: {
    clusterName: string;
    bootstrap?: { configRef?: ContractVersionedObjectReference; dataSecretName?: string };
    infrastructureRef?: ContractVersionedObjectReference;
    version?: string;
    providerID?: string;
    failureDomain?: string;
  };
  status?: {
    phase?: string;
    nodeRef?: { name?: string };
    addresses?: MachineAddress[];
    conditions?: Condition[];
    initialization?: { infrastructureProvisioned?: boolean; bootstrapDataSecretCreated?: boolean };
  };
}

export interface Cluster extends KubeObject {
  spec?: {
    paused?: boolean;
    controlPlaneEndpoint?: { host?: string; port?: number };
    controlPlaneRef?: ContractVersionedObjectReference;
    infrastructureRef?: ContractVersionedObjectReference;
  };
  status?: {
    phase?: string;
    conditions?: Condition[];
    initialization?: { infrastructureProvisioned?: boolean; controlPlaneInitialized?: boolean };
  };
}

export interface Secret extends KubeObject {
  type?: string;
  /** Base64 values, as the API server serves them. */
  data?: Record<string, string>;
}

export interface Node extends KubeObject {
  spec?: { providerID?: string };
  status?: { addresses?: Array<{ type: string; address: string }> };
}

/** CAPI's API group. */
export const CLUSTER_API_GROUP = "cluster.x-k8s.io";

export const CAPI_MACHINE = kindSpec<Machine>({ group: CLUSTER_API_GROUP, version: "v1beta2", kind: "Machine", plural: "machines", namespaced: true });
export const CAPI_CLUSTER = kindSpec<Cluster>({ group: CLUSTER_API_GROUP, version: "v1beta2", kind: "Cluster", plural: "clusters", namespaced: true });
export const SECRET = kindSpec<Secret>({ group: "", version: "v1", kind: "Secret", plural: "secrets", namespaced: true });
export const NODE = kindSpec<Node>({ group: "", version: "v1", kind: "Node", plural: "nodes", namespaced: false });
