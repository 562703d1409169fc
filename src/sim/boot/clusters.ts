// The workload clusters the booted machines form. A cluster is known by its CA, as
// kubeadm knows it: the key is the CA's public-key pin, "sha256:<hex of the
// SubjectPublicKeyInfo>" (k8s.io/kubernetes v1.34.2 cmd/kubeadm/app/util/pubkeypin
// Hash), the value a joining node's discovery.bootstrapToken.caCertHashes lists. A
// member is a machine of the cluster; control-plane members serve its API, and the
// endpoint forwarder sends the controlPlaneEndpoint's connections to the live ones.
import { createHash, X509Certificate } from "node:crypto";
import { isIPv4 } from "node:net";
import { EndpointForwarder, type Backend } from "./endpoint-forwarder.ts";
import { KubeApi } from "./kube-api.ts";
import type { IssuedCertificate } from "./pki.ts";

export interface ClusterMember {
  systemId: string;
  nodeName: string;
  address: string;
  /** The kube-apiserver's port on a control-plane member; undefined on a worker. */
  apiServerPort?: number;
  /** https://<address>:2379 on a control-plane member with a local etcd. */
  etcdClientUrl?: string;
  /** Its processes run (control plane) or its kubelet would (worker). */
  running: boolean;
}

export interface Cluster {
  /** "sha256:<hex>" of the cluster CA's public key. */
  key: string;
  name: string;
  /** ClusterConfiguration controlPlaneEndpoint as written ("" when unset). */
  controlPlaneEndpoint: string;
  caPem: string;
  /** CN kubernetes-super-admin, O system:masters: what the emulation writes the kubelet's and controllers' objects with. */
  admin: IssuedCertificate;
  members: Map<string, ClusterMember>;
  forwarder?: EndpointForwarder;
}

/** kubeadm's pubkeypin.Hash of a PEM certificate. */
export function caCertHash(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: "spki", format: "der" });
  return `sha256:${createHash("sha256").update(spki).digest("hex")}`;
}

/** "host:port" or "[v6]:port" split; the port is undefined when absent. */
export function splitEndpoint(endpoint: string): { host: string; port: number | undefined } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(endpoint);
  if (bracketed) return { host: bracketed[1] ?? "", port: bracketed[2] === undefined ? undefined : Number(bracketed[2]) };
  const at = endpoint.lastIndexOf(":");
  if (at < 0 || endpoint.indexOf(":") !== at) return { host: endpoint, port: undefined };
  return { host: endpoint.slice(0, at), port: Number(endpoint.slice(at + 1)) };
}

export class ClusterRegistry {
  private readonly clusters = new Map<string, Cluster>();

  get(key: string): Cluster | undefined {
    return this.clusters.get(key);
  }

  all(): Cluster[] {
    return [...this.clusters.values()];
  }

  /** A cluster kubeadm init just made: a cluster of the same CA whose machines are all gone is forgotten. */
  add(cluster: Omit<Cluster, "members" | "forwarder">): Cluster {
    const existing = this.clusters.get(cluster.key);
    if (existing !== undefined && existing.members.size > 0) {
      const names = [...existing.members.values()].map((m) => m.nodeName).join(", ");
      throw new Error(`a cluster with this CA already runs on ${names}; kubeadm init would start a second, separate cluster with the same CA (join it instead, or release those machines first)`);
    }
    const added: Cluster = { ...cluster, members: new Map() };
    this.clusters.set(cluster.key, added);
    return added;
  }

  memberOf(systemId: string): { cluster: Cluster; member: ClusterMember } | undefined {
    for (const cluster of this.clusters.values()) {
      const member = cluster.members.get(systemId);
      if (member !== undefined) return { cluster, member };
    }
    return undefined;
  }

  /** The machine leaves its cluster (released); the last one out closes the endpoint. */
  async removeMember(systemId: string): Promise<void> {
    const found = this.memberOf(systemId);
    if (found === undefined) return;
    found.cluster.members.delete(systemId);
    if (found.cluster.members.size === 0) {
      await found.cluster.forwarder?.close();
      found.cluster.forwarder = undefined;
    }
  }

  /** Live control-plane members, `except` one (the machine going down). */
  liveApiServers(cluster: Cluster, except?: string): ClusterMember[] {
    return [...cluster.members.values()].filter((m) => m.running && m.apiServerPort !== undefined && m.systemId !== except);
  }

  /** A superuser client of one live API server of the cluster, or undefined when none runs. */
  api(cluster: Cluster, options: { except?: string; signal?: AbortSignal } = {}): KubeApi | undefined {
    const member = this.liveApiServers(cluster, options.except)[0];
    if (member === undefined) return undefined;
    return new KubeApi({
      server: `https://${member.address}:${member.apiServerPort ?? 6443}`,
      identity: { caPem: cluster.caPem, certPem: cluster.admin.certPem, keyPem: cluster.admin.keyPem },
      signal: options.signal,
    });
  }

  /**
   * The cluster a joining node's discovery endpoint leads to: the one whose
   * controlPlaneEndpoint it is, else the one with a control-plane member at that
   * address and port; a DNS name is looked up among the simulator's DNS records.
   */
  findByEndpoint(endpoint: string, resolve: (name: string) => string[]): Cluster | undefined {
    const { host, port } = splitEndpoint(endpoint);
    for (const cluster of this.clusters.values()) {
      const own = splitEndpoint(cluster.controlPlaneEndpoint);
      if (own.host === host && (own.port ?? 6443) === (port ?? 6443)) return cluster;
    }
    const addresses = isIPv4(host) ? [host] : resolve(host);
    for (const cluster of this.clusters.values()) {
      const hit = [...cluster.members.values()].some((m) => m.apiServerPort !== undefined && addresses.includes(m.address) && m.apiServerPort === (port ?? 6443));
      if (hit) return cluster;
    }
    return undefined;
  }

  /**
   * Serves the cluster's controlPlaneEndpoint when it is a loopback IPv4 address that
   * no machine holds (`isMachineAddress`): a VIP only the simulator can answer.
   */
  async ensureEndpoint(cluster: Cluster, isMachineAddress: (ip: string) => boolean): Promise<void> {
    if (cluster.forwarder !== undefined || cluster.controlPlaneEndpoint === "") return;
    const { host, port } = splitEndpoint(cluster.controlPlaneEndpoint);
    if (!isIPv4(host) || !host.startsWith("127.") || isMachineAddress(host)) return;
    const backends = (): Backend[] => this.liveApiServers(cluster).map((m) => ({ host: m.address, port: m.apiServerPort ?? 6443 }));
    try {
      cluster.forwarder = await EndpointForwarder.listen(host, port ?? 6443, backends);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new Error(`cannot serve controlPlaneEndpoint ${cluster.controlPlaneEndpoint} (${code ?? (error as Error).message}); another cluster or program holds it, give this cluster an endpoint of its own`);
    }
  }

  async close(): Promise<void> {
    for (const cluster of this.clusters.values()) await cluster.forwarder?.close();
    this.clusters.clear();
  }
}
