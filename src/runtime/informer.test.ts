import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { KubeApiError } from "./kube-errors.ts";
import { FakeClock } from "../clock/index.ts";
import { createLogger } from "../observability/index.ts";
import { DEFAULT_INDEXERS, labelIndex, namespacedIndexValue } from "./indexers.ts";

const CLUSTER_NAME_INDEX = "cluster-name";
import { Informer, type InformerEvent } from "./informer.ts";
import type { ListWatchSource } from "./informer-source.ts";
import type { ListPage, WatchEvent } from "./kube-client.ts";
import type { KubeObject } from "./kube-object.ts";

interface Widget extends KubeObject {
  spec?: { value?: string };
}

function widget(name: string, rv: string, labels?: Record<string, string>): Widget {
  return { apiVersion: "x/v1", kind: "Widget", metadata: { name, namespace: "ns", resourceVersion: rv, ...(labels ? { labels } : {}) } };
}

interface OpenWatch {
  resourceVersion: string;
  send(event: WatchEvent): void;
  end(): void;
  fail(err: Error): void;
}

/** A list/watch source the test drives by hand, like an API server on a string. */
class ScriptedSource implements ListWatchSource<Widget> {
  items: Widget[] = [];
  listResourceVersion = "10";
  listCalls = 0;
  listErrors: Error[] = [];
  watches: OpenWatch[] = [];

  list(): Promise<ListPage<Widget>> {
    this.listCalls += 1;
    const err = this.listErrors.shift();
    if (err !== undefined) return Promise.reject(err);
    return Promise.resolve({ items: structuredClone(this.items), resourceVersion: this.listResourceVersion, continue: undefined });
  }

  watch(options: { resourceVersion: string; signal: AbortSignal }, onEvent: (event: WatchEvent) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      options.signal.addEventListener("abort", () => resolve(), { once: true });
      this.watches.push({ resourceVersion: options.resourceVersion, send: onEvent, end: resolve, fail: reject });
    });
  }

  get current(): OpenWatch {
    const open = this.watches.at(-1);
    assert.ok(open, "a watch is open");
    return open;
  }
}

const logger = createLogger({ level: "silent" });

async function startInformer(source: ScriptedSource, clock: FakeClock, extra: { resyncPeriodMs?: number; watchIdleTimeoutMs?: number } = {}) {
  const events: Array<InformerEvent<Widget>> = [];
  const informer = new Informer<Widget>({
    source,
    name: "widgets",
    logger,
    clock,
    indexers: { ...DEFAULT_INDEXERS, [CLUSTER_NAME_INDEX]: labelIndex("cluster.x-k8s.io/cluster-name") },
    resyncPeriodMs: extra.resyncPeriodMs ?? 0,
    watchIdleTimeoutMs: extra.watchIdleTimeoutMs ?? 600_000,
    backoff: { random: () => 0 },
  });
  informer.on((event) => events.push(event));
  informer.start();
  await clock.advance(0);
  return { informer, events };
}

