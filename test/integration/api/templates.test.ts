// MaasMachineTemplate and MaasClusterTemplate against a real kube-apiserver: the embedded
// specs are validated like the objects they stamp out, and the autoscaler's capacity is
// status.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { CustomObjectsApi } from "@kubernetes/client-node";
import { useSharedTestEnv } from "../../testenv/index.ts";
import type { TestEnvHandle } from "../../testenv/index.ts";
import { API_VERSION } from "../../../src/api/v1beta1/index.ts";
import type {
  MaasClusterTemplateSpec,
  MaasMachineTemplateSpec,
  MaasMachineTemplateStatus,
} from "../../../src/api/v1beta1/index.ts";
import { MaasApi, assertRejected, createNamespace, deleteNamespace, parseTable } from "./api-client.ts";
import type { Stored } from "./api-client.ts";

type StoredMachineTemplate = Stored<MaasMachineTemplateSpec, MaasMachineTemplateStatus>;

function machineTemplate(name: string, spec: Record<string, unknown>, metadata?: object): object {
  return {
    apiVersion: API_VERSION,
    kind: "MaasMachineTemplate",
    metadata: { name },
    spec: { template: { ...(metadata ? { metadata } : {}), spec } },
  };
}

function clusterTemplate(name: string, spec: Record<string, unknown>): object {
  return { apiVersion: API_VERSION, kind: "MaasClusterTemplate", metadata: { name }, spec: { template: { spec } } };
}

