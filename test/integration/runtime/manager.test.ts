import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  Manager,
  getCondition,
  hasFinalizer,
  type KindSpec,
  type KubeClient,
  type KubeObject,
  type Request,
} from "../../../src/runtime/index.ts";
import {
  CONFIG_MAP,
  REJECTED_REASON,
  REJECTED_VALUE,
  SampleWidgetReconciler,
  WIDGET,
  WIDGET_FINALIZER,
  widget,
  type Widget,
} from "../../fixtures/runtime/widget.ts";
import type { TestEnv } from "../../testenv/index.ts";
import { createNamespace, eventually, newClient, quietLogger, startRuntimeEnv } from "./support.ts";

/** ConfigMaps labelled `widget: <name>` enqueue that Widget (a secondary watch). */
function configMapToWidget(obj: KubeObject): Request[] {
  const name = obj.metadata.labels?.widget;
  return name === undefined || obj.metadata.namespace === undefined ? [] : [{ namespace: obj.metadata.namespace, name }];
}

const CRD: KindSpec = {
  group: "apiextensions.k8s.io",
  version: "v1",
  kind: "CustomResourceDefinition",
  plural: "customresourcedefinitions",
  namespaced: false,
};

/** A kind whose CRD the test installs only later, so a cache of it cannot sync before then. */
const GADGET: KindSpec = { group: "fixtures.runtime.test", version: "v1", kind: "Gadget", plural: "gadgets", namespaced: true };

const gadgetCrd = {
  metadata: { name: "gadgets.fixtures.runtime.test" },
  spec: {
    group: GADGET.group,
    scope: "Namespaced",
    names: { kind: "Gadget", listKind: "GadgetList", plural: "gadgets", singular: "gadget" },
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
      },
    ],
  },
};

interface EventJson {
  type: string;
  reason: string;
  note: string;
  reportingController: string;
  regarding: { kind: string; name: string; uid: string };
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

  it("records a TerminalError as a Warning Event on the object and does not retry it", async () => {
    const bad = await writer.create(WIDGET, widget(ns, "bad", REJECTED_VALUE));
    const event = await eventually(
      async () => {
        const list = JSON.parse(
          (await writer.transport.request({ method: "GET", path: `/apis/events.k8s.io/v1/namespaces/${ns}/events` })).body,
        ) as { items: EventJson[] };
        return list.items.find((e) => e.reason === REJECTED_REASON && e.regarding.uid === bad.metadata.uid);
      },
      { message: "an Event for the terminal error" },
    );
    assert.equal(event.type, "Warning");
    assert.equal(event.regarding.kind, "Widget");
    assert.match(event.note, /not accepted/);
    assert.equal(reconciled.filter((name) => name === "bad").length, 1, "reconciled once, not retried");
    const stored = await writer.get<Widget>(WIDGET, { namespace: ns, name: "bad" });
    assert.equal(stored.status, undefined, "nothing written for the rejected object");
  });

  it("serves every metric the runtime promises on /metrics", async () => {
    const { status, body } = await probe("/metrics");
    assert.equal(status, 200);
    const kind = 'kind="widgets.fixtures.runtime.test"';
    for (const needle of [
      // Reconciles: total, errors, duration.
      /^controller_runtime_reconcile_total\{controller="widget",result="success"\} [1-9]/m,
      /^controller_runtime_reconcile_errors_total\{controller="widget"\} [1-9]/m,
      /^controller_runtime_terminal_reconcile_errors_total\{controller="widget"\} 1$/m,
      /^controller_runtime_reconcile_time_seconds_count\{controller="widget"\} [1-9]/m,
      // Work queue: depth, adds, retries, latency.
      /^workqueue_depth\{name="widget"\} \d/m,
      /^workqueue_adds_total\{name="widget"\} [1-9]/m,
      /^workqueue_retries_total\{name="widget"\} \d/m,
      /^workqueue_queue_duration_seconds_count\{name="widget"\} [1-9]/m,
      /^workqueue_work_duration_seconds_count\{name="widget"\} [1-9]/m,
      // Informers: events, relists, restarts (none yet, so only declared).
      new RegExp(`^informer_watch_events_total\\{${kind},type="ADDED"\\} [1-9]`, "m"),
      new RegExp(`^informer_relists_total\\{${kind}\\} 1$`, "m"),
      /^# TYPE informer_restarts_total counter$/m,
      // Leader status (this manager runs without election; the election test reads the values).
      /^# TYPE leader_election_master_status gauge$/m,
      /^rest_client_requests_total\{method="PATCH",code="200"\} [1-9]/m,
    ]) {
      assert.match(body, needle);
    }
  });

