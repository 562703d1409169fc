// MaasMachine through the real kube-apiserver calling the provider's webhooks over TLS:
// the alias folded into ephemeral, the memory warning kubectl shows, the fields fixed once
// set (and systemID/providerID, which only go unset → set → unset), values MAAS would
// refuse, and clusterctl move's annotated updates and deletes passing.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ApiException, CustomObjectsApi } from "@kubernetes/client-node";
import { API_VERSION, DeleteForMoveAnnotation, GROUP, VERSION, type MaasMachineSpec } from "../../../src/api/v1beta1/index.ts";
import { useSharedTestEnv, type TestEnvHandle } from "../../testenv/index.ts";
import { MaasApi, assertRejected, type Stored } from "../api/api-client.ts";
import { kubectl, startWebhookFixture, warningsOf, type WebhookFixture } from "./support.ts";

type StoredMachine = Stored<MaasMachineSpec>;

const BASE: MaasMachineSpec = { minCPU: 2, minMemory: 4096, image: "ubuntu/jammy" };

function machine(name: string, spec: Record<string, unknown> = {}, annotations: Record<string, string> = {}): object {
  return { apiVersion: API_VERSION, kind: "MaasMachine", metadata: { name, annotations }, spec: { ...BASE, ...spec } };
}

describe("MaasMachine admission", () => {
  let env: TestEnvHandle;
  let fixture: WebhookFixture;
  let api: MaasApi;
  let counter = 0;
  const fresh = (): string => `m${(counter += 1)}`;

  before(async () => {
    env = await useSharedTestEnv();
    fixture = await startWebhookFixture(env, "webhook-machine", { ephemeralMinMemoryMiB: 16_384 });
    api = new MaasApi(env.kubeConfig(), fixture.namespace);
  });

  after(async () => {
    await fixture?.stop();
    await env?.stop();
  });

  describe("defaulting", () => {
    it("folds deployInMemory: true into ephemeral: true and drops the alias, so the Ephemeral column shows it", async () => {
      const name = fresh();
      await api.create("maasmachines", machine(name, { deployInMemory: true, minMemory: 32_768 }));
      const got = await api.get<StoredMachine>("maasmachines", name);
      assert.equal(got.spec.ephemeral, true);
      assert.equal(got.spec.deployInMemory, undefined);
      const table = await kubectl(env, ["get", "maasmachines", name, "-n", fixture.namespace, "-o", "jsonpath={.spec.ephemeral}"]);
      assert.equal(table.stdout, "true");
    });

    it("drops deployInMemory: false beside the default ephemeral: false", async () => {
      const name = fresh();
      await api.create("maasmachines", machine(name, { deployInMemory: false }));
      const got = await api.get<StoredMachine>("maasmachines", name);
      assert.deepEqual([got.spec.ephemeral, got.spec.deployInMemory], [false, undefined]);
    });

    it("warns that deployInMemory is deprecated, through kubectl's Warning lines", async () => {
      const name = fresh();
      const result = await kubectl(env, ["create", "-n", fixture.namespace, "-f", "-"], machine(name, { deployInMemory: true, minMemory: 32_768 }));
      assert.equal(result.code, 0, result.stderr);
      const warnings = warningsOf(result.stderr);
      assert.equal(warnings.length, 1, result.stderr);
      assert.match(warnings[0] ?? "", /^spec\.deployInMemory is deprecated and was folded into spec\.ephemeral \(now true\); write ephemeral instead$/);
    });
  });

  describe("the memory warning", () => {
    it("names both numbers when an in-memory machine asks for less than the threshold, and the object is still created", async () => {
      const name = fresh();
      const result = await kubectl(env, ["create", "-n", fixture.namespace, "-f", "-"], machine(name, { ephemeral: true, minMemory: 4096 }));
      assert.equal(result.code, 0, result.stderr);
      const warnings = warningsOf(result.stderr);
      assert.equal(warnings.length, 1, result.stderr);
      assert.match(warnings[0] ?? "", /spec\.minMemory is 4096 MiB, below the 16384 MiB .*--ephemeral-min-memory/);
      assert.equal((await api.get<StoredMachine>("maasmachines", name)).spec.minMemory, 4096);
    });

    for (const [label, spec] of [
      ["a disk machine with little memory", { ephemeral: false, minMemory: 2048 }],
      ["an in-memory machine at the threshold", { ephemeral: true, minMemory: 16_384 }],
    ] as const) {
      it(`is not given for ${label}`, async () => {
        const result = await kubectl(env, ["create", "-n", fixture.namespace, "-f", "-"], machine(fresh(), spec));
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(warningsOf(result.stderr), []);
      });
    }
  });

  describe("fields fixed once set", () => {
    for (const [field, from, to] of [
      ["image", "ubuntu/jammy", "ubuntu/noble"],
      ["minCPU", 2, 4],
      ["minMemory", 4096, 8192],
      ["minDiskSize", 40, 80],
      ["ephemeral", false, true],
    ] as const) {
      it(`refuses a change of ${field}, naming it, both values and how to roll instead`, async () => {
        const name = fresh();
        await api.create("maasmachines", machine(name, { [field]: from }));
        const message = await assertRejected(api.patch("maasmachines", name, { spec: { [field]: to } }), [
          `spec.${field}: Forbidden: cannot change once set (from ${JSON.stringify(from)} to ${JSON.stringify(to)})`,
          "create a new MaasMachineTemplate",
        ]);
        assert.match(message, /admission webhook .* denied the request/);
        assert.equal((await api.get<StoredMachine>("maasmachines", name)).spec[field], from);
      });
    }

    it("refuses turning ephemeral on through the alias too (it is folded first)", async () => {
      const name = fresh();
      await api.create("maasmachines", machine(name));
      await assertRejected(api.patch("maasmachines", name, { spec: { deployInMemory: true } }), ["spec.ephemeral: Forbidden: cannot change once set (from false to true)"]);
    });

    it("allows minDiskSize to be set where it was unset, and other fields (tags, resourcePool) to change", async () => {
      const name = fresh();
      await api.create("maasmachines", machine(name, { tags: ["a"] }));
      const got = await api.patch<StoredMachine>("maasmachines", name, { spec: { minDiskSize: 40, tags: ["b"], resourcePool: "capi" } });
      assert.deepEqual([got.spec.minDiskSize, got.spec.tags, got.spec.resourcePool], [40, ["b"], "capi"]);
    });

    for (const [field, first, second] of [
      ["systemID", "abc123", "def456"],
      ["providerID", "maas:///zone-a/abc123", "maas:///zone-a/def456"],
    ] as const) {
      it(`lets ${field} go from unset to set and back to unset (the controller's replacement), never to another value`, async () => {
        const name = fresh();
        await api.create("maasmachines", machine(name));
        await api.patch("maasmachines", name, { spec: { [field]: first } });
        // The schema's transition rule (self == oldSelf) refuses this before our webhook
        // sees it; the webhook's own check is the backstop for a schema without it.
        await assertRejected(api.patch("maasmachines", name, { spec: { [field]: second } }), [`spec.${field}`, "immutable once set"]);
        const cleared = await api.patch<StoredMachine>("maasmachines", name, { spec: { [field]: null } });
        assert.equal(cleared.spec[field], undefined);
        const again = await api.patch<StoredMachine>("maasmachines", name, { spec: { [field]: second } });
        assert.equal(again.spec[field], second);
      });
    }
  });

  describe("values MAAS would refuse", () => {
    for (const [label, spec, fragments] of [
      ["a zone name with a slash", { failureDomain: "zone/a" }, ['spec.failureDomain: Invalid value: "zone/a"', "only letters, digits, '-' and '_'"]],
      ["a pool name with a slash", { resourcePool: "a/b" }, ['spec.resourcePool: Invalid value: "a/b"', "resource pool name"]],
      ["a provider ID of another form", { providerID: "aws:///us-east-1/i-1" }, ["spec.providerID", "expected maas:///<zone>/<system-id>"]],
      ["a provider ID naming another system ID", { systemID: "abc123", providerID: "maas:///zone-a/xyz789" }, ["spec.providerID", "names system ID xyz789 but spec.systemID is abc123"]],
    ] as const) {
      it(`refuses ${label}, naming the field and the fix`, async () => {
        await assertRejected(api.create("maasmachines", machine(fresh(), spec)), fragments);
      });
    }

    it("refuses ephemeral: true beside deployInMemory: false, naming the alias", async () => {
      await assertRejected(api.create("maasmachines", machine(fresh(), { ephemeral: true, deployInMemory: false })), ["deployInMemory", "Remove deployInMemory"]);
    });
  });

  describe("clusterctl move", () => {
    it("lets an update carrying delete-for-move through, even one that changes a fixed field", async () => {
      const name = fresh();
      await api.create("maasmachines", machine(name));
      const moved = await api.patch<StoredMachine>("maasmachines", name, {
        metadata: { annotations: { [DeleteForMoveAnnotation]: "" } },
        spec: { image: "ubuntu/noble", minCPU: 8 },
      });
      assert.deepEqual([moved.spec.image, moved.spec.minCPU], ["ubuntu/noble", 8]);
    });

    it("lets deletes through, with and without the annotation (the validating webhook sees DELETE)", async () => {
      const custom = env.kubeConfig().makeApiClient(CustomObjectsApi);
      for (const annotations of [{ [DeleteForMoveAnnotation]: "" }, {}] as Record<string, string>[]) {
        const name = fresh();
        await api.create("maasmachines", machine(name, {}, annotations));
        await custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: fixture.namespace, plural: "maasmachines", name });
        await assert.rejects(api.get("maasmachines", name), (err: unknown) => err instanceof ApiException && err.code === 404);
      }
    });
  });
});
