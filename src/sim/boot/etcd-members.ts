// etcd membership for a control-plane join, as kubeadm does it (k8s.io/kubernetes
// v1.34.2 cmd/kubeadm/app/util/etcd/etcd.go AddMemberAsLearner, MemberPromote,
// ListMembers; phases/etcd/local.go CreateStackedEtcdStaticPodManifestFile), spoken
// through etcd's HTTP/JSON gateway (/v3/cluster/member/*, the gRPC methods' JSON
// form: uint64 IDs are strings) with mutual TLS, as kubeadm's gRPC client would.
import { setTimeout as sleep } from "node:timers/promises";
import { requestJson, type TlsIdentity } from "./https-json.ts";

export interface EtcdMemberInfo {
  id: string;
  /** "" until the member has started and published its name. */
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

interface RawMember {
  ID?: string;
  name?: string;
  peerURLs?: string[];
  clientURLs?: string[];
  isLearner?: boolean;
}

function member(raw: RawMember): EtcdMemberInfo {
  return { id: raw.ID ?? "", name: raw.name ?? "", peerURLs: raw.peerURLs ?? [], clientURLs: raw.clientURLs ?? [], isLearner: raw.isLearner === true };
}

async function call(identity: TlsIdentity, clientUrl: string, op: string, body: unknown): Promise<Record<string, unknown>> {
  const answer = await requestJson(identity, { method: "POST", url: `${clientUrl}/v3/cluster/member/${op}`, body, timeoutMs: 15_000 });
  const json = (answer.body ?? {}) as Record<string, unknown>;
  if (answer.status !== 200) {
    const message = typeof json.message === "string" ? json.message : typeof json.error === "string" ? json.error : `HTTP ${answer.status}`;
    throw new Error(`etcd member ${op} at ${clientUrl}: ${message}`);
  }
  return json;
}

export async function listMembers(identity: TlsIdentity, clientUrl: string): Promise<EtcdMemberInfo[]> {
  const json = await call(identity, clientUrl, "list", {});
  return ((json.members ?? []) as RawMember[]).map(member);
}

/**
 * AddMemberAsLearner: the new member joins as a learner (it votes only once promoted),
 * unless a member with that peer URL is there already (a join tried again). Returns the
 * member and the --initial-cluster kubeadm then writes: every member by name, the new
 * one (and any not started yet) under the node's name.
 */
export async function addLearner(identity: TlsIdentity, clientUrl: string, nodeName: string, peerUrl: string): Promise<{ id: string; initialCluster: Array<{ name: string; peerUrl: string }> }> {
  let members = await listMembers(identity, clientUrl);
  let added = members.find((m) => m.peerURLs.includes(peerUrl));
  if (added === undefined) {
    const json = await call(identity, clientUrl, "add", { peerURLs: [peerUrl], isLearner: true });
    added = member((json.member ?? {}) as RawMember);
    members = ((json.members ?? []) as RawMember[]).map(member);
  }
  const initialCluster = members.flatMap((m) => {
    const url = m.peerURLs[0];
    if (url === undefined) return [];
    if (m.id === added.id || m.peerURLs.includes(peerUrl)) return [{ name: nodeName, peerUrl }];
    return m.name === "" ? [] : [{ name: m.name, peerUrl: url }];
  });
  return { id: added.id, initialCluster };
}

/**
 * MemberPromote, retried while etcd answers that the learner is not yet in sync with the
 * leader (kubeadm retries for its etcd API call timeout, 2 minutes).
 */
export async function promote(identity: TlsIdentity, clientUrl: string, id: string, signal: AbortSignal, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await call(identity, clientUrl, "promote", { ID: id });
      return;
    } catch (error) {
      const members = await listMembers(identity, clientUrl).catch(() => []);
      if (members.some((m) => m.id === id && !m.isLearner)) return;
      if (Date.now() >= deadline) throw error;
    }
    await sleep(1000, undefined, { signal });
  }
}
