import { apiErrorStatus } from "./kube-errors.ts";
import { systemClock, type Clock, type TimerHandle } from "../clock/index.ts";
import type { Logger } from "../observability/index.ts";
import { IndexedStore, type IndexFunc } from "./cache.ts";
import type { WatchEvent } from "./kube-client.ts";
import type { KubeMetrics } from "./kube-metrics.ts";
import { objectKey, type KubeObject } from "./kube-object.ts";
import { InformerHandlers, type InformerEventHandler } from "./informer-handlers.ts";
import { ListWatchState, type BackoffPolicy, type InformerStep, type RestartReason } from "./informer-state.ts";
import type { ListWatchSource } from "./informer-source.ts";

export type { InformerEvent, InformerEventHandler } from "./informer-handlers.ts";

export interface InformerOptions<T extends KubeObject> {
  source: ListWatchSource<T>;
  /** Names the informer in logs and metrics, e.g. `widgets.fixtures.runtime.test`. */
  name: string;
  logger: Logger;
  clock?: Clock;
  metrics?: KubeMetrics;
  indexers?: Record<string, IndexFunc<T>>;
  /** Every object is handed to the handlers again this often (default 10 min; 0 = never). */
  resyncPeriodMs?: number;
  /** Base of the watch's server-side `timeoutSeconds`; each watch takes base..2×base (default 300). */
  watchTimeoutSeconds?: number;
  /**
   * A watch that delivered nothing (not even a bookmark) this long is restarted.
   * Default: the watch's own timeoutSeconds plus one minute. kube-apiserver 1.34
   * sends an idle watch no periodic bookmarks, only some shortly before its
   * timeoutSeconds, so a healthy idle watch may be silent almost that long; one
   * still open past it is a dead connection the server can no longer close.
   */
  watchIdleTimeoutMs?: number;
  /** Page size of the list (default 500). */
  pageSize?: number;
  backoff?: Partial<BackoffPolicy>;
}

/**
 * A list+watch cache of one kind, shared by every controller that reads it.
 * Reads (`get`, `list`, `byIndex`) come from memory; the API server sees one list
 * per (re)sync and one long-running watch. See informer-state.ts for the recovery
 * rules that replace client-node's stop-on-error `makeInformer`.
 */
export class Informer<T extends KubeObject> {
  readonly name: string;
  private readonly options: InformerOptions<T>;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly store: IndexedStore<T>;
  private readonly state: ListWatchState;
  private readonly handlers: InformerHandlers<T>;
  private readonly stopController = new AbortController();
  private running: Promise<void> | undefined;
  private resyncTimer: TimerHandle | undefined;
  private syncWaiters: Array<() => void> = [];

  constructor(options: InformerOptions<T>) {
    this.options = options;
    this.name = options.name;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger.child({ informer: options.name });
    this.store = new IndexedStore<T>(options.indexers ?? {});
    this.state = new ListWatchState(options.backoff);
    this.handlers = new InformerHandlers<T>(this.logger);
  }

  /** Registers a handler; objects already cached are delivered to it as adds first. */
  on(handler: InformerEventHandler<T>): () => void {
    return this.handlers.add(handler, this.state.hasSynced ? this.store.list() : []);
  }

  /** Adds an index; allowed at any time, existing objects are indexed at once. */
  addIndexer(name: string, fn: IndexFunc<T>): void {
    this.store.addIndexer(name, fn);
  }

  start(): void {
    if (this.running !== undefined) return;
    this.running = this.run().catch((err: unknown) => {
      this.logger.error({ err }, "informer loop failed");
    });
    this.scheduleResync();
  }

  async stop(): Promise<void> {
    this.stopController.abort(new Error("informer stopped"));
    if (this.resyncTimer !== undefined) this.clock.clearTimeout(this.resyncTimer);
    await this.running;
  }

  hasSynced(): boolean {
    return this.state.hasSynced;
  }

