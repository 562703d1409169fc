// The objects a control-plane machine leaves in its cluster besides its Node, as plain
// JSON, no I/O. Sources (k8s.io/kubernetes v1.34.2):
// - mirror Pods: cmd/kubeadm/app/util/staticpod/utils.go ComponentPod (labels component
//   and tier=control-plane, hostNetwork, system-node-critical), phases/controlplane and
//   phases/etcd (images, CPU/memory requests, the kubeadm endpoint annotations);
//   pkg/kubelet/pod/mirror_client.go CreateMirrorPod (config.mirror = the config hash,
//   owned by the Node); pkg/kubelet/config/common.go (config.source/hash/seen, the
//   NoExecute toleration); the kubelet's status manager for the Running/Ready status.
// - RBAC: phases/bootstraptoken/node/tlsbootstrap.go, phases/bootstraptoken/clusterinfo,
//   phases/uploadconfig, phases/kubeconfig EnsureAdminClusterRoleBinding.
// - bootstrap tokens: apis/bootstraptoken/v1/utils.go BootstrapTokenToSecret.
import { createHash, randomBytes } from "node:crypto";
import { stringify } from "yaml";
import type { BootstrapToken } from "./kubeadm-config.ts";
import type { KubeObject } from "./kube-api.ts";

export const CONTROL_PLANE_COMPONENTS = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"] as const;
export type ControlPlaneComponent = (typeof CONTROL_PLANE_COMPONENTS)[number];

// constants.SupportedEtcdVersion by Kubernetes minor; kubeadm falls back to its newest.
const ETCD_IMAGE_TAGS: Record<number, string> = { 31: "3.5.24-0", 32: "3.5.24-0", 33: "3.5.24-0", 34: "3.6.5-0" };
// The CPU requests kubeadm writes (ComponentResources) and etcd's memory request.
const REQUESTS: Record<ControlPlaneComponent, Record<string, string>> = {
  etcd: { cpu: "100m", memory: "100Mi" },
  "kube-apiserver": { cpu: "250m" },
  "kube-controller-manager": { cpu: "200m" },
  "kube-scheduler": { cpu: "100m" },
};

export interface StaticPodFacts {
  nodeName: string;
  /** The Node's uid: mirror Pods are owned by their Node. */
  nodeUid: string;
  address: string;
  bindPort: number;
  imageRepository: string;
  kubernetesVersion: string;
  /** etcd.local; undefined with an external etcd, which has no static Pod. */
  etcdImage?: { repository: string; tag: string };
  now: Date;
}

function seconds(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, "Z");
}

function image(f: StaticPodFacts, component: ControlPlaneComponent): string {
  if (component !== "etcd") return `${f.imageRepository}/${component}:${f.kubernetesVersion}`;
  const minor = Number(/^v?\d+\.(\d+)/.exec(f.kubernetesVersion)?.[1]);
  const tag = f.etcdImage?.tag || (ETCD_IMAGE_TAGS[minor] ?? "3.6.5-0");
  return `${f.etcdImage?.repository || f.imageRepository}/etcd:${tag}`;
}

/** The components that run on the node: etcd only with a local etcd. */
export function componentsOf(f: StaticPodFacts): ControlPlaneComponent[] {
  return CONTROL_PLANE_COMPONENTS.filter((c) => c !== "etcd" || f.etcdImage !== undefined);
}

