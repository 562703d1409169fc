import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  Manager,
  getCondition,
  hasFinalizer,
  type KubeClient,
  type KubeObject,
  type Request,
} from "../../../src/runtime/index.ts";
import { CONFIG_MAP, SampleWidgetReconciler, WIDGET, WIDGET_FINALIZER, widget, type Widget } from "../../fixtures/runtime/widget.ts";
import type { TestEnv } from "../../testenv/index.ts";
import { createNamespace, eventually, newClient, quietLogger, startRuntimeEnv } from "./support.ts";

/** ConfigMaps labelled `widget: <name>` enqueue that Widget (a secondary watch). */
function configMapToWidget(obj: KubeObject): Request[] {
  const name = obj.metadata.labels?.widget;
  return name === undefined || obj.metadata.namespace === undefined ? [] : [{ namespace: obj.metadata.namespace, name }];
}

describe("Manager wiring a sample reconciler against a real kube-apiserver", () => {
  let env: TestEnv | undefined;
  let writer: KubeClient;
  let manager: Manager | undefined;
  const ns = "manager-test";
  const reconciled: string[] = [];

  before(async () => {
    env = await startRuntimeEnv();
    writer = newClient(env, "test-writer");
    await createNamespace(writer, ns);
    manager = new Manager({ kubeConfig: env.kubeConfig(), logger: quietLogger, probesPort: 0, namespace: ns, fieldManager: "sample" });
    const informer = manager.informer<Widget>(WIDGET);
    manager.addController({
      name: "widget",
      for: WIDGET,
      watches: [{ kind: CONFIG_MAP, map: configMapToWidget }],
      reconciler: new SampleWidgetReconciler({
        informer,
        client: manager.client,
        identity: "in-process",
        onReconciled: (request) => reconciled.push(request.name),
      }),
      workers: 2,
    });
    await manager.start();
  });

  after(async () => {
    await manager?.stop();
    await writer?.transport.close();
    await env?.stop();
  });

  const probe = async (path: string) => {
    const response = await fetch(`http://127.0.0.1:${String(manager?.probesPort)}${path}`);
    return { status: response.status, body: await response.text() };
  };

  it("is ready once its caches have synced", async () => {
    assert.equal(manager?.hasSynced(), true);
    assert.equal((await probe("/readyz")).status, 200);
    assert.equal((await probe("/healthz")).status, 200);
  });

  it("reconciles: finalizer first, then status.observed = spec.value with a Ready condition", async () => {
    await writer.create(WIDGET, widget(ns, "w1", "hello"));
    const done = await eventually(
      async () => {
        const w = await writer.get<Widget>(WIDGET, { namespace: ns, name: "w1" });
        return w.status?.observed === "hello" ? w : undefined;
      },
      { message: "status.observed written" },
    );
    assert.ok(hasFinalizer(done, WIDGET_FINALIZER));
    const ready = getCondition(done.status?.conditions, "Ready");
    assert.equal(ready?.status, "True");
    assert.equal(ready?.observedGeneration, done.metadata.generation);
    assert.equal(done.status?.reconciledBy, "in-process");
  });

  it("follows spec changes, reading from the cache instead of the API server", async () => {
    const before = manager!.requestCounts().byMethod.GET ?? 0;
    await writer.patch(WIDGET, { namespace: ns, name: "w1" }, { spec: { value: "again" } });
    await eventually(
      async () => (await writer.get<Widget>(WIDGET, { namespace: ns, name: "w1" })).status?.observed === "again",
      { message: "status follows spec" },
    );
    assert.equal((manager!.requestCounts().byMethod.GET ?? 0) - before, 0, "no GET: reads come from the informer");
  });

  it("maps a secondary object to its primary through the map function", async () => {
    const count = reconciled.filter((name) => name === "w1").length;
    await writer.create(CONFIG_MAP, { metadata: { name: "cm1", namespace: ns, labels: { widget: "w1" } } });
    await eventually(() => reconciled.filter((name) => name === "w1").length > count, { message: "configmap enqueued w1" });
  });

  it("removes its finalizer on delete so the object goes away", async () => {
    await writer.delete(WIDGET, { namespace: ns, name: "w1" });
    await eventually(
      async () => {
        try {
          await writer.get(WIDGET, { namespace: ns, name: "w1" });
          return false;
        } catch {
          return true;
        }
      },
      { message: "widget deleted" },
    );
  });

  it("serves reconcile, queue, informer and REST metrics on /metrics", async () => {
    const { status, body } = await probe("/metrics");
    assert.equal(status, 200);
    for (const needle of [
      'controller_runtime_reconcile_total{controller="widget",result="success"}',
      'workqueue_adds_total{name="widget"}',
      "workqueue_depth",
      'informer_watch_events_total{kind="widgets.fixtures.runtime.test",type="ADDED"}',
      'informer_relists_total{kind="widgets.fixtures.runtime.test"} 1',
      "rest_client_requests_total",
    ]) {
      assert.ok(body.includes(needle), `metrics include ${needle}`);
    }
  });
});
