// With the real kubeadm bootstrap and control-plane managers: a KubeadmControlPlane on an
// ephemeral MaasMachineTemplate deploys its machine into memory with kubeadm's own
// cloud-init, behind the MAAS DNS name our MaasCluster made; a MachineDeployment on a
// disk template makes disk MaasMachines. kubeadm join data needs a control plane that
// answers, which simulated machines do not run yet: the second test points the cluster's
// endpoint at the test control plane, and the workers then deploy to disk.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { API_VERSION, MAAS_CLUSTER, MAAS_MACHINE, MAAS_MACHINE_TEMPLATE, kindSpec, type KubeObject, type MaasMachine } from "../../../src/api/v1beta1/index.ts";
import { CAPI_CLUSTER, SECRET } from "../../../src/capi/index.ts";
import { Testbed, createNamespace, waitFor } from "./provider-harness.ts";

const KCP = kindSpec<KubeObject>({ group: "controlplane.cluster.x-k8s.io", version: "v1beta2", kind: "KubeadmControlPlane", plural: "kubeadmcontrolplanes", namespaced: true });
const MD = kindSpec<KubeObject>({ group: "cluster.x-k8s.io", version: "v1beta2", kind: "MachineDeployment", plural: "machinedeployments", namespaced: true });
const CONFIG_MAP = kindSpec<KubeObject>({ group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true });
const KCT = kindSpec<KubeObject>({ group: "bootstrap.cluster.x-k8s.io", version: "v1beta2", kind: "KubeadmConfigTemplate", plural: "kubeadmconfigtemplates", namespaced: true });
const INFRA = "infrastructure.cluster.x-k8s.io";

