// MaasCluster and MaasClusterTemplate through the real kube-apiserver calling the
// provider's webhooks: port 6443 for a host given alone, an endpoint host that is not a
// host refused, zone names MAAS would refuse, dnsDomain fixed, the endpoint fixed once
// set, and everything a ClusterClass patches left mutable.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { API_VERSION, type MaasClusterSpec } from "../../../src/api/v1beta1/index.ts";
import { useSharedTestEnv, type TestEnvHandle } from "../../testenv/index.ts";
import { MaasApi, assertRejected, type Stored } from "../api/api-client.ts";
import { startWebhookFixture, type WebhookFixture } from "./support.ts";

type StoredCluster = Stored<MaasClusterSpec>;
type StoredClusterTemplate = Stored<{ template: { spec: MaasClusterSpec } }>;

function cluster(name: string, spec: Record<string, unknown> = {}): object {
  return { apiVersion: API_VERSION, kind: "MaasCluster", metadata: { name }, spec: { dnsDomain: "maas.test", ...spec } };
}

function clusterTemplate(name: string, spec: Record<string, unknown> = {}): object {
  return { apiVersion: API_VERSION, kind: "MaasClusterTemplate", metadata: { name }, spec: { template: { spec: { dnsDomain: "maas.test", ...spec } } } };
}

describe("MaasCluster admission", () => {
  let env: TestEnvHandle;
  let fixture: WebhookFixture;
  let api: MaasApi;
  let counter = 0;
  const fresh = (): string => `c${(counter += 1)}`;

  before(async () => {
    env = await useSharedTestEnv();
    fixture = await startWebhookFixture(env, "webhook-cluster");
    api = new MaasApi(env.kubeConfig(), fixture.namespace);
  });

  after(async () => {
    await fixture?.stop();
    await env?.stop();
  });

  describe("defaulting", () => {
    it("gives a control-plane endpoint host without a port the port 6443", async () => {
      const name = fresh();
      await api.create("maasclusters", cluster(name, { controlPlaneEndpoint: { host: "10.0.0.10" } }));
      assert.deepEqual((await api.get<StoredCluster>("maasclusters", name)).spec.controlPlaneEndpoint, { host: "10.0.0.10", port: 6443 });
    });

    it("keeps a port that was given", async () => {
      const name = fresh();
      await api.create("maasclusters", cluster(name, { controlPlaneEndpoint: { host: "vip.example.com", port: 8443 } }));
      assert.deepEqual((await api.get<StoredCluster>("maasclusters", name)).spec.controlPlaneEndpoint, { host: "vip.example.com", port: 8443 });
    });

    it("leaves an object without an endpoint without one (the controller fills it in)", async () => {
      const name = fresh();
      await api.create("maasclusters", cluster(name));
      assert.equal((await api.get<StoredCluster>("maasclusters", name)).spec.controlPlaneEndpoint, undefined);
    });
  });

  describe("values it refuses", () => {
    for (const [label, spec, fragments] of [
      ["a URL as the endpoint host", { controlPlaneEndpoint: { host: "https://10.0.0.1:6443" } }, ['spec.controlPlaneEndpoint.host: Invalid value: "https://10.0.0.1:6443"', "without a scheme or a port", "spec.controlPlaneEndpoint.port"]],
      ["host:port as the endpoint host", { controlPlaneEndpoint: { host: "vip.example.com:6443" } }, ["spec.controlPlaneEndpoint.host", "without a scheme or a port"]],
      ["a zone name with a dot", { failureDomains: ["zone-a", "rack.1"] }, ['spec.failureDomains[1]: Invalid value: "rack.1"', "only letters, digits, '-' and '_'"]],
    ] as const) {
      it(`refuses ${label}, naming the field and the fix`, async () => {
        await assertRejected(api.create("maasclusters", cluster(fresh(), spec)), fragments);
      });
    }

    for (const host of ["10.0.0.1", "fd00::10", "cp.example.com", "cp"]) {
      it(`accepts the endpoint host ${host}`, async () => {
        const name = fresh();
        await api.create("maasclusters", cluster(name, { controlPlaneEndpoint: { host } }));
        assert.equal((await api.get<StoredCluster>("maasclusters", name)).spec.controlPlaneEndpoint?.host, host);
      });
    }
  });

  describe("updates", () => {
    it("refuses a dnsDomain change, naming both domains and the way out", async () => {
      const name = fresh();
      await api.create("maasclusters", cluster(name));
      await assertRejected(api.patch("maasclusters", name, { spec: { dnsDomain: "other.test" } }), [
        'spec.dnsDomain: Forbidden: cannot change (from "maas.test" to "other.test")',
        "create a new cluster",
      ]);
    });

    it("lets the endpoint be filled in while empty, then refuses a change of it", async () => {
      const name = fresh();
      await api.create("maasclusters", cluster(name));
      const filled = await api.patch<StoredCluster>("maasclusters", name, { spec: { controlPlaneEndpoint: { host: "c1.maas.test" } } });
      assert.deepEqual(filled.spec.controlPlaneEndpoint, { host: "c1.maas.test", port: 6443 });
      await assertRejected(api.patch("maasclusters", name, { spec: { controlPlaneEndpoint: { host: "10.9.9.9" } } }), [
        "spec.controlPlaneEndpoint: Forbidden: cannot change once set (from c1.maas.test:6443 to 10.9.9.9:6443)",
        "move the address behind that name",
      ]);
      await assertRejected(api.patch("maasclusters", name, { spec: { controlPlaneEndpoint: { port: 7443 } } }), ["from c1.maas.test:6443 to c1.maas.test:7443"]);
    });

    it("lets failureDomains change (a ClusterClass patches them in place)", async () => {
      const name = fresh();
      await api.create("maasclusters", cluster(name, { failureDomains: ["zone-a"] }));
      const patched = await api.patch<StoredCluster>("maasclusters", name, { spec: { failureDomains: ["zone-a", "zone-b"] } });
      assert.deepEqual(patched.spec.failureDomains, ["zone-a", "zone-b"]);
    });
  });

  describe("MaasClusterTemplate", () => {
    it("gets port 6443 at spec.template.spec.controlPlaneEndpoint", async () => {
      const name = fresh();
      await api.create("maasclustertemplates", clusterTemplate(name, { controlPlaneEndpoint: { host: "10.0.0.20" } }));
      const got = await api.get<StoredClusterTemplate>("maasclustertemplates", name);
      assert.deepEqual(got.spec.template.spec.controlPlaneEndpoint, { host: "10.0.0.20", port: 6443 });
    });

    it("refuses a bad endpoint host, naming the template's path", async () => {
      await assertRejected(api.create("maasclustertemplates", clusterTemplate(fresh(), { controlPlaneEndpoint: { host: "http://x" } })), ["spec.template.spec.controlPlaneEndpoint.host", "without a scheme or a port"]);
    });

    it("stays mutable, dnsDomain included (each MaasCluster made from it guards its own)", async () => {
      const name = fresh();
      await api.create("maasclustertemplates", clusterTemplate(name));
      const patched = await api.patch<StoredClusterTemplate>("maasclustertemplates", name, { spec: { template: { spec: { dnsDomain: "other.test" } } } });
      assert.equal(patched.spec.template.spec.dnsDomain, "other.test");
    });
  });
});