describe("Informer", () => {
  it("lists, reports synced, and serves reads and indexes from memory", async () => {
    const clock = new FakeClock();
    const source = new ScriptedSource();
    source.items = [widget("a", "5", { "cluster.x-k8s.io/cluster-name": "c1" }), widget("b", "6")];
    const { informer, events } = await startInformer(source, clock);
    await informer.waitForSync();
    assert.equal(informer.hasSynced(), true);
    assert.deepEqual(events.map((e) => e.type), ["add", "add"]);
    assert.equal(informer.get("ns", "a")?.metadata.resourceVersion, "5");
    assert.deepEqual(informer.byIndex(CLUSTER_NAME_INDEX, namespacedIndexValue("ns", "c1")).map((w) => w.metadata.name), ["a"]);
    assert.equal(source.current.resourceVersion, "10");
    await informer.stop();
  });

  it("hands out copies, so a caller's edits never reach the cache", async () => {
    const clock = new FakeClock();
    const source = new ScriptedSource();
    source.items = [widget("a", "5")];
    const { informer } = await startInformer(source, clock);
    const copy = informer.get("ns", "a")!;
    copy.spec = { value: "changed" };
    assert.equal(informer.get("ns", "a")?.spec, undefined);
    await informer.stop();
  });

  it("visits every cached object itself with forEachCached, the same object on each visit (no copies)", async () => {
    const clock = new FakeClock();
    const source = new ScriptedSource();
    source.items = [widget("a", "5"), widget("b", "6")];
    const { informer } = await startInformer(source, clock);
    const first: Array<Readonly<Widget>> = [];
    informer.forEachCached((w) => first.push(w));
    const second: Array<Readonly<Widget>> = [];
    informer.forEachCached((w) => second.push(w));
    assert.deepEqual(first.map((w) => w.metadata.name).sort(), ["a", "b"]);
    assert.equal(first.length, second.length);
    for (const [i, w] of first.entries()) assert.equal(w, second[i], "the cached object, not a copy");
    await informer.stop();
  });

  it("applies watch events, dropping updates that carry no new resourceVersion", async () => {
    const clock = new FakeClock();
    const source = new ScriptedSource();
    const { informer, events } = await startInformer(source, clock);
    source.current.send({ type: "ADDED", object: widget("a", "11") });
    source.current.send({ type: "MODIFIED", object: widget("a", "12") });
    source.current.send({ type: "MODIFIED", object: widget("a", "12") });
    source.current.send({ type: "DELETED", object: widget("a", "13") });
    assert.deepEqual(events.map((e) => e.type), ["add", "update", "delete"]);
    assert.equal(informer.get("ns", "a"), undefined);
    assert.equal(informer.lastResourceVersion, "13");
    await informer.stop();
  });

  it("tracks bookmarks so the next watch resumes from them", async () => {
    const clock = new FakeClock();
    const source = new ScriptedSource();
    const { informer } = await startInformer(source, clock);
    source.current.send({ type: "BOOKMARK", object: { metadata: { name: "", resourceVersion: "99" } } });
    await clock.advance(5_000);
    source.current.end();
    await clock.advance(0);
    assert.equal(source.watches.length, 2);
    assert.equal(source.current.resourceVersion, "99");
    assert.equal(source.listCalls, 1);
    await informer.stop();
  });

  describe("when the watch breaks", () => {
    it("ignores events still arriving on a stream it gave up on", async () => {
      const clock = new FakeClock();
      const source = new ScriptedSource();
      const { informer, events } = await startInformer(source, clock, { watchIdleTimeoutMs: 60_000 });
      const old = source.current;
      await clock.advance(60_000);
      assert.equal(source.watches.length, 2, "the watchdog started a new watch");
      // Lines the old connection had buffered must not overwrite what the new one says.
      source.current.send({ type: "ADDED", object: widget("a", "20") });
      old.send({ type: "MODIFIED", object: widget("a", "19") });
      old.send({ type: "DELETED", object: widget("a", "19") });
      assert.equal(informer.get("ns", "a")?.metadata.resourceVersion, "20");
      assert.deepEqual(events.map((e) => e.type), ["add"]);
      assert.equal(informer.lastResourceVersion, "20");
      await informer.stop();
    });

    it("reconnects by itself after a backoff, from the last resourceVersion, without relisting", async () => {
      const clock = new FakeClock();
      const source = new ScriptedSource();
      const { informer, events } = await startInformer(source, clock);
      source.current.send({ type: "ADDED", object: widget("a", "11") });
      source.current.fail(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
      await clock.advance(799);
      assert.equal(source.watches.length, 1, "still backing off");
      await clock.advance(1);
      assert.equal(source.watches.length, 2);
      assert.equal(source.current.resourceVersion, "11");
      assert.equal(source.listCalls, 1);
      source.current.send({ type: "MODIFIED", object: widget("a", "12") });
      assert.equal(events.at(-1)?.type, "update");
      await informer.stop();
    });

    it("keeps retrying while the server refuses connections, with growing delays", async () => {
      const clock = new FakeClock();
      const source = new ScriptedSource();
      const { informer } = await startInformer(source, clock);
      const refused = () => Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
      source.current.fail(refused());
      await clock.advance(800);
      source.current.fail(refused());
      await clock.advance(1_599);
      assert.equal(source.watches.length, 2);
      await clock.advance(1);
      assert.equal(source.watches.length, 3);
      await informer.stop();
    });

    it("relists on 410 Gone and reports what changed meanwhile", async () => {
      const clock = new FakeClock();
      const source = new ScriptedSource();
      source.items = [widget("a", "5"), widget("b", "6")];
      const { informer, events } = await startInformer(source, clock);
      events.length = 0;
      source.items = [widget("a", "5"), widget("c", "20")];
      source.listResourceVersion = "21";
      source.current.send({ type: "ERROR", object: { metadata: { name: "" }, code: 410, reason: "Expired" } });
      await clock.advance(0);
      assert.equal(source.listCalls, 2);
      assert.deepEqual(
        events.map((e) => `${e.type}:${e.object.metadata.name}`),
        ["add:c", "delete:b"],
        "unchanged a is not reported",
      );
      assert.equal(source.current.resourceVersion, "21");
      await informer.stop();
    });

    it("relists when the watch request itself answers 410", async () => {
      const clock = new FakeClock();
      const source = new ScriptedSource();
      const { informer } = await startInformer(source, clock);
      source.current.fail(new KubeApiError({ status: 410, reason: "Expired", message: "Gone" }));
      await clock.advance(0);
      assert.equal(source.listCalls, 2);
      await informer.stop();
    });

    it("restarts a watch that stays silent past the idle limit", async () => {
      const clock = new FakeClock();
      const source = new ScriptedSource();
      const { informer } = await startInformer(source, clock, { watchIdleTimeoutMs: 60_000 });
      await clock.advance(30_000);
      source.current.send({ type: "BOOKMARK", object: { metadata: { name: "", resourceVersion: "15" } } });
      await clock.advance(59_999);
      assert.equal(source.watches.length, 1, "a bookmark counts as life");
      await clock.advance(1);
      assert.equal(source.watches.length, 2);
      assert.equal(source.current.resourceVersion, "15");
      await informer.stop();
    });
  });

  it("retries a failed first list with backoff and only then reports synced", async () => {
    const clock = new FakeClock();
    const source = new ScriptedSource();
    source.listErrors = [new KubeApiError({ status: 503, message: "unavailable" })];
    const { informer } = await startInformer(source, clock);
    assert.equal(informer.hasSynced(), false);
    await clock.advance(800);
    assert.equal(informer.hasSynced(), true);
    await informer.stop();
  });

  it("resyncs every 10 minutes unless told otherwise", async () => {
    const clock = new FakeClock();
    const source = new ScriptedSource();
    source.items = [widget("a", "5")];
    const informer = new Informer<Widget>({ source, name: "widgets", logger, clock, watchIdleTimeoutMs: 3_600_000 });
    const resyncs: number[] = [];
    informer.on((event) => {
      if (event.type === "update" && event.resync) resyncs.push(clock.now());
    });
    const startedAt = clock.now();
    informer.start();
    await clock.advance(599_999);
    assert.equal(resyncs.length, 0);
    await clock.advance(1);
    await clock.advance(600_000);
    assert.deepEqual(resyncs, [startedAt + 600_000, startedAt + 1_200_000]);
    await informer.stop();
  });

  it("replays every object on resync, marked as such and with an unchanged resourceVersion", async () => {
    const clock = new FakeClock();
    const source = new ScriptedSource();
    source.items = [widget("a", "5")];
    const { informer, events } = await startInformer(source, clock, { resyncPeriodMs: 600_000 });
    events.length = 0;
    await clock.advance(600_000);
    assert.equal(events.length, 1);
    const [event] = events;
    assert.ok(event?.type === "update" && event.resync);
    assert.equal(event.object.metadata.resourceVersion, event.oldObject.metadata.resourceVersion);
    await informer.stop();
  });
});
