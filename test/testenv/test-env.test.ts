import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiextensionsV1Api, CoreV1Api } from "@kubernetes/client-node";
import { startTestEnv } from "./index.ts";
import type { TestEnv } from "./index.ts";
import { isAlive } from "./pids.ts";

describe("startTestEnv", () => {
  let env: TestEnv;

  before(async () => {
    env = await startTestEnv();
  });

  after(async () => {
    await env?.stop();
  });

  it("serves the API through the kubeconfig it writes", async () => {
    const core = env.kubeConfig().makeApiClient(CoreV1Api);
    const namespaces = await core.listNamespace();
    assert.ok(namespaces.items.some((ns) => ns.metadata?.name === "default"));

    await core.createNamespacedConfigMap({
      namespace: "default",
      body: { metadata: { name: "reachable" }, data: { answer: "42" } },
    });
    const read = await core.readNamespacedConfigMap({ namespace: "default", name: "reachable" });
    assert.equal(read.data?.["answer"], "42");
  });

  it("reports the pinned Kubernetes version", async () => {
    const result = await env.kubectl(["version", "-o", "json"]);
    assert.equal(result.code, 0, result.stderr);
    const version = JSON.parse(result.stdout) as { serverVersion: { gitVersion: string } };
    assert.equal(version.serverVersion.gitVersion, env.versions.kubernetes);
  });

  it("installs Cluster API's CRDs and waits until they are Established", async () => {
    const apiext = env.kubeConfig().makeApiClient(ApiextensionsV1Api);
    for (const name of ["clusters.cluster.x-k8s.io", "machines.cluster.x-k8s.io", "kubeadmconfigs.bootstrap.cluster.x-k8s.io", "kubeadmcontrolplanes.controlplane.cluster.x-k8s.io"]) {
      const crd = await apiext.readCustomResourceDefinition({ name });
      const established = crd.status?.conditions?.find((c) => c.type === "Established");
      assert.equal(established?.status, "True", name);
    }
  });

  it("runs kubectl against its own control plane, with stdin", async () => {
    const manifest = JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "from-kubectl", namespace: "default" } });
    const applied = await env.kubectl(["apply", "-f", "-"], { input: manifest });
    assert.equal(applied.code, 0, applied.stderr);
    const got = await env.kubectl(["get", "configmap", "from-kubectl", "-n", "default", "-o", "name"]);
    assert.equal(got.stdout.trim(), "configmap/from-kubectl");
  });

  describe("when kube-apiserver is killed and started again", () => {
    it("serves on the same port with the data etcd kept", async () => {
      const core = env.kubeConfig().makeApiClient(CoreV1Api);
      await core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "survivor" }, data: { k: "v" } } });
      const firstPid = env.apiServerPid;
      const server = env.server;

      await env.killApiServer();
      assert.equal(isAlive(firstPid), false);
      await assert.rejects(core.readNamespacedConfigMap({ namespace: "default", name: "survivor" }));

      await env.startApiServer();
      assert.notEqual(env.apiServerPid, firstPid);
      assert.equal(env.server, server);
      const read = await env.kubeConfig().makeApiClient(CoreV1Api).readNamespacedConfigMap({ namespace: "default", name: "survivor" });
      assert.equal(read.data?.["k"], "v");
    });
  });
});

describe("TestEnv.startSecondApiServer", () => {
  describe("while the first kube-apiserver is down", () => {
    it("serves the same etcd, and what is written through it is there when the first is back", async () => {
      const env = await startTestEnv({ installCrds: false });
      try {
        const first = env.kubeConfig().makeApiClient(CoreV1Api);
        await first.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "before" }, data: { k: "1" } } });
        await env.killApiServer();
        const second = await env.startSecondApiServer();
        assert.notEqual(second.server, env.server);
        const other = second.kubeConfig().makeApiClient(CoreV1Api);
        assert.equal((await other.readNamespacedConfigMap({ namespace: "default", name: "before" })).data?.["k"], "1");
        await other.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "while-down" }, data: { k: "2" } } });
        await other.deleteNamespacedConfigMap({ namespace: "default", name: "before" });
        await second.stop();
        assert.equal(isAlive(second.pid), false);

        await env.startApiServer();
        const back = env.kubeConfig().makeApiClient(CoreV1Api);
        assert.equal((await back.readNamespacedConfigMap({ namespace: "default", name: "while-down" })).data?.["k"], "2");
        await assert.rejects(back.readNamespacedConfigMap({ namespace: "default", name: "before" }));
      } finally {
        await env.stop();
      }
    });
  });

  describe("when the env stops", () => {
    it("stops the second kube-apiserver too", async () => {
      const env = await startTestEnv({ installCrds: false });
      let pid = 0;
      try {
        pid = (await env.startSecondApiServer()).pid;
        assert.ok(isAlive(pid));
      } finally {
        await env.stop();
      }
      assert.equal(isAlive(pid), false);
    });
  });
});

describe("TestEnv.stop", () => {
  it("ends etcd and kube-apiserver and removes the directory it created", async () => {
    const env = await startTestEnv({ installCrds: false });
    const pids = [env.apiServerPid, env.etcdPid];
    try {
      assert.ok(pids.every(isAlive));
      assert.ok(existsSync(env.dir));
    } finally {
      await env.stop();
    }
    assert.deepEqual(pids.filter(isAlive), []);
    assert.equal(existsSync(env.dir), false);
    await env.stop();
  });

  it("keeps a directory the caller gave", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "testenv-given-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const env = await startTestEnv({ dir, installCrds: false });
    await env.stop();
    assert.equal(env.dir, dir);
    assert.ok(existsSync(env.kubeconfigPath));
  });
});
