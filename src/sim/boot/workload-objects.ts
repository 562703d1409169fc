// Writing a machine's objects into its cluster through the API server, in the order
// the real actors write them: the kubelet registers its Node (kubelet_node_status.go
// registerWithAPIServer) and the node-lifecycle controller lifts the not-ready taint;
// the kubelet mirrors its static Pods and posts their status; kubeadm init uploads its
// RBAC, tokens and finally kubeadm-config. The objects themselves are built in
// node-objects.ts and control-plane-objects.ts.
import { componentsOf, mirrorPod, runningStatus, type Placed, type StaticPodFacts } from "./control-plane-objects.ts";
import { KubeApiError, type KubeApi, type KubeObject } from "./kube-api.ts";
import { backToReady, kubeletNode, withoutConditionTaints, withUnknownStatus, withUnreachableTaints, type NodeFacts } from "./node-objects.ts";

const nodePath = (name: string): string => `/api/v1/nodes/${encodeURIComponent(name)}`;

/**
 * registerWithAPIServer: create the Node; when one of that name exists (a machine
 * deployed again under the same name) the kubelet takes it over, keeping its spec and
 * updating labels it owns and its status.
 */
export async function registerNode(api: KubeApi, facts: NodeFacts): Promise<KubeObject> {
  const wanted = kubeletNode(facts);
  try {
    await api.create("/api/v1/nodes", wanted);
  } catch (error) {
    if (!(error instanceof KubeApiError) || error.status !== 409) throw error;
    const wantedLabels = (wanted.metadata?.labels ?? {}) as Record<string, string>;
    await api.modify(nodePath(facts.nodeName), (current) => ({
      ...current,
      metadata: { ...current.metadata, labels: { ...((current.metadata?.labels ?? {}) as Record<string, string>), ...wantedLabels } },
    }));
  }
  // A create keeps the status it was sent, a take-over does not: post it either way;
  // then, the Node Ready, the taints of a node not ready or unreachable go.
  await api.modify(nodePath(facts.nodeName), (current) => ({ ...current, status: wanted.status }), "/status");
  return api.modify(nodePath(facts.nodeName), withoutConditionTaints);
}

/** The mirror Pods of the node's static Pods, each then Running and Ready. */
export async function mirrorStaticPods(api: KubeApi, facts: StaticPodFacts): Promise<string[]> {
  const names: string[] = [];
  for (const component of componentsOf(facts)) {
    const pod = mirrorPod(facts, component);
    const path = `/api/v1/namespaces/kube-system/pods/${encodeURIComponent(pod.metadata?.name ?? "")}`;
    try {
      await api.create("/api/v1/namespaces/kube-system/pods", pod);
    } catch (error) {
      // A mirror Pod left from an earlier boot of this node: the kubelet deletes and recreates it.
      if (!(error instanceof KubeApiError) || error.status !== 409) throw error;
      await api.call({ method: "DELETE", url: `${path}?gracePeriodSeconds=0` });
      await api.create("/api/v1/namespaces/kube-system/pods", pod);
    }
    await api.modify(path, (current) => runningStatus(current, facts), "/status");
    names.push(pod.metadata?.name ?? "");
  }
  return names;
}

/** CreateOrUpdate of each object, in order. */
export async function applyAll(api: KubeApi, objects: Placed[]): Promise<void> {
  for (const { collection, object } of objects) await api.apply(collection, object);
}

/**
 * What the node-lifecycle controller writes when a node's kubelet stops posting:
 * Ready and the pressure conditions Unknown, then the unreachable taints. A Node
 * already gone (CAPI deleted it) is left alone.
 */
export async function markNodeUnreachable(api: KubeApi, nodeName: string, now: Date): Promise<boolean> {
  try {
    await api.modify(nodePath(nodeName), (node) => withUnknownStatus(node, now), "/status");
    await api.modify(nodePath(nodeName), (node) => withUnreachableTaints(node, now));
    return true;
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 404) return false;
    throw error;
  }
}

/** A kubelet back from a reboot: healthy conditions again, the unreachable taints lifted. */
export async function markNodeReady(api: KubeApi, nodeName: string, now: Date): Promise<boolean> {
  try {
    await api.modify(nodePath(nodeName), (node) => backToReady(node, now), "/status");
    await api.modify(nodePath(nodeName), (node) => backToReady(node, now));
    return true;
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 404) return false;
    throw error;
  }
}