describe("MaasMachines made by the kubeadm control plane and a MachineDeployment", () => {
  const bed = new Testbed({ prefix: "mm-kubeadm", capiManagers: ["core", "kubeadm-bootstrap", "kubeadm-control-plane"] });
  before(() => bed.start());
  after(() => bed.stop());

  /** Templates, Cluster, MaasCluster, KubeadmControlPlane (1, in memory) and a MachineDeployment (2, on disk). */
  async function createCluster(ns: string, name: string, maasClusterSpec: Record<string, unknown>): Promise<void> {
    const labels = { "cluster.x-k8s.io/watch-filter": bed.filter };
    for (const kind of [KCP, MD, KCT]) bed.client.registerKind(kind);
    for (const [template, ephemeral] of [["cp", true], ["md", false]] as const) {
      await bed.client.create(MAAS_MACHINE_TEMPLATE, {
        apiVersion: API_VERSION,
        kind: "MaasMachineTemplate",
        metadata: { name: template, namespace: ns, labels },
        spec: { template: { spec: { minCPU: 2, minMemory: 4096, image: "ubuntu/jammy", ephemeral, tags: [ephemeral ? "control-plane" : "worker"] } } },
      });
    }
    await bed.client.create(CAPI_CLUSTER, {
      apiVersion: "cluster.x-k8s.io/v1beta2",
      kind: "Cluster",
      metadata: { name, namespace: ns, labels },
      spec: {
        controlPlaneRef: { apiGroup: "controlplane.cluster.x-k8s.io", kind: "KubeadmControlPlane", name: `${name}-cp` },
        infrastructureRef: { apiGroup: INFRA, kind: "MaasCluster", name },
      },
    });
    await bed.client.create(MAAS_CLUSTER, { apiVersion: API_VERSION, kind: "MaasCluster", metadata: { name, namespace: ns, labels }, spec: { dnsDomain: "maas.test", failureDomains: ["zone-a", "zone-b"], ...maasClusterSpec } } as KubeObject);
    await bed.client.create(KCP, {
      apiVersion: "controlplane.cluster.x-k8s.io/v1beta2",
      kind: "KubeadmControlPlane",
      metadata: { name: `${name}-cp`, namespace: ns, labels },
      spec: {
        replicas: 1,
        version: "v1.34.2",
        machineTemplate: { metadata: { labels }, spec: { infrastructureRef: { apiGroup: INFRA, kind: "MaasMachineTemplate", name: "cp" } } },
        kubeadmConfigSpec: { format: "cloud-config" },
      },
    } as KubeObject);
    await bed.client.create(KCT, {
      apiVersion: "bootstrap.cluster.x-k8s.io/v1beta2",
      kind: "KubeadmConfigTemplate",
      metadata: { name: "md", namespace: ns, labels },
      spec: { template: { spec: { format: "cloud-config" } } },
    } as KubeObject);
    const selector = { "cluster.x-k8s.io/cluster-name": name, "cluster.x-k8s.io/deployment-name": `${name}-md` };
    await bed.client.create(MD, {
      apiVersion: "cluster.x-k8s.io/v1beta2",
      kind: "MachineDeployment",
      metadata: { name: `${name}-md`, namespace: ns, labels },
      spec: {
        clusterName: name,
        replicas: 2,
        // What CAPI's defaulting webhook would set (its webhooks are not registered here).
        rollout: { strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } },
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: { ...selector, ...labels } },
          spec: {
            clusterName: name,
            version: "v1.34.2",
            bootstrap: { configRef: { apiGroup: "bootstrap.cluster.x-k8s.io", kind: "KubeadmConfigTemplate", name: "md" } },
            infrastructureRef: { apiGroup: INFRA, kind: "MaasMachineTemplate", name: "md" },
          },
        },
      },
    } as KubeObject);
  }

  const isReady = (m: MaasMachine): boolean => m.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
  const userDataOf = (systemId: string | undefined): string => {
    const deploy = bed.sim.requestLog().findLast((e) => e.op === "deploy" && e.path.endsWith(`/${systemId ?? ""}/`));
    return Buffer.from(String(deploy?.params.user_data ?? ""), "base64").toString("utf8");
  };

  it("deploys the control-plane machine into memory with kubeadm's cloud-init, and makes disk MaasMachines for the workers", async () => {
    const ns = await createNamespace(bed.client, "mm-kubeadm");
    await createCluster(ns, "kc", {});

    const maasCluster = await waitFor("the MaasCluster's DNS endpoint", async () => {
      const c = await bed.client.get(MAAS_CLUSTER, { namespace: ns, name: "kc" });
      return c.status?.initialization?.provisioned === true ? c : undefined;
    });
    assert.deepEqual(maasCluster.spec.controlPlaneEndpoint, { host: "kc.maas.test", port: 6443 });

    const controlPlane = await waitFor("the control-plane MaasMachine Ready", async () => {
      const list = await bed.client.list(MAAS_MACHINE, { namespace: ns });
      return list.items.find((m) => m.metadata.labels?.["cluster.x-k8s.io/control-plane"] !== undefined && isReady(m));
    }, 120_000);
    assert.equal(controlPlane.spec.ephemeral, true);
    assert.equal(controlPlane.status?.deploymentTarget, "memory");
    const deploy = bed.sim.requestLog().findLast((e) => e.op === "deploy" && e.path.endsWith(`/${controlPlane.spec.systemID ?? ""}/`));
    assert.equal(deploy?.params.ephemeral_deploy, "true");
    const cloudInit = userDataOf(controlPlane.spec.systemID);
    assert.match(cloudInit, /kubeadm init/);
    assert.match(cloudInit, /kc\.maas\.test:6443/);

    const workers = await waitFor("two worker MaasMachines", async () => {
      const list = await bed.client.list(MAAS_MACHINE, { namespace: ns });
      const found = list.items.filter((m) => m.metadata.labels?.["cluster.x-k8s.io/deployment-name"] === "kc-md");
      return found.length === 2 ? found : undefined;
    }, 90_000);
    for (const worker of workers) {
      assert.equal(worker.spec.ephemeral, false);
      assert.deepEqual(worker.spec.tags, ["worker"]);
    }
    const dns = bed.sim.state().dnsResources.find((r) => r.name === "kc");
    assert.ok(dns !== undefined, "the MAAS DNS resource kc.maas.test exists");
  });

  describe("when the control plane answers (a user-given endpoint the test control plane serves)", () => {
    it("deploys the workers to disk with kubeadm's join data once KCP sees the control plane initialized", async () => {
      const ns = await createNamespace(bed.client, "mm-kubeadm-join");
      // The workload cluster is the test control plane itself: KCP gets its CA (so the
      // kubeconfig KCP writes is trusted there) and finds what kubeadm init leaves behind.
      const dir = dirname(bed.env.kubeconfigPath);
      const [caCrt, caKey] = await Promise.all([readFile(join(dir, "ca.crt")), readFile(join(dir, "ca.key"))]);
      await bed.client.create(SECRET, {
        apiVersion: "v1",
        kind: "Secret",
        type: "cluster.x-k8s.io/secret",
        metadata: { name: "kj-ca", namespace: ns, labels: { "cluster.x-k8s.io/cluster-name": "kj" } },
        data: { "tls.crt": caCrt.toString("base64"), "tls.key": caKey.toString("base64") },
      });
      await bed.client.create(CONFIG_MAP, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "kubeadm-config", namespace: "kube-system" }, data: { ClusterConfiguration: "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n" } } as KubeObject).catch(() => undefined);
      const server = new URL(bed.env.server);
      await createCluster(ns, "kj", { controlPlaneEndpoint: { host: server.hostname, port: Number(server.port) } });

      const workers = await waitFor("both workers Ready", async () => {
        const list = await bed.client.list(MAAS_MACHINE, { namespace: ns });
        const found = list.items.filter((m) => m.metadata.labels?.["cluster.x-k8s.io/deployment-name"] === "kj-md" && isReady(m));
        return found.length === 2 ? found : undefined;
      }, 180_000);
      for (const worker of workers) {
        assert.equal(worker.status?.deploymentTarget, "disk");
        assert.match(userDataOf(worker.spec.systemID), /kubeadm join/);
        const deploy = bed.sim.requestLog().findLast((e) => e.op === "deploy" && e.path.endsWith(`/${worker.spec.systemID ?? ""}/`));
        assert.equal(deploy?.params.ephemeral_deploy, undefined);
      }
    });
  });
});