  /** Resolves once the first list has been stored; rejects when `signal` aborts first. */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.state.hasSynced) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(signal?.reason as Error);
      if (signal?.aborted === true) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      this.syncWaiters.push(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      });
    });
  }

  /** A copy of the cached object, so callers may modify it (e.g. before a patch). */
  get(namespace: string | undefined, name: string): T | undefined {
    const found = this.store.get(objectKey({ namespace: namespace ?? "", name }));
    return found === undefined ? undefined : structuredClone(found);
  }

  /** Copies of every cached object, or of one namespace's. */
  list(namespace?: string): T[] {
    return this.store.list(namespace).map((obj) => structuredClone(obj));
  }

  /**
   * Calls `visit` with each cached object itself, no copies: for counting over every
   * object (a metrics scrape) without cloning thousands of them. `visit` must neither
   * change an object nor keep it past the call.
   */
  forEachCached(visit: (object: Readonly<T>) => void): void {
    for (const obj of this.store.list()) visit(obj);
  }

  /** Copies of the objects an index holds under `value`. */
  byIndex(indexName: string, value: string): T[] {
    return this.store.byIndex(indexName, value).map((obj) => structuredClone(obj));
  }

  /** `namespace/name` keys under an index value; cheap, no copies (for watch mappings). */
  keysByIndex(indexName: string, value: string): string[] {
    return this.store.keysByIndex(indexName, value);
  }

  /** Number of cached objects; cheap, no copies. */
  get size(): number {
    return this.store.size;
  }

  /** The resourceVersion the cache is at (from the last list, event or bookmark). */
  get lastResourceVersion(): string | undefined {
    return this.state.lastResourceVersion;
  }

  private async run(): Promise<void> {
    const signal = this.stopController.signal;
    let step: InformerStep = this.state.start();
    while (!signal.aborted) {
      if (step.action === "list") {
        step = await this.listOnce();
      } else if (step.action === "watch") {
        step = await this.watchOnce(step.resourceVersion);
      } else {
        this.logger.debug({ delayMs: step.delayMs, then: step.then }, "backing off");
        try {
          await this.clock.sleep(step.delayMs, signal);
        } catch {
          return;
        }
        step = this.state.afterWait(step.then);
      }
    }
  }

  private async listOnce(): Promise<InformerStep> {
    const signal = this.stopController.signal;
    this.options.metrics?.informerRelists.inc({ kind: this.name });
    try {
      const items: T[] = [];
      let token: string | undefined;
      let resourceVersion = "";
      do {
        const page = await this.options.source.list({
          limit: this.options.pageSize ?? 500,
          signal,
          ...(token === undefined ? {} : { continue: token }),
        });
        items.push(...page.items);
        resourceVersion = page.resourceVersion;
        token = page.continue;
      } while (token !== undefined);
      const diff = this.store.replace(items.map(deepFreeze));
      const wasSynced = this.state.hasSynced;
      const next = this.state.listSucceeded(resourceVersion);
      this.logger.debug({ count: items.length, resourceVersion }, "listed");
      for (const obj of diff.added) this.handlers.emit({ type: "add", object: obj });
      for (const { oldObject, object } of diff.updated) {
        this.handlers.emit({ type: "update", object, oldObject, resync: false });
      }
      for (const obj of diff.deleted) this.handlers.emit({ type: "delete", object: obj, finalStateUnknown: true });
      if (!wasSynced) this.notifySynced();
      return next;
    } catch (err) {
      if (signal.aborted) return { action: "list" };
      // An expired continue token (410) also lands here: the list simply starts over.
      this.logger.warn({ err: describe(err) }, "list failed; retrying with backoff");
      return this.state.listFailed();
    }
  }

  private async watchOnce(resourceVersion: string): Promise<InformerStep> {
    const stopSignal = this.stopController.signal;
    const watchController = new AbortController();
    const abortWatch = (): void => watchController.abort();
    stopSignal.addEventListener("abort", abortWatch, { once: true });
    const base = this.options.watchTimeoutSeconds ?? 300;
    const timeoutSeconds = Math.round(base * (1 + Math.random()));
    const idleMs = this.options.watchIdleTimeoutMs ?? (timeoutSeconds + 60) * 1000;
    const startedAt = this.clock.now();
    let lastActivity = startedAt;
    let eventsReceived = 0;
    // Set from callbacks; the cast keeps TypeScript from narrowing it to its initial value.
    let outcome = "ended" as "ended" | "idle" | "gone" | "error-event";
    let watchdog: TimerHandle | undefined;
    const armWatchdog = (delayMs: number): void => {
      watchdog = this.clock.setTimeout(() => {
        const silentMs = this.clock.now() - lastActivity;
        if (silentMs < idleMs) return armWatchdog(idleMs - silentMs);
        outcome = "idle";
        watchController.abort();
      }, delayMs);
    };
    armWatchdog(idleMs);
    const onEvent = (event: WatchEvent): void => {
      // Lines already buffered when we gave up on this stream are not applied.
      if (watchController.signal.aborted) return;
      lastActivity = this.clock.now();
      eventsReceived += 1;
      this.options.metrics?.watchEvents.inc({ kind: this.name, type: event.type });
      if (event.type === "ERROR") {
        outcome = event.object.code === 410 ? "gone" : "error-event";
        this.logger.info({ status: event.object.message, code: event.object.code }, "watch error event");
        watchController.abort();
        return;
      }
      this.apply(event);
      this.state.eventReceived(event.object.metadata?.resourceVersion);
    };
    try {
      await this.options.source.watch({ resourceVersion, timeoutSeconds, signal: watchController.signal }, onEvent);
    } catch (err) {
      if (stopSignal.aborted) return { action: "list" };
      if (apiErrorStatus(err) === 410) {
        outcome = "gone";
      } else if (outcome === "ended") {
        const status = apiErrorStatus(err);
        const relist = status !== undefined && !isTransient(status);
        this.restarted("error");
        this.logger.warn({ err: describe(err), resourceVersion }, "watch failed; restarting with backoff");
        return this.state.watchFailed({ relist });
      }
    } finally {
      if (watchdog !== undefined) this.clock.clearTimeout(watchdog);
      stopSignal.removeEventListener("abort", abortWatch);
    }
    if (stopSignal.aborted) return { action: "list" };
    switch (outcome) {
      case "gone":
        this.restarted("gone");
        this.logger.info({ resourceVersion }, "resourceVersion too old (410 Gone); relisting");
        return this.state.gone();
      case "idle":
        this.restarted("idle");
        this.logger.warn({ idleMs }, "watch silent too long; restarting it");
        return this.state.watchIdle();
      case "error-event":
        this.restarted("error");
        return this.state.watchFailed({ relist: true });
      default:
        this.restarted("closed");
        return this.state.watchEnded({ durationMs: this.clock.now() - startedAt, eventsReceived });
    }
  }

  private apply(event: WatchEvent): void {
    const obj = deepFreeze(event.object as unknown as T);
    if (event.type === "BOOKMARK") return;
    if (event.type === "DELETED") {
      // The event carries the object's final state; emit even if we never cached it.
      this.store.remove(objectKey(obj));
      this.handlers.emit({ type: "delete", object: obj, finalStateUnknown: false });
      return;
    }
    const old = this.store.upsert(obj);
    if (old === undefined) {
      this.handlers.emit({ type: "add", object: obj });
    } else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) {
      this.handlers.emit({ type: "update", object: obj, oldObject: old, resync: false });
    }
  }

  private restarted(reason: RestartReason): void {
    this.options.metrics?.informerRestarts.inc({ kind: this.name, reason });
  }

  private notifySynced(): void {
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private scheduleResync(): void {
    const periodMs = this.options.resyncPeriodMs ?? 600_000;
    if (periodMs <= 0 || this.stopController.signal.aborted) return;
    this.resyncTimer = this.clock.setTimeout(() => {
      if (this.state.hasSynced) {
        // Same object as old and new: handlers see `resync: true` and an unchanged
        // resourceVersion, so change predicates drop it while periodic work still runs.
        for (const obj of this.store.list()) this.handlers.emit({ type: "update", object: obj, oldObject: obj, resync: true });
      }
      this.scheduleResync();
    }, periodMs);
  }
}

/** 429, 5xx and 0 (no answer) are worth a plain retry; other statuses need a fresh list. */
function isTransient(code: number): boolean {
  return code === 429 || code >= 500 || code === 0;
}

function describe(err: unknown): string {
  const status = apiErrorStatus(err);
  if (status !== undefined) return `HTTP ${status}`;
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

// Cached objects are shared by every reader; freezing turns an accidental write into
// a TypeError instead of silent corruption of the cache.
function deepFreeze<V>(value: V): V {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
