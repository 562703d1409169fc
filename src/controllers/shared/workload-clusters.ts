// Clients for workload clusters, built from the `<cluster>-kubeconfig` Secret CAPI
// writes (key `value`). One cached client per cluster, rebuilt when the kubeconfig
// changes and closed when the cluster goes (or the manager stops).
import { createHash } from "node:crypto";
import { KubeConfig } from "@kubernetes/client-node";
import { decodeBootstrapData, type Secret } from "../../capi/index.ts";
import { KubeClient, KubeTransport, type Informer } from "../../runtime/index.ts";

interface Entry {
  hash: string;
  client: KubeClient;
}

export class WorkloadClusters {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly secrets: Informer<Secret>) {}

  /** The workload cluster's client, or undefined while its kubeconfig Secret does not exist. */
  client(namespace: string, clusterName: string): KubeClient | undefined {
    const key = `${namespace}/${clusterName}`;
    const secret = this.secrets.get(namespace, `${clusterName}-kubeconfig`);
    if (secret?.data?.value === undefined) {
      this.forget(namespace, clusterName);
      return undefined;
    }
    const hash = createHash("sha256").update(secret.data.value).digest("hex");
    const existing = this.entries.get(key);
    if (existing?.hash === hash) return existing.client;
    if (existing !== undefined) void existing.client.transport.close();
    const kubeConfig = new KubeConfig();
    // The Secret's value is a kubeconfig, base64 like any Secret value.
    kubeConfig.loadFromString(decodeBootstrapData(secret));
    const client = new KubeClient({ transport: new KubeTransport({ kubeConfig }), fieldManager: "capi-maas-manager" });
    this.entries.set(key, { hash, client });
    return client;
  }

  forget(namespace: string, clusterName: string): void {
    const key = `${namespace}/${clusterName}`;
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    void entry.client.transport.close();
  }

  get size(): number {
    return this.entries.size;
  }

  async close(): Promise<void> {
    const entries = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(entries.map((e) => e.client.transport.close()));
  }
}
