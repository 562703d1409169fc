import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CoordinationV1Api, EventsV1Api } from "@kubernetes/client-node";
import {
  KubeApiError,
  EventRecorder,
  KubeEventSink,
  KubeLeaseLock,
  LeaseConflictError,
  PatchHelper,
  addFinalizer,
  ownerReferenceFor,
  removeFinalizer,
  setOwnerReference,
  type KubeClient,
  type KubeObject,
} from "../../../src/runtime/index.ts";
import { CONFIG_MAP, WIDGET, widget, type Widget } from "../../fixtures/runtime/widget.ts";
import type { TestEnv } from "../../testenv/index.ts";
import { createNamespace, newClient, quietLogger, startRuntimeEnv } from "./support.ts";

describe("writes against a real kube-apiserver", () => {
  let env: TestEnv | undefined;
  let client: KubeClient;
  let other: KubeClient;
  const ns = "writes-test";
  const ref = (name: string) => ({ namespace: ns, name });

  before(async () => {
    env = await startRuntimeEnv();
    client = newClient(env, "runtime-test");
    other = newClient(env, "other-writer");
    await createNamespace(client, ns);
  });

  after(async () => {
    await client?.transport.close();
    await other?.transport.close();
    await env?.stop();
  });

  const requests = () => client.transport.requestCounts().byMethod;

  describe("finalizers under concurrent writers", () => {
    it("loses none when many writers add theirs from the same stale read", async () => {
      const stale = await client.create(WIDGET, widget(ns, "fin-add", "v"));
      const writers = Array.from({ length: 8 }, (_, i) => `test.example/writer-${i}`);
      await Promise.all(writers.map((finalizer) => addFinalizer({ client, object: stale, finalizer })));
      const stored = await client.get<Widget>(WIDGET, ref("fin-add"));
      assert.deepEqual([...(stored.metadata.finalizers ?? [])].sort(), [...writers].sort());
    });

    it("removes only its own while others add and spec changes race with it", async () => {
      const created = await client.create(WIDGET, {
        ...widget(ns, "fin-mixed", "v"),
        metadata: { name: "fin-mixed", namespace: ns, finalizers: ["a.example/keep", "b.example/drop", "c.example/drop"] },
      });
      await Promise.all([
        removeFinalizer({ client, object: created, finalizer: "b.example/drop" }),
        removeFinalizer({ client: other, object: created, finalizer: "c.example/drop" }),
        addFinalizer({ client: other, object: created, finalizer: "d.example/new" }),
        other.patch(WIDGET, ref("fin-mixed"), { spec: { note: "racing spec write" } }),
      ]);
      const stored = await client.get<Widget>(WIDGET, ref("fin-mixed"));
      assert.deepEqual([...(stored.metadata.finalizers ?? [])].sort(), ["a.example/keep", "d.example/new"]);
      assert.equal(stored.spec?.note, "racing spec write");
    });
  });

  describe("PatchHelper", () => {
    it("writes status through /status only, leaving a concurrent spec change alone", async () => {
      const read = await client.create(WIDGET, widget(ns, "status-only", "v1"));
      await other.patch(WIDGET, ref("status-only"), { spec: { note: "changed by someone else" } });
      const before = requests();
      const helper = new PatchHelper({ object: read, client: client });
      read.status = { observed: "v1" };
      const written = await helper.patch(read);
      const afterCounts = requests();
      assert.equal((afterCounts.PATCH ?? 0) - (before.PATCH ?? 0), 1, "one PATCH, to /status");
      assert.equal(written.status?.observed, "v1");
      assert.equal(written.spec?.note, "changed by someone else", "spec untouched");
      assert.equal(written.spec?.value, "v1");
    });

    it("writes spec/metadata without touching status", async () => {
      const created = await client.create(WIDGET, widget(ns, "spec-only", "v1"));
      await other.patch(WIDGET, ref("spec-only"), { status: { observed: "theirs" } }, { subresource: "status" });
      const helper = new PatchHelper({ object: created, client: client });
      created.spec = { ...created.spec, value: "v2" };
      created.metadata.labels = { tier: "gold" };
      const written = await helper.patch(created);
      assert.equal(written.spec?.value, "v2");
      assert.equal(written.metadata.labels?.tier, "gold");
      assert.equal(written.status?.observed, "theirs", "status untouched");
    });

    it("sends nothing when nothing changed", async () => {
      const created = await client.create(WIDGET, widget(ns, "no-op", "v1"));
      const before = client.transport.requestCounts().total;
      const helper = new PatchHelper({ object: created, client: client });
      await helper.patch(structuredClone(created));
      assert.equal(client.transport.requestCounts().total, before);
    });

    it("keeps another writer's finalizers and owner references when adding its own", async () => {
      const owner = await client.create<KubeObject>(CONFIG_MAP, { metadata: { name: "owner", namespace: ns } });
      const read = await client.create(WIDGET, widget(ns, "guarded", "v1"));
      await other.patch(WIDGET, ref("guarded"), { metadata: { finalizers: ["other.example/theirs"] } });
      const helper = new PatchHelper({ object: read, client: client });
      read.metadata.finalizers = ["runtime.example/ours"];
      setOwnerReference(read, ownerReferenceFor(owner, { controller: true }));
      const written = await helper.patch(read);
      assert.deepEqual([...(written.metadata.finalizers ?? [])].sort(), ["other.example/theirs", "runtime.example/ours"]);
      assert.equal(written.metadata.ownerReferences?.[0]?.uid, owner.metadata.uid);
    });
    it("says when the stored object was newer than the baseline, and only then", async () => {
      const read = await client.create(WIDGET, widget(ns, "conflict-told", "v1"));
      let told = 0;
      const first = structuredClone(read);
      first.metadata.finalizers = ["runtime.example/first"];
      await new PatchHelper({ object: read, client }).patch(first, { onConflict: () => told++ });
      assert.equal(told, 0, "a baseline that is the stored object meets no conflict");
      await other.patch(WIDGET, ref("conflict-told"), { spec: { value: "changed by another writer" } });
      const second = structuredClone(read);
      second.metadata.finalizers = ["runtime.example/second"];
      const written = await new PatchHelper({ object: read, client }).patch(second, { onConflict: () => told++ });
      assert.equal(told, 1);
      assert.equal(written.spec?.value, "changed by another writer");
    });
  });

  it("refuses a strategic merge patch on a custom resource (why we always send merge patches)", async () => {
    await client.create(WIDGET, widget(ns, "smp", "v1"));
    await assert.rejects(
      client.transport.request({
        method: "PATCH",
        path: `/apis/fixtures.runtime.test/v1/namespaces/${ns}/widgets/smp`,
        headers: { "Content-Type": "application/strategic-merge-patch+json" },
        body: JSON.stringify({ spec: { value: "v2" } }),
      }),
      (err: unknown) => err instanceof KubeApiError && err.status === 415 && !err.message.includes("content-type:"),
    );
  });

  it("applies server-side with our field manager", async () => {
    await client.apply<Widget>(WIDGET, { ...widget(ns, "ssa", "applied"), metadata: { name: "ssa", namespace: ns } });
    const stored = await client.get<Widget & { metadata: { managedFields?: Array<{ manager: string; operation: string }> } }>(WIDGET, ref("ssa"));
    assert.equal(stored.spec?.value, "applied");
    assert.ok(stored.metadata.managedFields?.some((f) => f.manager === "runtime-test" && f.operation === "Apply"));
  });

  it("records a hot loop of identical events as one events.k8s.io Event with a series", async () => {
    const regarding = await client.create(WIDGET, widget(ns, "noisy", "v1"));
    const recorder = new EventRecorder({
      sink: new KubeEventSink(new EventsV1Api(client.transport.apiConfiguration())),
      reportingController: "runtime-test",
      reportingInstance: "test-1",
      logger: quietLogger,
      flushIntervalMs: 200,
    });
    const before = requests();
    for (let i = 0; i < 200; i++) {
      recorder.event(regarding, { type: "Warning", reason: "Flapping", action: "Reconcile", note: "same thing again" });
    }
    await recorder.flush();
    const afterCounts = requests();
    const writes = (afterCounts.POST ?? 0) - (before.POST ?? 0) + (afterCounts.PATCH ?? 0) - (before.PATCH ?? 0);
    assert.ok(writes <= 3, `at most a create and two patches, got ${writes}`);
    const list = JSON.parse(
      (await client.transport.request({ method: "GET", path: `/apis/events.k8s.io/v1/namespaces/${ns}/events` })).body,
    ) as { items: Array<{ reason: string; series?: { count: number; lastObservedTime: string }; eventTime: string; regarding: { uid: string } }> };
    const flapping = list.items.filter((e) => e.reason === "Flapping");
    assert.equal(flapping.length, 1);
    assert.equal(flapping[0]?.series?.count, 200);
    assert.equal(flapping[0]?.regarding.uid, regarding.metadata.uid);
    assert.match(flapping[0]?.eventTime ?? "", /\.\d{6}Z$/);
  });

  it("keeps a Lease with MicroTime fields and refuses a write from a stale resourceVersion", async () => {
    const lock = new KubeLeaseLock({ api: new CoordinationV1Api(client.transport.apiConfiguration()), namespace: ns, name: "lock" });
    assert.equal(await lock.get(), undefined);
    const now = Date.now();
    const record = { holderIdentity: "a", leaseDurationSeconds: 15, acquireTimeMs: now, renewTimeMs: now, leaseTransitions: 0 };
    const rv = await lock.create(record);
    await assert.rejects(lock.create(record), LeaseConflictError);
    const read = await lock.get();
    assert.deepEqual(read?.record, record);
    const raw = JSON.parse(
      (await client.transport.request({ method: "GET", path: `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/lock` })).body,
    ) as { spec: { renewTime: string } };
    assert.match(raw.spec.renewTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    await lock.update({ ...record, renewTimeMs: now + 1_000 }, rv);
    await assert.rejects(lock.update({ ...record, holderIdentity: "b" }, rv), LeaseConflictError);
  });
});
