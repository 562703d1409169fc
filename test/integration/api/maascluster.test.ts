// MaasCluster against a real kube-apiserver, and a CAPI v1beta2 Cluster pointing at one.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { CustomObjectsApi } from "@kubernetes/client-node";
import { useSharedTestEnv } from "../../testenv/index.ts";
import type { TestEnvHandle } from "../../testenv/index.ts";
import { API_VERSION, GROUP } from "../../../src/api/v1beta1/index.ts";
import type { MaasClusterSpec, MaasClusterStatus } from "../../../src/api/v1beta1/index.ts";
import { MaasApi, assertRejected, createNamespace, deleteNamespace, parseTable } from "./api-client.ts";
import type { Stored } from "./api-client.ts";

type StoredCluster = Stored<MaasClusterSpec, MaasClusterStatus>;

function maasCluster(name: string, spec: Record<string, unknown>, labels: Record<string, string> = {}): object {
  return { apiVersion: API_VERSION, kind: "MaasCluster", metadata: { name, labels }, spec };
}

describe("MaasCluster on the API server", () => {
  let env: TestEnvHandle;
  let namespace: string;
  let api: MaasApi;

  before(async () => {
    env = await useSharedTestEnv();
    namespace = await createNamespace(env.kubeConfig(), "api-maascluster");
    api = new MaasApi(env.kubeConfig(), namespace);
  });

  after(async () => {
    if (env) await deleteNamespace(env.kubeConfig(), namespace);
    await env?.stop();
  });

  it("accepts a valid object and reads it back as written", async () => {
    const spec: MaasClusterSpec = {
      dnsDomain: "maas.example.com",
      controlPlaneEndpoint: { host: "c1.maas.example.com", port: 6443 },
      failureDomains: ["az1", "az2"],
    };
    await api.create("maasclusters", maasCluster("full", spec));
    assert.deepEqual((await api.get<StoredCluster>("maasclusters", "full")).spec, spec);
  });

  describe("refuses, naming the field", () => {
    const cases: [string, Record<string, unknown>, string[]][] = [
      ["a missing dnsDomain", {}, ["spec.dnsDomain", "Required value"]],
      ["a dnsDomain that is not a DNS name", { dnsDomain: "Not_A_Domain" }, ["spec.dnsDomain", "should match"]],
      ["port 0", { dnsDomain: "maas", controlPlaneEndpoint: { host: "h", port: 0 } }, ["spec.controlPlaneEndpoint.port"]],
      ["port 70000", { dnsDomain: "maas", controlPlaneEndpoint: { host: "h", port: 70000 } }, ["spec.controlPlaneEndpoint.port"]],
      ["an empty endpoint", { dnsDomain: "maas", controlPlaneEndpoint: {} }, ["spec.controlPlaneEndpoint"]],
      ["duplicate zones", { dnsDomain: "maas", failureDomains: ["az1", "az1"] }, ["spec.failureDomains[1]", "Duplicate value"]],
    ];
    for (const [name, spec, fragments] of cases) {
      it(name, async () => {
        await assertRejected(api.create("maasclusters", maasCluster("bad", spec)), fragments);
      });
    }
  });

  describe("the status subresource", () => {
    const status: MaasClusterStatus = {
      ready: true,
      initialization: { provisioned: true },
      dnsName: "c1.maas",
      failureDomains: [
        { name: "az1", controlPlane: true, attributes: { rack: "r1" } },
        { name: "az2", controlPlane: false },
      ],
      conditions: [{ type: "Ready", status: "True", reason: "Ready", message: "", lastTransitionTime: "2025-01-02T03:04:05Z" }],
    };

    it("keeps failure domains in the CAPI v1beta2 list shape and leaves spec alone", async () => {
      await api.create("maasclusters", maasCluster("status", { dnsDomain: "maas" }));
      const written = await api.patchStatus<StoredCluster>("maasclusters", "status", { spec: { dnsDomain: "other" }, status });
      assert.deepEqual(written.status, status);
      assert.equal(written.spec.dnsDomain, "maas");
    });

    it("leaves status alone on a spec write", async () => {
      const written = await api.patch<StoredCluster>("maasclusters", "status", {
        spec: { controlPlaneEndpoint: { host: "c1.maas", port: 6443 } },
        status: { dnsName: "changed" },
      });
      assert.equal(written.status?.dnsName, "c1.maas");
      assert.equal(written.spec.controlPlaneEndpoint?.port, 6443);
    });

    it("refuses failure domains in the old map shape and duplicate names", async () => {
      await assertRejected(api.patchStatus("maasclusters", "status", { status: { failureDomains: { az1: {} } } }), [
        "status.failureDomains",
        "must be of type array",
      ]);
      await assertRejected(
        api.patchStatus("maasclusters", "status", { status: { failureDomains: [{ name: "az1" }, { name: "az1" }] } }),
        ["status.failureDomains[1]", "Duplicate value"],
      );
    });
  });

  it("shows its printer columns in kubectl get -o wide", async () => {
    await api.create(
      "maasclusters",
      maasCluster("shown", { dnsDomain: "maas", controlPlaneEndpoint: { host: "c1.maas", port: 6443 } }, {
        "cluster.x-k8s.io/cluster-name": "c1",
      }),
    );
    await api.patchStatus("maasclusters", "shown", {
      status: {
        dnsName: "c1.maas",
        conditions: [{ type: "Ready", status: "False", reason: "NotReady", message: "", lastTransitionTime: "2025-01-02T03:04:05Z" }],
      },
    });
    const result = await env.kubectl(["get", "maasc", "shown", "-n", namespace, "-o", "wide"]);
    assert.equal(result.code, 0, result.stderr);
    const headers = ["NAME", "CLUSTER", "DNS NAME", "ENDPOINT", "PORT", "DNS DOMAIN", "READY", "AGE"];
    const [row] = parseTable(result.stdout, headers);
    assert.ok(row, result.stdout);
    assert.deepEqual(Object.fromEntries([...row].filter(([k]) => k !== "AGE")), {
      NAME: "shown",
      CLUSTER: "c1",
      "DNS NAME": "c1.maas",
      ENDPOINT: "c1.maas",
      PORT: "6443",
      "DNS DOMAIN": "maas",
      READY: "False",
    });
  });

  describe("a CAPI v1beta2 Cluster", () => {
    it("is accepted with an infrastructureRef to a MaasCluster and keeps the reference", async () => {
      await api.create("maasclusters", maasCluster("capi-infra", { dnsDomain: "maas" }));
      const custom = env.kubeConfig().makeApiClient(CustomObjectsApi);
      const ref = { apiGroup: GROUP, kind: "MaasCluster", name: "capi-infra" };
      await custom.createNamespacedCustomObject({
        group: "cluster.x-k8s.io",
        version: "v1beta2",
        namespace,
        plural: "clusters",
        body: {
          apiVersion: "cluster.x-k8s.io/v1beta2",
          kind: "Cluster",
          metadata: { name: "capi-infra" },
          spec: { infrastructureRef: ref },
        },
      });
      const got = (await custom.getNamespacedCustomObject({
        group: "cluster.x-k8s.io",
        version: "v1beta2",
        namespace,
        plural: "clusters",
        name: "capi-infra",
      })) as { apiVersion: string; spec: { infrastructureRef: unknown } };
      assert.equal(got.apiVersion, "cluster.x-k8s.io/v1beta2");
      assert.deepEqual(got.spec.infrastructureRef, ref);
    });
  });
});
