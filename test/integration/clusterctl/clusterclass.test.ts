// The ClusterClass maas (templates/clusterclass-maas.yaml) and the topology flavor. The
// API server accepts them (its templates applied for real first, in a namespace of
// this test's own); then the real Cluster API core manager's topology controller builds
// Clusters from the class, and the objects it writes show that the variables and their
// control-plane overrides patch each side: memory or disk, sizes, images, pools, tags,
// the DNS domain and the Kubernetes version of the install step.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { stringify } from "yaml";
import { startCapiManagers, type CapiManagers } from "../../testenv/capi-managers.ts";
import { useSharedTestEnv, type TestEnvHandle } from "../../testenv/index.ts";
import { ClusterctlSandbox, SPEC_VARIABLES, at, parseObjects, templatesDir, type GeneratedObject } from "./clusterctl-harness.ts";

const WATCH_FILTER_LABEL = "cluster.x-k8s.io/watch-filter";

function yamlStream(objects: readonly GeneratedObject[]): string {
  return objects.map((o) => stringify(o)).join("---\n");
}

function withLabel(objects: readonly GeneratedObject[], key: string, value: string): GeneratedObject[] {
  return objects.map((o) => ({ ...o, metadata: { ...o.metadata, labels: { ...o.metadata.labels, [key]: value } } }));
}

