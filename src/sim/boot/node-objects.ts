// The Node a booted machine's kubelet registers, and what the node-lifecycle
// controller writes on it when the kubelet goes quiet — as plain JSON, no I/O. The
// emulation has no kubelet and no kube-controller-manager, so it writes both sides.
// Sources (k8s.io/kubernetes v1.34.2):
// - pkg/kubelet/kubelet_node_status.go initialNode: labels, the attach-detach annotation,
//   --register-with-taints; nodestatus/setters.go: addresses, daemonEndpoints, nodeInfo,
//   and the four conditions with their reasons and messages (ReadyCondition,
//   MemoryPressureCondition, DiskPressureCondition, PIDPressureCondition).
// - cmd/kubeadm/app/phases/markcontrolplane: the control-plane label, the
//   exclude-from-external-load-balancers label and nodeRegistration.taints;
//   phases/kubelet/flags.go: a worker's taints go to --register-with-taints and
//   nodeRegistration.name to --hostname-override (so the hostname label is the Node name).
// - plugin/pkg/admission/nodetaint: TaintNodesByCondition adds not-ready:NoSchedule on create.
// - pkg/controller/nodelifecycle/node_lifecycle_controller.go tryUpdateNodeHealth
//   (NodeStatusUnknown), doNoScheduleTaintingPass / doNoExecuteTaintingPass
//   (the unreachable taints) and markNodeAsReachable.
import type { KubeadmArg, Taint } from "./kubeadm-config.ts";
import type { KubeObject } from "./kube-api.ts";

export const LABEL_CONTROL_PLANE = "node-role.kubernetes.io/control-plane";
const LABEL_EXCLUDE_FROM_LB = "node.kubernetes.io/exclude-from-external-load-balancers";
export const TAINT_NOT_READY = "node.kubernetes.io/not-ready";
export const TAINT_UNREACHABLE = "node.kubernetes.io/unreachable";
/** kubeadm constants.ControlPlaneTaint: what a control-plane node gets when nodeRegistration.taints is absent. */
export const CONTROL_PLANE_TAINT: Taint = { key: LABEL_CONTROL_PLANE, value: "", effect: "NoSchedule" };
export const KUBELET_PORT = 10250;

export interface NodeFacts {
  nodeName: string;
  /** The machine's address: the InternalIP the API server dials the kubelet on. */
  address: string;
  /** The machine's host name (the kubelet adds it as a Hostname address). */
  hostname: string;
  /** MAAS architecture, "amd64/generic": the kubelet's GOARCH is its first part. */
  architecture: string;
  kubeletVersion: string;
  /** e.g. "ubuntu/jammy", as MAAS deployed it. */
  osImage: string;
  cpuCount: number;
  memoryMiB: number;
  controlPlane: boolean;
  /** Already resolved: nodeTaints(). */
  taints: Taint[];
  kubeletExtraArgs: KubeadmArg[];
  /** Changes at every boot, as /proc/sys/kernel/random/boot_id does. */
  bootId: string;
  now: Date;
}

/**
 * The taints a node registers with: a control-plane node's are nodeRegistration.taints,
 * or the control-plane taint when the key is absent (SetNodeRegistrationDynamicDefaults);
 * a worker's are nodeRegistration.taints as given (none when absent).
 */
export function nodeTaints(role: "init" | "control-plane-join" | "worker-join", taints: Taint[] | undefined): Taint[] {
  if (taints !== undefined) return taints;
  return role === "worker-join" ? [] : [CONTROL_PLANE_TAINT];
}

/** --node-labels "k=v,k2=v2" from kubeletExtraArgs. */
function extraLabels(args: KubeadmArg[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const arg of args.filter((a) => a.name === "node-labels")) {
    for (const pair of arg.value.split(",")) {
      if (pair.trim() === "") continue;
      const at = pair.indexOf("=");
      labels[(at < 0 ? pair : pair.slice(0, at)).trim()] = at < 0 ? "" : pair.slice(at + 1).trim();
    }
  }
  return labels;
}

type Condition = { type: string; status: string; reason: string; message: string; lastHeartbeatTime: string; lastTransitionTime: string };

/** The kubelet's four conditions of a healthy node, in the order its setters write them. */
export function healthyConditions(now: Date): Condition[] {
  const at = now.toISOString().replace(/\.\d+Z$/, "Z");
  const condition = (type: string, status: string, reason: string, message: string): Condition => ({ type, status, reason, message, lastHeartbeatTime: at, lastTransitionTime: at });
  return [
    condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
  ];
}