/** `<component>-<node>` in kube-system, as the kubelet mirrors a static Pod. */
export function mirrorPod(f: StaticPodFacts, component: ControlPlaneComponent): KubeObject {
  const annotations: Record<string, string> = {};
  if (component === "etcd") annotations["kubeadm.kubernetes.io/etcd.advertise-client-urls"] = `https://${f.address}:2379`;
  if (component === "kube-apiserver") annotations["kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint"] = `${f.address}:${f.bindPort}`;
  const spec = {
    containers: [{ name: component, image: image(f, component), imagePullPolicy: "IfNotPresent", resources: { requests: REQUESTS[component] } }],
    hostNetwork: true,
    nodeName: f.nodeName,
    priorityClassName: "system-node-critical",
    securityContext: { seccompProfile: { type: "RuntimeDefault" } },
    tolerations: [{ operator: "Exists", effect: "NoExecute" }],
  };
  const hash = createHash("sha256").update(JSON.stringify({ component, spec, annotations })).digest("hex").slice(0, 32);
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: `${component}-${f.nodeName}`,
      namespace: "kube-system",
      labels: { component, tier: "control-plane" },
      annotations: {
        ...annotations,
        "kubernetes.io/config.hash": hash,
        "kubernetes.io/config.mirror": hash,
        "kubernetes.io/config.seen": f.now.toISOString(),
        "kubernetes.io/config.source": "file",
      },
      ownerReferences: [{ apiVersion: "v1", kind: "Node", name: f.nodeName, uid: f.nodeUid, controller: true }],
    },
    spec,
  };
}

/** What the kubelet's status manager posts once the container runs and its probes pass (a create resets status to Pending). */
export function runningStatus(pod: KubeObject, f: StaticPodFacts): KubeObject {
  const at = seconds(f.now);
  const containers = ((pod.spec as { containers?: Array<{ name: string; image: string }> } | undefined)?.containers ?? []).map((c) => ({
    name: c.name,
    image: c.image,
    imageID: "",
    ready: true,
    started: true,
    restartCount: 0,
    state: { running: { startedAt: at } },
  }));
  const condition = (type: string): Record<string, string> => ({ type, status: "True", lastTransitionTime: at });
  return {
    ...pod,
    status: {
      ...((pod.status ?? {}) as Record<string, unknown>),
      phase: "Running",
      conditions: ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"].map(condition),
      hostIP: f.address,
      hostIPs: [{ ip: f.address }],
      podIP: f.address,
      podIPs: [{ ip: f.address }],
      startTime: at,
      containerStatuses: containers,
    },
  };
}

/** An RBAC object and the collection it is created in. */
export interface Placed {
  collection: string;
  object: KubeObject;
}

const RBAC = "/apis/rbac.authorization.k8s.io/v1";
const BOOTSTRAPPERS = "system:bootstrappers:kubeadm:default-node-token";
const group = (name: string): Record<string, string> => ({ kind: "Group", apiGroup: "rbac.authorization.k8s.io", name });

function binding(kind: "ClusterRoleBinding" | "RoleBinding", name: string, roleKind: "ClusterRole" | "Role", role: string, subjects: Array<Record<string, string>>, namespace?: string): Placed {
  const collection = namespace === undefined ? `${RBAC}/clusterrolebindings` : `${RBAC}/namespaces/${namespace}/rolebindings`;
  return {
    collection,
    object: { apiVersion: "rbac.authorization.k8s.io/v1", kind, metadata: { name, ...(namespace === undefined ? {} : { namespace }) }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: roleKind, name: role }, subjects },
  };
}

function getRule(resources: string, names?: string[]): Record<string, unknown> {
  return { apiGroups: [""], resources: [resources], verbs: ["get"], ...(names === undefined ? {} : { resourceNames: names }) };
}

/**
 * kubeadm init's RBAC: the cluster-admins binding (its admin.conf identity), what lets
 * bootstrap tokens join (get nodes, post and auto-approve CSRs, read kubeadm-config),
 * node certificate rotation, and anonymous reads of cluster-info.
 */
