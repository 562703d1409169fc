import { apiErrorStatus } from "./kube-errors.ts";
import { V1MicroTime, setHeaderOptions, type EventsV1Api, type EventsV1Event } from "@kubernetes/client-node";
import { systemClock, type Clock, type TimerHandle } from "../clock/index.ts";
import type { Logger } from "../observability/index.ts";
import { EventAggregator, type AggregatorOptions, type Series } from "./events-aggregator.ts";
import { formatMicroTime } from "./leader-election-lock.ts";
import type { KubeObject } from "./kube-object.ts";

export type EventType = "Normal" | "Warning";

export interface EventInput {
  type: EventType;
  /** CamelCase, why the action was taken, e.g. `MachineDeployed`. */
  reason: string;
  /** CamelCase, what was done or failed, e.g. `Deploy`. */
  action: string;
  /** Human-readable; cut to the API's 1 kB limit. */
  note: string;
  related?: KubeObject;
}

/** Where Events go; {@link KubeEventSink} writes them through `events.k8s.io/v1`. */
export interface EventSink {
  create(event: EventsV1Event): Promise<void>;
  patchSeries(ref: { namespace: string; name: string }, series: { count: number; lastObservedTime: string }): Promise<void>;
}

/**
 * EventsV1Api from client-node 1.4. Its generated `patchNamespacedEvent` lists
 * `application/json-patch+json` first and sends that content type, so a merge-patch
 * body would be refused; `setHeaderOptions` overrides the header per call, which is
 * the documented way to choose the patch type in 1.x.
 */
export class KubeEventSink implements EventSink {
  constructor(private readonly api: EventsV1Api) {}

  async create(event: EventsV1Event): Promise<void> {
    await this.api.createNamespacedEvent({ namespace: event.metadata?.namespace ?? "default", body: event });
  }

  async patchSeries(ref: { namespace: string; name: string }, series: { count: number; lastObservedTime: string }): Promise<void> {
    await this.api.patchNamespacedEvent(
      { name: ref.name, namespace: ref.namespace, body: { series } },
      setHeaderOptions("Content-Type", "application/merge-patch+json"),
    );
  }
}

export interface EventRecorderOptions extends AggregatorOptions {
  sink: EventSink;
  /** e.g. `infrastructure.cluster.x-k8s.io/maas-controller-manager`. */
  reportingController: string;
  /** This process, e.g. the leader-election identity. */
  reportingInstance: string;
  logger: Logger;
  clock?: Clock;
}

/**
 * Records Events on objects without flooding the API server: occurrences are
 * aggregated into series and rate-limited per object (see events-aggregator.ts).
 * `event()` never blocks a reconcile and never throws; failures are logged.
 */
export class EventRecorder {
  private readonly opts: EventRecorderOptions;
  private readonly clock: Clock;
  private readonly aggregator: EventAggregator;
  private readonly chains = new Map<Series, Promise<void>>();
  private readonly timers = new Map<Series, TimerHandle>();
  // Weak: a series the aggregator forgets takes its namespace with it.
  private readonly refs = new WeakMap<Series, { namespace: string }>();

  constructor(options: EventRecorderOptions) {
    this.opts = options;
    this.clock = options.clock ?? systemClock;
    this.aggregator = new EventAggregator(options);
  }

  event(regarding: KubeObject, input: EventInput): void {
    const { metadata } = regarding;
    const note = input.note.length > 1024 ? `${input.note.slice(0, 1021)}...` : input.note;
    const decision = this.aggregator.observe(
      {
        regarding: metadata.uid ?? `${metadata.namespace ?? ""}/${metadata.name}`,
        reason: input.reason,
        type: input.type,
        action: input.action,
        note,
      },
      this.clock.now(),
    );
    switch (decision.action) {
      case "create":
        this.refs.set(decision.series, { namespace: metadata.namespace ?? "default" });
        this.chain(decision.series, () => this.create(decision.series, regarding, { ...input, note }));
        return;
      case "patch":
        this.chain(decision.series, () => this.flushSeries(decision.series));
        return;
      case "defer":
        this.scheduleFlush(decision.series, decision.dueInMs);
        return;
      case "drop":
        this.opts.logger.debug({ reason: input.reason, name: metadata.name }, "event dropped by the per-object rate limit");
    }
  }