  it("stops with exit code 1 when starting to lead throws, rather than leaving a rejection unhandled", async () => {
    assert.ok(env);
    const leading = new Manager({
      kubeConfig: env.kubeConfig(),
      logger: quietLogger,
      probesPort: false,
      namespace: ns,
      leaderElection: {
        leaseName: "throws-on-start",
        namespace: ns,
        onStartedLeading: () => {
          throw new Error("cannot start leading");
        },
      },
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await leading.start();
      const exit = await Promise.race([
        leading.stopped,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("manager still running 20 s later")), 20_000);
        }),
      ]);
      assert.deepEqual(exit, { reason: "leadership-lost", code: 1 });
    } finally {
      clearTimeout(timer);
      await leading.stop();
    }
  });

  it("is not ready until every cache has synced, and re-reconciles unchanged objects on each resync without calling it a change", async () => {
    assert.ok(env);
    const reconciles = new Map<string, number>();
    const mappedConfigMaps: string[] = [];
    const second = new Manager({
      kubeConfig: env.kubeConfig(),
      logger: quietLogger,
      probesPort: 0,
      namespace: ns,
      fieldManager: "gadgets",
      informers: { resyncPeriodMs: 300, backoff: { initialMs: 100, maxMs: 500 } },
    });
    second.addController({
      name: "gadget",
      for: GADGET,
      // The default predicate drops resyncs of secondary objects: they are not changes.
      watches: [
        {
          kind: CONFIG_MAP,
          map: (cm) => {
            mappedConfigMaps.push(cm.metadata.name);
            return [];
          },
        },
      ],
      reconciler: {
        reconcile: (request) => {
          reconciles.set(request.name, (reconciles.get(request.name) ?? 0) + 1);
          return Promise.resolve();
        },
      },
    });
    const starting = second.start();
    try {
      const port = await eventually(() => second.probesPort, { message: "probes served" });
      const get = async (path: string) => {
        const response = await fetch(`http://127.0.0.1:${String(port)}${path}`);
        return { status: response.status, body: await response.text() };
      };
      // The Gadget list keeps failing (404: no such resource yet), so its cache cannot sync.
      await eventually(() => second.hasSynced() === false, { message: "not synced" });
      const notReady = await get("/readyz");
      assert.equal(notReady.status, 500);
      assert.match(notReady.body, /caches not synced: gadgets\.fixtures\.runtime\.test/);
      assert.equal((await get("/healthz")).status, 200, "alive while not ready");

      await writer.create(CRD, gadgetCrd);
      await eventually(() => second.hasSynced(), { timeoutMs: 30_000, message: "gadget cache synced once its CRD exists" });
      await starting;
      assert.equal((await get("/readyz")).status, 200);

      const gadget = await writer.create<KubeObject>(GADGET, { metadata: { name: "g1", namespace: ns } });
      await writer.create(CONFIG_MAP, { metadata: { name: "cm-gadget", namespace: ns } });
      await eventually(() => mappedConfigMaps.includes("cm-gadget"), { message: "configmap add mapped" });
      await eventually(() => (reconciles.get("g1") ?? 0) >= 4, { message: "resyncs re-reconcile the unchanged gadget" });
      const stored = await writer.get<KubeObject>(GADGET, { namespace: ns, name: "g1" });
      assert.equal(stored.metadata.resourceVersion, gadget.metadata.resourceVersion, "the gadget never changed");
      assert.equal(mappedConfigMaps.filter((name) => name === "cm-gadget").length, 1, "resyncs of a secondary object enqueue nothing");
    } finally {
      await second.stop();
      await starting.catch(() => undefined);
    }
  });
});