export function kubeadmRbac(): Placed[] {
  return [
    binding("ClusterRoleBinding", "kubeadm:cluster-admins", "ClusterRole", "cluster-admin", [group("kubeadm:cluster-admins")]),
    { collection: `${RBAC}/clusterroles`, object: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "kubeadm:get-nodes" }, rules: [getRule("nodes")] } },
    binding("ClusterRoleBinding", "kubeadm:get-nodes", "ClusterRole", "kubeadm:get-nodes", [group(BOOTSTRAPPERS)]),
    binding("ClusterRoleBinding", "kubeadm:kubelet-bootstrap", "ClusterRole", "system:node-bootstrapper", [group(BOOTSTRAPPERS)]),
    binding("ClusterRoleBinding", "kubeadm:node-autoapprove-bootstrap", "ClusterRole", "system:certificates.k8s.io:certificatesigningrequests:nodeclient", [group(BOOTSTRAPPERS)]),
    binding("ClusterRoleBinding", "kubeadm:node-autoapprove-certificate-rotation", "ClusterRole", "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", [group("system:nodes")]),
    {
      collection: `${RBAC}/namespaces/kube-system/roles`,
      object: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "kubeadm:nodes-kubeadm-config", namespace: "kube-system" }, rules: [getRule("configmaps", ["kubeadm-config"])] },
    },
    binding("RoleBinding", "kubeadm:nodes-kubeadm-config", "Role", "kubeadm:nodes-kubeadm-config", [group(BOOTSTRAPPERS), group("system:nodes")], "kube-system"),
    {
      collection: `${RBAC}/namespaces/kube-public/roles`,
      object: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "kubeadm:bootstrap-signer-clusterinfo", namespace: "kube-public" }, rules: [getRule("configmaps", ["cluster-info"])] },
    },
    binding("RoleBinding", "kubeadm:bootstrap-signer-clusterinfo", "Role", "kubeadm:bootstrap-signer-clusterinfo", [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "system:anonymous" }], "kube-public"),
  ];
}

/** kube-public/cluster-info: admin.conf's cluster (server and CA) under the name "". */
export function clusterInfo(server: string, caPem: string): Placed {
  const kubeconfig = stringify({
    apiVersion: "v1",
    clusters: [{ cluster: { "certificate-authority-data": Buffer.from(caPem).toString("base64"), server }, name: "" }],
    contexts: null,
    "current-context": "",
    kind: "Config",
    preferences: {},
    users: null,
  });
  return { collection: "/api/v1/namespaces/kube-public/configmaps", object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cluster-info", namespace: "kube-public" }, data: { kubeconfig } } };
}

/** kube-system/kubeadm-config; its ClusterConfiguration is the document as cloud-init wrote it. */
export function kubeadmConfigMap(clusterConfigurationYaml: string): Placed {
  return {
    collection: "/api/v1/namespaces/kube-system/configmaps",
    object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "kubeadm-config", namespace: "kube-system" }, data: { ClusterConfiguration: clusterConfigurationYaml } },
  };
}

const TOKEN_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/** bootstraputil.GenerateBootstrapToken: 6 + 16 random characters of [a-z0-9]. */
function generateToken(): string {
  const pick = (n: number): string => [...randomBytes(n)].map((b) => TOKEN_ALPHABET[b % TOKEN_ALPHABET.length]).join("");
  return `${pick(6)}.${pick(16)}`;
}

/** A Go duration ("24h0m0s", "15m", "1.5h", "0s") in milliseconds; undefined when it is not one. */
export function parseGoDuration(text: string): number | undefined {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  if (text === "0") return 0;
  const parts = [...text.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) return undefined;
  return parts.reduce((sum, p) => sum + Number(p[1]) * (units[p[2] as string] ?? 0), 0);
}

/** The Secret kube-system/bootstrap-token-<id> for each InitConfiguration token; "" makes a random one. */
export function bootstrapTokenSecrets(tokens: BootstrapToken[], now: Date): Placed[] {
  return tokens.map((t) => {
    const [id = "", secret = ""] = (t.token === "" ? generateToken() : t.token).split(".");
    const data: Record<string, string> = { "token-id": id, "token-secret": secret };
    if (t.description !== "") data.description = t.description;
    const ttlMs = parseGoDuration(t.ttl);
    if (ttlMs !== undefined && ttlMs > 0) data.expiration = seconds(new Date(now.getTime() + ttlMs));
    for (const usage of t.usages) data[`usage-bootstrap-${usage}`] = "true";
    if (t.groups.length > 0) data["auth-extra-groups"] = t.groups.join(",");
    const encoded = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")]));
    return {
      collection: "/api/v1/namespaces/kube-system/secrets",
      object: { apiVersion: "v1", kind: "Secret", type: "bootstrap.kubernetes.io/token", metadata: { name: `bootstrap-token-${id}`, namespace: "kube-system" }, data: encoded },
    };
  });
}