  /** Sends every pending series update and waits for all writes; for shutdown and tests. */
  async flush(): Promise<void> {
    for (const [series, timer] of this.timers) {
      this.clock.clearTimeout(timer);
      this.timers.delete(series);
      this.chain(series, () => this.flushSeries(series));
    }
    while (this.chains.size > 0) await Promise.all(this.chains.values());
  }

  private async create(series: Series, regarding: KubeObject, input: EventInput): Promise<void> {
    const now = this.clock.now();
    const { metadata } = regarding;
    const namespace = metadata.namespace ?? "default";
    // client-go names Events `<object>.<hex nanoseconds>`, unique per occurrence.
    const name = `${metadata.name}.${(BigInt(now) * 1_000_000n).toString(16)}`;
    const body: EventsV1Event = {
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { name, namespace },
      eventTime: new V1MicroTime(now),
      reportingController: this.opts.reportingController,
      reportingInstance: this.opts.reportingInstance,
      action: input.action,
      reason: input.reason,
      note: input.note,
      type: input.type,
      regarding: objectReference(regarding),
      ...(input.related === undefined ? {} : { related: objectReference(input.related) }),
    };
    try {
      await this.opts.sink.create(body);
      series.name = name;
      this.aggregator.sent(series, 1, now);
      if (series.count > series.sentCount) await this.flushSeries(series);
    } catch (err) {
      this.aggregator.forget(series);
      this.opts.logger.warn({ err: describe(err), reason: input.reason }, "could not create event");
    }
  }

  private async flushSeries(series: Series): Promise<void> {
    const ref = this.refs.get(series);
    if (series.name === undefined || ref === undefined || series.count <= series.sentCount) return;
    const count = series.count;
    try {
      await this.opts.sink.patchSeries(
        { namespace: ref.namespace, name: series.name },
        { count, lastObservedTime: formatMicroTime(series.lastObservedMs) },
      );
      this.aggregator.sent(series, count, this.clock.now());
    } catch (err) {
      // Gone (expired by the server's event TTL) or unreachable: start afresh next time.
      this.aggregator.forget(series);
      this.opts.logger.warn({ err: describe(err) }, "could not update event series");
    }
  }

  private scheduleFlush(series: Series, dueInMs: number): void {
    if (this.timers.has(series)) return;
    this.timers.set(
      series,
      this.clock.setTimeout(() => {
        this.timers.delete(series);
        this.chain(series, () => this.flushSeries(series));
      }, dueInMs),
    );
  }

  /** Runs writes of one series in order; a create always lands before its patches. */
  private chain(series: Series, write: () => Promise<void>): void {
    const previous = this.chains.get(series) ?? Promise.resolve();
    const next = previous.then(write).catch((err: unknown) => {
      this.opts.logger.warn({ err: describe(err) }, "event write failed");
    });
    this.chains.set(series, next);
    void next.finally(() => {
      if (this.chains.get(series) === next) this.chains.delete(series);
    });
  }
}

function objectReference(obj: KubeObject): NonNullable<EventsV1Event["regarding"]> {
  const { metadata } = obj;
  return {
    ...(obj.apiVersion === undefined ? {} : { apiVersion: obj.apiVersion }),
    ...(obj.kind === undefined ? {} : { kind: obj.kind }),
    name: metadata.name,
    ...(metadata.namespace === undefined ? {} : { namespace: metadata.namespace }),
    ...(metadata.uid === undefined ? {} : { uid: metadata.uid }),
    ...(metadata.resourceVersion === undefined ? {} : { resourceVersion: metadata.resourceVersion }),
  };
}

function describe(err: unknown): string {
  const status = apiErrorStatus(err);
  if (status !== undefined) return `HTTP ${status}`;
  return err instanceof Error ? err.message : String(err);
}
