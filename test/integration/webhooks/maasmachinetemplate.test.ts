// MaasMachineTemplate through the real kube-apiserver calling the provider's webhooks:
// defaulting and the memory warning at spec.template.spec, the spec immutable with the
// migration guide's fix in the refusal, and CAPI's topology dry-run (server-side apply
// with dryRun and the topology dry-run annotation) let through without storing anything.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { API_VERSION, DeleteForMoveAnnotation, GROUP, VERSION, type MaasMachineSpec } from "../../../src/api/v1beta1/index.ts";
import { TopologyDryRunAnnotation } from "../../../src/webhooks/index.ts";
import { useSharedTestEnv, type TestEnvHandle } from "../../testenv/index.ts";
import { MaasApi, assertRejected, type Stored } from "../api/api-client.ts";
import { kubectl, startWebhookFixture, warningsOf, type WebhookFixture } from "./support.ts";

type StoredTemplate = Stored<{ template: { metadata?: { labels?: Record<string, string> }; spec: MaasMachineSpec } }>;

const BASE: MaasMachineSpec = { minCPU: 2, minMemory: 4096, image: "ubuntu/jammy" };

function template(name: string, spec: Record<string, unknown> = {}, annotations: Record<string, string> = {}): { apiVersion: string; kind: string; metadata: { name: string; annotations: Record<string, string> }; spec: { template: { spec: Record<string, unknown> } } } {
  return { apiVersion: API_VERSION, kind: "MaasMachineTemplate", metadata: { name, annotations }, spec: { template: { spec: { ...BASE, ...spec } } } };
}

describe("MaasMachineTemplate admission", () => {
  let env: TestEnvHandle;
  let fixture: WebhookFixture;
  let api: MaasApi;
  let custom: CustomObjectsApi;
  let counter = 0;
  const fresh = (): string => `t${(counter += 1)}`;

  /** Server-side apply, as CAPI's topology controller writes templates; `dryRun` as it computes diffs. */
  const apply = (body: object & { metadata: { name: string } }, dryRun: boolean): Promise<unknown> =>
    custom.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, namespace: fixture.namespace, plural: "maasmachinetemplates", name: body.metadata.name, body, fieldManager: "capi-topology", force: true, ...(dryRun ? { dryRun: "All" } : {}) },
      setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
    );

  before(async () => {
    env = await useSharedTestEnv();
    // A lower threshold than the manager's default, so the warning shows it was passed in.
    fixture = await startWebhookFixture(env, "webhook-template", { ephemeralMinMemoryMiB: 8192 });
    api = new MaasApi(env.kubeConfig(), fixture.namespace);
    custom = env.kubeConfig().makeApiClient(CustomObjectsApi);
  });

  after(async () => {
    await fixture?.stop();
    await env?.stop();
  });

  it("folds deployInMemory into spec.template.spec.ephemeral, warning about both the alias and the memory", async () => {
    const name = fresh();
    const result = await kubectl(env, ["create", "-n", fixture.namespace, "-f", "-"], template(name, { deployInMemory: true, minMemory: 4096 }));
    assert.equal(result.code, 0, result.stderr);
    const warnings = warningsOf(result.stderr);
    assert.equal(warnings.length, 2, result.stderr);
    assert.ok(warnings.some((w) => w.startsWith("spec.template.spec.deployInMemory is deprecated and was folded into spec.template.spec.ephemeral")), result.stderr);
    assert.ok(warnings.some((w) => /^spec\.template\.spec\.minMemory is 4096 MiB, below the 8192 MiB/.test(w)), result.stderr);
    const got = await api.get<StoredTemplate>("maasmachinetemplates", name);
    assert.deepEqual([got.spec.template.spec.ephemeral, got.spec.template.spec.deployInMemory], [true, undefined]);
  });

  it("refuses any change of spec.template.spec, naming what changed and the roll to a new template", async () => {
    const name = fresh();
    await api.create("maasmachinetemplates", template(name));
    await assertRejected(api.patch("maasmachinetemplates", name, { spec: { template: { spec: { image: "ubuntu/noble", minCPU: 4 } } } }), [
      "spec.template.spec: Forbidden: MaasMachineTemplate spec is immutable (changed: image, minCPU)",
      "create a new MaasMachineTemplate",
      "spec.template.spec.infrastructureRef",
    ]);
    assert.equal((await api.get<StoredTemplate>("maasmachinetemplates", name)).spec.template.spec.image, "ubuntu/jammy");
  });

  it("allows what does not change the spec: labels on the template and its spec.template.metadata, a re-apply of the same spec", async () => {
    const name = fresh();
    await api.create("maasmachinetemplates", template(name, { deployInMemory: true, minMemory: 16_384 }));
    const patched = await api.patch<StoredTemplate>("maasmachinetemplates", name, { metadata: { labels: { team: "a" } }, spec: { template: { metadata: { labels: { pool: "b" } } } } });
    assert.deepEqual(patched.spec.template.metadata?.labels, { pool: "b" });
    // The original manifest again: its alias folds to the stored value, so nothing changed
    // and only the deprecation is pointed out again (the manifest still has the alias).
    const again = await kubectl(env, ["apply", "--server-side", "--force-conflicts", "-n", fixture.namespace, "-f", "-"], template(name, { deployInMemory: true, minMemory: 16_384 }));
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(warningsOf(again.stderr), ["spec.template.spec.deployInMemory is deprecated and was folded into spec.template.spec.ephemeral (now true); write ephemeral instead"]);
  });

  describe("CAPI's topology dry-run", () => {
    it("passes a spec change when the request is a dry-run and the object carries the topology dry-run annotation, and stores nothing", async () => {
      const name = fresh();
      await apply(template(name), false);
      const changed = template(name, { image: "ubuntu/noble" }, { [TopologyDryRunAnnotation]: "" });
      const answer = (await apply(changed, true)) as StoredTemplate;
      assert.equal(answer.spec.template.spec.image, "ubuntu/noble");
      assert.equal((await api.get<StoredTemplate>("maasmachinetemplates", name)).spec.template.spec.image, "ubuntu/jammy");
    });

    it("still refuses a dry-run without the annotation (kubectl --dry-run=server shows the real answer)", async () => {
      const name = fresh();
      await apply(template(name), false);
      await assertRejected(apply(template(name, { image: "ubuntu/noble" }), true), ["MaasMachineTemplate spec is immutable"]);
    });

    it("still refuses the annotation on a request that is not a dry-run", async () => {
      const name = fresh();
      await apply(template(name), false);
      await assertRejected(apply(template(name, { image: "ubuntu/noble" }, { [TopologyDryRunAnnotation]: "" }), false), ["MaasMachineTemplate spec is immutable"]);
    });

    it("still checks values in a dry-run", async () => {
      const name = fresh();
      await apply(template(name), false);
      await assertRejected(apply(template(name, { failureDomain: "zone/a" }, { [TopologyDryRunAnnotation]: "" }), true), ["spec.template.spec.failureDomain"]);
    });
  });

  it("lets a spec change through when clusterctl move has annotated the template", async () => {
    const name = fresh();
    await api.create("maasmachinetemplates", template(name));
    const moved = await api.patch<StoredTemplate>("maasmachinetemplates", name, {
      metadata: { annotations: { [DeleteForMoveAnnotation]: "" } },
      spec: { template: { spec: { minCPU: 16 } } },
    });
    assert.equal(moved.spec.template.spec.minCPU, 16);
  });
});