describe("templates on the API server", () => {
  let env: TestEnvHandle;
  let namespace: string;
  let api: MaasApi;

  before(async () => {
    env = await useSharedTestEnv();
    namespace = await createNamespace(env.kubeConfig(), "api-templates");
    api = new MaasApi(env.kubeConfig(), namespace);
  });

  after(async () => {
    if (env) await deleteNamespace(env.kubeConfig(), namespace);
    await env?.stop();
  });

  describe("MaasMachineTemplate", () => {
    it("is accepted with metadata and spec, round-trips, and defaults ephemeral", async () => {
      const metadata = { labels: { role: "worker" }, annotations: { "example.com/note": "x" } };
      await api.create("maasmachinetemplates", machineTemplate("workers", { minCPU: 4, minMemory: 8192, image: "noble", tags: ["w"] }, metadata));
      const got = await api.get<StoredMachineTemplate>("maasmachinetemplates", "workers");
      assert.deepEqual(got.spec.template, {
        metadata,
        spec: { minCPU: 4, minMemory: 8192, image: "noble", tags: ["w"], ephemeral: false, releasePolicy: "none" },
      });
    });

    it("refuses an invalid embedded spec, naming the field", async () => {
      await assertRejected(api.create("maasmachinetemplates", machineTemplate("bad", { minCPU: -1, minMemory: 1, image: "jammy" })), [
        "spec.template.spec.minCPU",
      ]);
      await assertRejected(
        api.create("maasmachinetemplates", machineTemplate("bad", { minCPU: 1, minMemory: 1, image: "jammy", ephemeral: true, deployInMemory: false })),
        ["spec.template.spec.deployInMemory", "contradicts deployInMemory: false"],
      );
    });

    it("takes the autoscaler's capacity as status, without touching spec", async () => {
      await api.create("maasmachinetemplates", machineTemplate("capacity", { minCPU: 4, minMemory: 8192, image: "jammy" }));
      const status: MaasMachineTemplateStatus = {
        capacity: { cpu: "4", memory: "8192Mi" },
        nodeInfo: { architecture: "amd64", operatingSystem: "linux" },
      };
      const written = await api.patchStatus<StoredMachineTemplate>("maasmachinetemplates", "capacity", {
        spec: { template: { spec: { minCPU: 99 } } },
        status,
      });
      assert.deepEqual(written.status, status);
      assert.equal(written.spec.template.spec.minCPU, 4);
      await assertRejected(api.patchStatus("maasmachinetemplates", "capacity", { status: { capacity: { memory: "lots" } } }), [
        "status.capacity.memory",
      ]);
    });

    it("shows image, CPU, memory and ephemeral in kubectl get", async () => {
      await api.create("maasmachinetemplates", machineTemplate("shown", { minCPU: 2, minMemory: 2048, image: "ubuntu/jammy", ephemeral: true, resourcePool: "p1" }));
      const result = await env.kubectl(["get", "maasmt", "shown", "-n", namespace, "-o", "wide"]);
      assert.equal(result.code, 0, result.stderr);
      const [row] = parseTable(result.stdout, ["NAME", "IMAGE", "MIN CPU", "MIN MEMORY", "EPHEMERAL", "POOL", "AGE"]);
      assert.ok(row, result.stdout);
      assert.deepEqual(Object.fromEntries([...row].filter(([k]) => k !== "AGE")), {
        NAME: "shown",
        IMAGE: "ubuntu/jammy",
        "MIN CPU": "2",
        "MIN MEMORY": "2048",
        EPHEMERAL: "true",
        POOL: "p1",
      });
    });
  });

  describe("MaasClusterTemplate", () => {
    it("is accepted and round-trips", async () => {
      await api.create("maasclustertemplates", clusterTemplate("cc", { dnsDomain: "maas", failureDomains: ["az1"] }));
      const got = await api.get<Stored<MaasClusterTemplateSpec>>("maasclustertemplates", "cc");
      assert.deepEqual(got.spec, { template: { spec: { dnsDomain: "maas", failureDomains: ["az1"] } } });
    });

    it("refuses a template without dnsDomain, naming the field", async () => {
      await assertRejected(api.create("maasclustertemplates", clusterTemplate("bad", {})), ["spec.template.spec.dnsDomain", "Required value"]);
    });

    it("is accepted as a CAPI v1beta2 ClusterClass's infrastructure, with a MaasMachineTemplate for its workers", async () => {
      await api.create("maasclustertemplates", clusterTemplate("class-infra", { dnsDomain: "maas" }));
      await api.create("maasmachinetemplates", machineTemplate("class-workers", { minCPU: 2, minMemory: 4096, image: "jammy" }));
      const ref = (kind: string, name: string) => ({ apiVersion: API_VERSION, kind, name });
      const clusterClass = {
        apiVersion: "cluster.x-k8s.io/v1beta2",
        kind: "ClusterClass",
        metadata: { name: "maas" },
        spec: {
          infrastructure: { templateRef: ref("MaasClusterTemplate", "class-infra") },
          controlPlane: {
            templateRef: { apiVersion: "controlplane.cluster.x-k8s.io/v1beta2", kind: "KubeadmControlPlaneTemplate", name: "cp" },
            machineInfrastructure: { templateRef: ref("MaasMachineTemplate", "class-workers") },
          },
          workers: {
            machineDeployments: [
              {
                class: "default-worker",
                bootstrap: { templateRef: { apiVersion: "bootstrap.cluster.x-k8s.io/v1beta2", kind: "KubeadmConfigTemplate", name: "w" } },
                infrastructure: { templateRef: ref("MaasMachineTemplate", "class-workers") },
              },
            ],
          },
        },
      };
      const custom = env.kubeConfig().makeApiClient(CustomObjectsApi);
      const coordinates = { group: "cluster.x-k8s.io", version: "v1beta2", namespace, plural: "clusterclasses" };
      await custom.createNamespacedCustomObject({ ...coordinates, body: clusterClass });
      const got = (await custom.getNamespacedCustomObject({ ...coordinates, name: "maas" })) as { spec: typeof clusterClass.spec };
      assert.deepEqual(got.spec.infrastructure.templateRef, ref("MaasClusterTemplate", "class-infra"));
      assert.deepEqual(got.spec.workers.machineDeployments[0]?.infrastructure.templateRef, ref("MaasMachineTemplate", "class-workers"));
      // The references resolve to our objects by their apiVersion and kind.
      assert.equal((await api.get<Stored<MaasClusterTemplateSpec>>("maasclustertemplates", "class-infra")).spec.template.spec.dnsDomain, "maas");
    });

    it("shows the DNS domain in kubectl get", async () => {
      const result = await env.kubectl(["get", "maasct", "cc", "-n", namespace]);
      assert.equal(result.code, 0, result.stderr);
      const [row] = parseTable(result.stdout, ["NAME", "DNS DOMAIN", "AGE"]);
      assert.equal(row?.get("DNS DOMAIN"), "maas", result.stdout);
    });
  });
});