/** The Node as the kubelet creates it (nodes may set their status on create). */
export function kubeletNode(f: NodeFacts): KubeObject {
  const arch = f.architecture.split("/")[0] ?? f.architecture;
  const labels: Record<string, string> = {
    "beta.kubernetes.io/arch": arch,
    "beta.kubernetes.io/os": "linux",
    "kubernetes.io/arch": arch,
    "kubernetes.io/hostname": f.nodeName,
    "kubernetes.io/os": "linux",
    ...extraLabels(f.kubeletExtraArgs),
  };
  if (f.controlPlane) Object.assign(labels, { [LABEL_CONTROL_PLANE]: "", [LABEL_EXCLUDE_FROM_LB]: "" });
  const providerId = f.kubeletExtraArgs.find((a) => a.name === "provider-id")?.value;
  const resources = { cpu: String(f.cpuCount), memory: `${f.memoryMiB}Mi`, pods: "110" };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: f.nodeName, labels, annotations: { "volumes.kubernetes.io/controller-managed-attach-detach": "true" } },
    spec: { ...(providerId === undefined ? {} : { providerID: providerId }), ...(f.taints.length > 0 ? { taints: f.taints.map((t) => taintJson(t)) } : {}) },
    status: {
      capacity: resources,
      allocatable: resources,
      conditions: healthyConditions(f.now),
      addresses: [
        { type: "InternalIP", address: f.address },
        { type: "Hostname", address: f.hostname },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: KUBELET_PORT } },
      nodeInfo: {
        machineID: "",
        systemUUID: "",
        bootID: f.bootId,
        kernelVersion: "",
        osImage: f.osImage,
        containerRuntimeVersion: "",
        kubeletVersion: f.kubeletVersion,
        kubeProxyVersion: "",
        operatingSystem: "linux",
        architecture: arch,
      },
    },
  };
}

function taintJson(t: Taint, timeAdded?: string): Record<string, string> {
  return { key: t.key, ...(t.value === "" ? {} : { value: t.value }), effect: t.effect, ...(timeAdded === undefined ? {} : { timeAdded }) };
}

type TaintJson = { key?: string; effect?: string };

function taintsOf(node: KubeObject): TaintJson[] {
  const spec = (node.spec ?? {}) as { taints?: TaintJson[] };
  return spec.taints ?? [];
}

function setTaints(node: KubeObject, taints: TaintJson[]): KubeObject {
  const spec = { ...((node.spec ?? {}) as Record<string, unknown>) };
  if (taints.length === 0) delete spec.taints;
  else spec.taints = taints;
  return { ...node, spec };
}

/**
 * The node-lifecycle controller's work once the Node is Ready: the taints of a node not
 * ready or unreachable go — the not-ready one the admission plugin added at create, and
 * those left from before when the kubelet takes an old Node over (doNoScheduleTaintingPass;
 * markNodeAsReachable for the NoExecute ones).
 */
export function withoutConditionTaints(node: KubeObject): KubeObject {
  return setTaints(node, taintsOf(node).filter((t) => t.key !== TAINT_NOT_READY && t.key !== TAINT_UNREACHABLE));
}

function conditionsOf(node: KubeObject): Condition[] {
  return (((node.status ?? {}) as { conditions?: Condition[] }).conditions ?? []).map((c) => ({ ...c }));
}

/**
 * tryUpdateNodeHealth after node-monitor-grace-period: Ready and the three pressure
 * conditions become Unknown, NodeStatusUnknown, with a fresh lastTransitionTime (a
 * missing one is added as NodeStatusNeverUpdated). Conditions already Unknown stay as they are.
 */
export function withUnknownStatus(node: KubeObject, now: Date): KubeObject {
  const at = now.toISOString().replace(/\.\d+Z$/, "Z");
  const conditions = conditionsOf(node);
  for (const type of ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"]) {
    const current = conditions.find((c) => c.type === type);
    if (current === undefined) {
      conditions.push({ type, status: "Unknown", reason: "NodeStatusNeverUpdated", message: "Kubelet never posted node status.", lastHeartbeatTime: at, lastTransitionTime: at });
    } else if (current.status !== "Unknown") {
      Object.assign(current, { status: "Unknown", reason: "NodeStatusUnknown", message: "Kubelet stopped posting node status.", lastTransitionTime: at });
    }
  }
  return { ...node, status: { ...((node.status ?? {}) as Record<string, unknown>), conditions } };
}

/**
 * The taints for Ready=Unknown: unreachable NoSchedule (doNoScheduleTaintingPass) and
 * unreachable NoExecute with its timeAdded (doNoExecuteTaintingPass, which swaps a
 * not-ready NoExecute for it); not-ready ones go.
 */
export function withUnreachableTaints(node: KubeObject, now: Date): KubeObject {
  const at = now.toISOString().replace(/\.\d+Z$/, "Z");
  const kept = taintsOf(node).filter((t) => t.key !== TAINT_NOT_READY && t.key !== TAINT_UNREACHABLE);
  return setTaints(node, [...kept, taintJson({ key: TAINT_UNREACHABLE, value: "", effect: "NoSchedule" }), taintJson({ key: TAINT_UNREACHABLE, value: "", effect: "NoExecute" }, at)]);
}

/**
 * A kubelet that comes back posts healthy conditions (a transition only where the status
 * changes), and markNodeAsReachable / the NoSchedule pass take the unreachable and
 * not-ready taints off.
 */
export function backToReady(node: KubeObject, now: Date): KubeObject {
  const fresh = healthyConditions(now);
  const old = conditionsOf(node);
  const conditions = fresh.map((c) => {
    const before = old.find((o) => o.type === c.type);
    return before !== undefined && before.status === c.status ? { ...c, lastTransitionTime: before.lastTransitionTime } : c;
  });
  return withoutConditionTaints({ ...node, status: { ...((node.status ?? {}) as Record<string, unknown>), conditions } });
}
