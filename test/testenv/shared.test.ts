import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CoreV1Api } from "@kubernetes/client-node";
import { sharedKubeconfigEnv, useSharedTestEnv } from "./index.ts";

describe("useSharedTestEnv", () => {
  it("starts a private control plane when no shared one is announced, and hands out the announced one otherwise", async () => {
    const saved = process.env[sharedKubeconfigEnv];
    delete process.env[sharedKubeconfigEnv];
    const own = await useSharedTestEnv({ installCrds: false, log: () => undefined });
    const core = own.kubeConfig().makeApiClient(CoreV1Api);
    try {
      process.env[sharedKubeconfigEnv] = own.kubeconfigPath;
      const shared = await useSharedTestEnv();
      assert.equal(shared.server, own.server);
      assert.equal(shared.kubeconfigPath, own.kubeconfigPath);
      const result = await shared.kubectl(["get", "namespace", "default", "-o", "name"]);
      assert.equal(result.stdout.trim(), "namespace/default", result.stderr);

      await shared.stop();
      const namespaces = await core.listNamespace();
      assert.ok(namespaces.items.length > 0, "the shared handle's stop() leaves the control plane running");
    } finally {
      if (saved === undefined) delete process.env[sharedKubeconfigEnv];
      else process.env[sharedKubeconfigEnv] = saved;
      await own.stop();
    }
    await assert.rejects(core.listNamespace(), "the private control plane is gone after its stop()");
  });
});