async function poll<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe("the ClusterClass maas and the topology flavor", () => {
  let env: TestEnvHandle;
  let sandbox: ClusterctlSandbox;
  let classObjects: GeneratedObject[];
  const namespace = `clusterclass-${randomBytes(3).toString("hex")}`;
  const filter = `clusterclass-${randomBytes(3).toString("hex")}`;

  before(async () => {
    env = await useSharedTestEnv();
    sandbox = await ClusterctlSandbox.create();
    classObjects = parseObjects(await readFile(join(templatesDir, "clusterclass-maas.yaml"), "utf8"));
    const created = await env.kubectl(["create", "namespace", namespace]);
    assert.equal(created.code, 0, created.stderr);
  });
  after(async () => {
    // Without kube-controller-manager the namespace stays Terminating; its name is ours alone.
    await env.kubectl(["delete", "namespace", namespace, "--wait=false"]);
    await sandbox.remove();
    await env.stop();
  });

  async function kubectlOk(args: string[], input?: string): Promise<string> {
    const result = await env.kubectl(args, input === undefined ? {} : { input });
    assert.equal(result.code, 0, `kubectl ${args.join(" ")}: ${result.stderr}`);
    return result.stdout;
  }

  async function generateTopology(name: string, variables: Record<string, string>): Promise<GeneratedObject[]> {
    const result = await sandbox.generate("topology", variables, { name, namespace });
    assert.equal(result.code, 0, result.stderr);
    return parseObjects(result.stdout);
  }

  it("references only templates that exist, and the ClusterClass and a topology Cluster pass a server dry run", async () => {
    const templates = classObjects.filter((o) => o.kind !== "ClusterClass");
    const clusterClass = classObjects.filter((o) => o.kind === "ClusterClass");
    assert.equal(clusterClass.length, 1);
    assert.equal(clusterClass[0]?.metadata.name, "maas");

    // Every templateRef of the class names one of the templates in the same file.
    const refs: unknown[] = [
      at(clusterClass[0], "spec", "infrastructure", "templateRef"),
      at(clusterClass[0], "spec", "controlPlane", "templateRef"),
      at(clusterClass[0], "spec", "controlPlane", "machineInfrastructure", "templateRef"),
      ...(at(clusterClass[0], "spec", "workers", "machineDeployments") as unknown[]).flatMap((md) => [at(md, "bootstrap", "templateRef"), at(md, "infrastructure", "templateRef")]),
    ];
    for (const ref of refs) {
      const target = templates.find((t) => t.apiVersion === at(ref, "apiVersion") && t.kind === at(ref, "kind") && t.metadata.name === at(ref, "name"));
      assert.ok(target !== undefined, `templateRef ${JSON.stringify(ref)} names no template in clusterclass-maas.yaml`);
    }

    // The class installs Kubernetes with the very script the flavors carry.
    const script = (spec: unknown): unknown => (at(spec, "files") as { path: string; content: string }[] | undefined)?.find((f) => f.path === "/usr/local/sbin/capmaas-install-kubernetes")?.content;
    const flavorKcp = parseObjects(await readFile(join(templatesDir, "cluster-template.yaml"), "utf8")).find((o) => o.kind === "KubeadmControlPlane");
    const flavorScript = script(at(flavorKcp, "spec", "kubeadmConfigSpec"));
    assert.equal(typeof flavorScript, "string");
    assert.equal(script(at(templates.find((t) => t.kind === "KubeadmControlPlaneTemplate"), "spec", "template", "spec", "kubeadmConfigSpec")), flavorScript);
    assert.equal(script(at(templates.find((t) => t.kind === "KubeadmConfigTemplate"), "spec", "template", "spec")), flavorScript);

    const applied = await kubectlOk(["apply", "-n", namespace, "-f", "-"], yamlStream(templates));
    assert.equal(applied.split("\n").filter((l) => l.endsWith(" created")).length, templates.length, applied);
    const dryClass = await kubectlOk(["apply", "-n", namespace, "--dry-run=server", "-f", "-"], yamlStream(clusterClass));
    assert.match(dryClass, /clusterclass\.cluster\.x-k8s\.io\/maas created \(server dry run\)/);

    const cluster = await generateTopology("dry", SPEC_VARIABLES);
    assert.deepEqual(cluster.map((o) => o.kind), ["Cluster"]);
    assert.equal(at(cluster[0], "spec", "topology", "classRef", "name"), "maas");
    const dryCluster = await kubectlOk(["apply", "--dry-run=server", "-f", "-"], yamlStream(cluster));
    assert.match(dryCluster, /cluster\.cluster\.x-k8s\.io\/dry created \(server dry run\)/);
  });

  describe("with the Cluster API topology controller", () => {
    let managers: CapiManagers | undefined;
    before(async () => {
      managers = await startCapiManagers({
        kubeconfigPath: env.kubeconfigPath,
        managers: ["core"],
        featureGates: ["ClusterTopology=true"],
        // Only this file's Clusters and ClusterClass: the shared control plane holds others'.
        extraArgs: { core: [`--watch-filter=${filter}`] },
      });
      await kubectlOk(["apply", "-n", namespace, "-f", "-"], yamlStream(withLabel(classObjects, WATCH_FILTER_LABEL, filter)));
    });
    after(async () => {
      await managers?.stop();
    });

    async function getJson(kind: string, name: string): Promise<GeneratedObject> {
      return JSON.parse(await kubectlOk(["get", "-n", namespace, kind, name, "-o", "json"])) as GeneratedObject;
    }

    async function listJson(kind: string, cluster: string): Promise<GeneratedObject[]> {
      const out = await kubectlOk(["get", "-n", namespace, kind, "-l", `cluster.x-k8s.io/cluster-name=${cluster}`, "-o", "json"]);
      return (JSON.parse(out) as { items: GeneratedObject[] }).items;
    }

    /** Applies a topology Cluster and returns the machine templates the controller wrote for each side. */
    async function buildCluster(name: string, variables: Record<string, string>) {
      const objects = withLabel(await generateTopology(name, variables), WATCH_FILTER_LABEL, filter);
      await kubectlOk(["apply", "-f", "-"], yamlStream(objects));
      const [kcp, md, maasCluster] = await poll(`the topology objects of ${name}`, async () => {
        const found = await Promise.all([listJson("kubeadmcontrolplanes", name), listJson("machinedeployments", name), listJson("maasclusters", name)]);
        return found.every((items) => items.length === 1) ? found.map((items) => items[0] as GeneratedObject) : undefined;
      }, 90_000).catch(async (err: unknown) => {
        throw new Error(`${String(err)}\ncore manager log (tail):\n${(await managers?.log("core") ?? "").slice(-4000)}`);
      });
      const controlPlane = await getJson("maasmachinetemplates", String(at(kcp, "spec", "machineTemplate", "spec", "infrastructureRef", "name")));
      const workers = await getJson("maasmachinetemplates", String(at(md, "spec", "template", "spec", "infrastructureRef", "name")));
      return { kcp, md, maasCluster, controlPlane, workers };
    }

    const machineSpec = (template: GeneratedObject): unknown => at(template, "spec", "template", "spec");

    it("puts only the control plane into memory when CONTROL_PLANE_MACHINE_EPHEMERAL=true (the hybrid layout), with the spec's sizes", async () => {
      const built = await buildCluster("hy", { ...SPEC_VARIABLES, CONTROL_PLANE_MACHINE_EPHEMERAL: "true" });
      assert.deepEqual(machineSpec(built.controlPlane), {
        minCPU: 2, minMemory: 4096, image: "ubuntu/focal", resourcePool: "default", tags: ["control-plane"], ephemeral: true, releasePolicy: "none",
      });
      assert.deepEqual(machineSpec(built.workers), {
        minCPU: 2, minMemory: 4096, image: "ubuntu/focal", resourcePool: "default", tags: ["worker"], ephemeral: false, releasePolicy: "none",
      });
      assert.equal(at(built.maasCluster, "spec", "dnsDomain"), "example.com");
      assert.equal(at(built.kcp, "spec", "replicas"), 1);
      assert.equal(at(built.md, "spec", "replicas"), 2);
      assert.deepEqual(at(built.kcp, "spec", "kubeadmConfigSpec", "preKubeadmCommands"), ['/usr/local/sbin/capmaas-install-kubernetes "v1.28.0"']);
    });

    it("puts only the workers into memory when WORKER_MACHINE_EPHEMERAL=true, and each side keeps its own values", async () => {
      const built = await buildCluster("wk", {
        ...SPEC_VARIABLES,
        WORKER_MACHINE_EPHEMERAL: "true",
        WORKER_MACHINE_IMAGE: "ubuntu/noble",
        WORKER_MACHINE_MINCPU: "8",
        WORKER_MACHINE_MINMEMORY: "16384",
        WORKER_MACHINE_RESOURCEPOOL: "workers",
        CONTROL_PLANE_MACHINE_RESOURCEPOOL: "control",
        DNS_DOMAIN: "maas.test",
      });
      assert.deepEqual(machineSpec(built.controlPlane), {
        minCPU: 2, minMemory: 4096, image: "ubuntu/focal", resourcePool: "control", tags: ["control-plane"], ephemeral: false, releasePolicy: "none",
      });
      assert.deepEqual(machineSpec(built.workers), {
        minCPU: 8, minMemory: 16384, image: "ubuntu/noble", resourcePool: "workers", tags: ["worker"], ephemeral: true, releasePolicy: "none",
      });
      assert.equal(at(built.maasCluster, "spec", "dnsDomain"), "maas.test");
    });
  });
});
