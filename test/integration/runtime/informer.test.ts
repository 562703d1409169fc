import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Registry, type Counter } from "prom-client";
import {
  Informer,
  apiServerSource,
  kubeMetrics,
  type InformerEvent,
  type KubeClient,
  type KubeMetrics,
  type ListWatchSource,
} from "../../../src/runtime/index.ts";
import { WIDGET, widget, type Widget } from "../../fixtures/runtime/widget.ts";
import type { TestEnv } from "../../testenv/index.ts";
import { createNamespace, eventually, newClient, quietLogger, startRuntimeEnv } from "./support.ts";

async function counterValue(counter: Counter<string>, labels: Record<string, string>): Promise<number> {
  const { values } = await counter.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
    .reduce((sum, v) => sum + v.value, 0);
}

describe("Informer against a real kube-apiserver", () => {
  let env: TestEnv | undefined;
  let client: KubeClient;
  let writer: KubeClient;
  const informers: Array<Informer<Widget>> = [];
  const ns = "informer-test";

  before(async () => {
    env = await startRuntimeEnv();
    client = newClient(env);
    writer = newClient(env, "other-writer");
    await createNamespace(client, ns);
  });

  after(async () => {
    await Promise.all(informers.map((i) => i.stop()));
    await client?.transport.close();
    await writer?.transport.close();
    await env?.stop();
  });

  function startInformer(options: { source?: ListWatchSource<Widget>; metrics?: KubeMetrics } = {}) {
    const events: Array<InformerEvent<Widget>> = [];
    const informer = new Informer<Widget>({
      name: "widgets",
      source: options.source ?? apiServerSource<Widget>({ client, kind: WIDGET, namespace: ns }),
      logger: quietLogger,
      resyncPeriodMs: 0,
      backoff: { initialMs: 100, maxMs: 1_000 },
      ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    });
    informers.push(informer);
    informer.on((event) => events.push(event));
    informer.start();
    return { informer, events };
  }

  it("sees create, update and delete of a custom resource", async () => {
    const { informer, events } = startInformer();
    await informer.waitForSync();
    await writer.create(WIDGET, widget(ns, "crud", "one"));
    const created = await eventually(() => informer.get(ns, "crud"), { message: "widget cached" });
    assert.equal(created.spec?.value, "one");

    await writer.patch(WIDGET, { namespace: ns, name: "crud" }, { spec: { value: "two" } });
    await eventually(() => informer.get(ns, "crud")?.spec?.value === "two", { message: "update cached" });

    await writer.delete(WIDGET, { namespace: ns, name: "crud" });
    await eventually(() => informer.get(ns, "crud") === undefined, { message: "delete seen" });
    const seen = events.filter((e) => e.object.metadata.name === "crud").map((e) => e.type);
    assert.deepEqual(seen, ["add", "update", "delete"]);
  });

  it("caches objects without managedFields, listed or watched, though the API server sends them", async () => {
    await writer.create(WIDGET, widget(ns, "listed-mf", "one"));
    const stored = await writer.get<Widget>(WIDGET, { namespace: ns, name: "listed-mf" });
    assert.ok(((stored.metadata as { managedFields?: unknown[] }).managedFields ?? []).length > 0, "the server keeps them");
    const { informer } = startInformer();
    await informer.waitForSync();
    await writer.create(WIDGET, widget(ns, "watched-mf", "one"));
    const watched = await eventually(() => informer.get(ns, "watched-mf"), { message: "widget cached" });
    for (const obj of [informer.get(ns, "listed-mf"), watched]) {
      assert.ok(obj !== undefined);
      assert.equal((obj.metadata as { managedFields?: unknown }).managedFields, undefined, obj.metadata.name);
    }
  });

  it("relists after a watch from a too-old resourceVersion is answered with 410 Gone, and keeps following", async () => {
    const metrics = kubeMetrics(new Registry());
    const real = apiServerSource<Widget>({ client, kind: WIDGET, namespace: ns });
    let watches = 0;
    const source: ListWatchSource<Widget> = {
      list: (options) => real.list(options),
      // The first watch starts from resourceVersion 1, long compacted out of the
      // API server's watch window: the server itself answers 410 Gone.
      watch: (options, onEvent) => real.watch({ ...options, resourceVersion: watches++ === 0 ? "1" : options.resourceVersion }, onEvent),
    };
    const { informer } = startInformer({ source, metrics });
    await informer.waitForSync();
    await eventually(async () => (await counterValue(metrics.informerRelists, {})) >= 2, { message: "a second list after 410" });
    assert.equal(await counterValue(metrics.informerRestarts, { reason: "gone" }), 1);
    await writer.create(WIDGET, widget(ns, "after-gone", "x"));
    await eventually(() => informer.get(ns, "after-gone"), { message: "changes after the relist are delivered" });
  });

  it("recovers by itself when kube-apiserver is killed and started again on the same etcd", async () => {
    assert.ok(env);
    const metrics = kubeMetrics(new Registry());
    const { informer, events } = startInformer({ metrics });
    await informer.waitForSync();
    await writer.create(WIDGET, widget(ns, "survivor", "before"));
    await eventually(() => informer.get(ns, "survivor"), { message: "cached before the kill" });

    await env.killApiServer();
    // Let the informer notice and fail a few reconnects against a closed port.
    await eventually(async () => (await counterValue(metrics.informerRestarts, {})) >= 1, { message: "watch broke" });
    await env.startApiServer();

    // A fresh client, as the old one's pooled connections died with the server.
    const afterRestart = newClient(env, "after-restart");
    try {
      await afterRestart.patch(WIDGET, { namespace: ns, name: "survivor" }, { spec: { value: "after" } });
      await afterRestart.create(WIDGET, widget(ns, "newcomer", "fresh"));
      await eventually(() => informer.get(ns, "survivor")?.spec?.value === "after", {
        timeoutMs: 30_000,
        message: "update made after the restart delivered",
      });
      await eventually(() => informer.get(ns, "newcomer"), { timeoutMs: 30_000, message: "create made after the restart delivered" });
    } finally {
      await afterRestart.transport.close();
    }
    assert.ok(events.some((e) => e.type === "add" && e.object.metadata.name === "newcomer"));
    assert.ok((await counterValue(metrics.informerRestarts, {})) >= 1);
  });
});
