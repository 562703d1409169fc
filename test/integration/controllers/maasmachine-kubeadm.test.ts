// With the real kubeadm bootstrap and control-plane managers: a KubeadmControlPlane on an
// ephemeral MaasMachineTemplate deploys its machine into memory with kubeadm's own
// cloud-init, behind the MAAS DNS name our MaasCluster made; a MachineDeployment on a
// disk template makes disk MaasMachines. kubeadm join data needs a control plane that
// answers, which simulated machines do not run yet: the second test points the cluster's
// endpoint at the test control plane, and the workers then deploy to disk. The user data
// the simulator received is read back with src/sim/boot, as a booting machine would read it.
import assert from "node:assert/strict";
import { createHash, X509Certificate } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { API_VERSION, MAAS_CLUSTER, MAAS_MACHINE, MAAS_MACHINE_TEMPLATE, kindSpec, type KubeObject, type MaasMachine } from "../../../src/api/v1beta1/index.ts";
import { CAPI_CLUSTER, SECRET } from "../../../src/capi/index.ts";
import { readKubeadmConfig, readUserData, type KubeadmNode, type UserDataReading } from "../../../src/sim/boot/index.ts";
import { Testbed, createNamespace, waitFor } from "./provider-harness.ts";

const KCP = kindSpec<KubeObject>({ group: "controlplane.cluster.x-k8s.io", version: "v1beta2", kind: "KubeadmControlPlane", plural: "kubeadmcontrolplanes", namespaced: true });
const MD = kindSpec<KubeObject>({ group: "cluster.x-k8s.io", version: "v1beta2", kind: "MachineDeployment", plural: "machinedeployments", namespaced: true });
const CONFIG_MAP = kindSpec<KubeObject>({ group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true });
const KCT = kindSpec<KubeObject>({ group: "bootstrap.cluster.x-k8s.io", version: "v1beta2", kind: "KubeadmConfigTemplate", plural: "kubeadmconfigtemplates", namespaced: true });
const INFRA = "infrastructure.cluster.x-k8s.io";
const NODE_NAME = "{{ v1.local_hostname }}";
/** The files kubeadm init needs the cluster's CAs in (CABPK writes them for the first control-plane machine). */
const CA_FILES = ["ca.crt", "ca.key", "etcd/ca.crt", "etcd/ca.key", "front-proxy-ca.crt", "front-proxy-ca.key", "sa.pub", "sa.key"];

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
        // As the flavors write it: the Node is named like the MAAS machine.
        kubeadmConfigSpec: { format: "cloud-config", initConfiguration: { nodeRegistration: { name: NODE_NAME } }, joinConfiguration: { nodeRegistration: { name: NODE_NAME } } },
      },
    } as KubeObject);
    await bed.client.create(KCT, {
      apiVersion: "bootstrap.cluster.x-k8s.io/v1beta2",
      kind: "KubeadmConfigTemplate",
      metadata: { name: "md", namespace: ns, labels },
      spec: { template: { spec: { format: "cloud-config", joinConfiguration: { nodeRegistration: { name: NODE_NAME } } } } },
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

  /**
   * The user data the simulator stored for a machine, read as that machine's cloud-init
   * and kubeadm would. Assertions compare, never print, file contents: they hold CA keys.
   */
  function bootDataOf(systemId: string | undefined): { reading: Extract<UserDataReading, { kind: "kubeadm" }>; node: KubeadmNode; hostname: string } {
    const state = bed.sim.state();
    const machine = state.machines.find((m) => m.systemId === systemId);
    assert.ok(machine !== undefined, `machine ${systemId ?? ""} in the simulator`);
    const domain = state.domains.find((d) => d.id === machine.domainId)?.name ?? "maas";
    const reading = readUserData(machine.userData, { systemId: machine.systemId, fqdn: `${machine.hostname}.${domain}` });
    assert.equal(reading.kind, "kubeadm", reading.kind === "nothing-to-boot" ? reading.reason : "");
    const kubeadm = reading as Extract<UserDataReading, { kind: "kubeadm" }>;
    const config = kubeadm.files.get(kubeadm.kubeadm.configPath)?.content.toString("utf8") ?? "";
    const node = readKubeadmConfig(config, { phase: kubeadm.kubeadm.phase, source: kubeadm.kubeadm.configPath, hostname: machine.hostname });
    return { reading: kubeadm, node, hostname: machine.hostname };
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

    // What the machine would boot from: kubeadm init, named like the MAAS machine, with the cluster's CAs.
    const { reading, node, hostname } = bootDataOf(controlPlane.spec.systemID);
    assert.deepEqual(reading.kubeadm, { phase: "init", configPath: "/run/kubeadm/kubeadm.yaml", args: ["init", "--config", "/run/kubeadm/kubeadm.yaml"], where: "runcmd[0]", sentinelPath: "/run/cluster-api/bootstrap-success.complete" });
    assert.deepEqual([node.role, node.nodeRegistration.name, node.nodeName, node.nodeRegistration.taints], ["init", hostname, hostname, undefined]);
    assert.equal(node.apiVersion, "kubeadm.k8s.io/v1beta4");
    assert.deepEqual([node.cluster?.controlPlaneEndpoint, node.cluster?.clusterName, node.cluster?.kubernetesVersion], ["kc.maas.test:6443", "kc", "v1.34.2"]);
    // The document as written, for the kubeadm-config ConfigMap: its own lines, no "---".
    const clusterDoc = node.cluster?.documentYaml ?? "";
    assert.ok(/^apiVersion: kubeadm\.k8s\.io\/v1beta4$/m.test(clusterDoc) && /^kind: ClusterConfiguration$/m.test(clusterDoc) && !clusterDoc.startsWith("---"), "the ClusterConfiguration document");
    for (const name of CA_FILES) {
      const file = reading.files.get(`/etc/kubernetes/pki/${name}`);
      assert.ok(file !== undefined && file.content.length > 0, `${name} is written`);
      assert.equal(file.permissions, /\.(crt|pub)$/.test(name) ? 0o640 : 0o600, `${name} mode`);
    }
    const caSecret = await bed.client.get(SECRET, { namespace: ns, name: "kc-ca" });
    const caCrt = Buffer.from(String(caSecret.data?.["tls.crt"] ?? ""), "base64");
    assert.ok(reading.files.get("/etc/kubernetes/pki/ca.crt")?.content.equals(caCrt), "ca.crt is the cluster's CA from <cluster>-ca");

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
      const caHash = `sha256:${createHash("sha256").update(new X509Certificate(caCrt).publicKey.export({ type: "spki", format: "der" })).digest("hex")}`;
      for (const worker of workers) {
        assert.equal(worker.status?.deploymentTarget, "disk");
        assert.match(userDataOf(worker.spec.systemID), /kubeadm join/);
        // What the worker would boot from: kubeadm join with token discovery of this cluster, and no CA key.
        const { reading, node, hostname } = bootDataOf(worker.spec.systemID);
        assert.deepEqual([reading.kubeadm.phase, reading.kubeadm.configPath], ["join", "/run/kubeadm/kubeadm-join-config.yaml"]);
        assert.deepEqual([node.role, node.nodeRegistration.name, node.nodeName], ["worker-join", hostname, hostname]);
        assert.deepEqual(node.nodeRegistration.taints, [{ key: "node.cluster.x-k8s.io/uninitialized", value: "", effect: "NoSchedule" }]);
        const discovery = node.discovery?.bootstrapToken;
        assert.equal(discovery?.apiServerEndpoint, `${server.hostname}:${server.port}`);
        assert.ok(/^[a-z0-9]{6}\.[a-z0-9]{16}$/.test(discovery?.token ?? ""), "a bootstrap token");
        assert.deepEqual(discovery?.caCertHashes, [caHash]);
        assert.equal(reading.files.has("/etc/kubernetes/pki/ca.key"), false);
        const deploy = bed.sim.requestLog().findLast((e) => e.op === "deploy" && e.path.endsWith(`/${worker.spec.systemID ?? ""}/`));
        assert.equal(deploy?.params.ephemeral_deploy, undefined);
      }
    });
  });
});
