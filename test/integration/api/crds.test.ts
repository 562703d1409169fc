// The CRDs as the API server holds them: ours installed from config/crd/bases with the
// CAPI contract labels CAPI looks up, CAPI's beside them, and kubectl explain working.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ApiextensionsV1Api } from "@kubernetes/client-node";
import { useSharedTestEnv } from "../../testenv/index.ts";
import type { TestEnvHandle } from "../../testenv/index.ts";
import { CONTRACT_LABELS, GROUP, crdSources } from "../../../src/api/v1beta1/index.ts";

describe("CRDs on the API server", () => {
  let env: TestEnvHandle;
  let apiext: ApiextensionsV1Api;

  before(async () => {
    env = await useSharedTestEnv();
    apiext = env.kubeConfig().makeApiClient(ApiextensionsV1Api);
  });

  after(async () => {
    await env?.stop();
  });

  for (const source of crdSources) {
    it(`serves ${source.kind} as Established, structural, with the contract labels`, async () => {
      const crd = await apiext.readCustomResourceDefinition({ name: `${source.plural}.${GROUP}` });
      const conditions = new Map((crd.status?.conditions ?? []).map((c) => [c.type, c.status]));
      assert.equal(conditions.get("Established"), "True");
      // The server sets NonStructuralSchema=True when a schema breaks the rules.
      assert.notEqual(conditions.get("NonStructuralSchema"), "True");
      for (const [key, value] of Object.entries(CONTRACT_LABELS)) assert.equal(crd.metadata?.labels?.[key], value, key);
      assert.deepEqual(crd.spec.names.categories, ["cluster-api"]);
      assert.deepEqual(crd.status?.acceptedNames?.shortNames, [...source.shortNames]);
    });
  }

  it("has CAPI's CRDs installed next to ours, serving v1beta2 as storage", async () => {
    for (const name of ["clusters.cluster.x-k8s.io", "machines.cluster.x-k8s.io", "machinedeployments.cluster.x-k8s.io"]) {
      const crd = await apiext.readCustomResourceDefinition({ name });
      const storage = crd.spec.versions.find((v) => v.storage)?.name;
      assert.equal(storage, "v1beta2", name);
    }
  });

  it("answers kubectl explain with the field descriptions", async () => {
    const result = await env.kubectl(["explain", "maasmachine.spec.ephemeral"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /deploys the machine into memory instead of disk/);
    const alias = await env.kubectl(["explain", "maasmachine.spec.deployInMemory"]);
    assert.match(alias.stdout, /Deprecated: use ephemeral/);
  });
});
