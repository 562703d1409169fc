import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { CoordinationV1Api, EventsV1Api, type KubeConfig } from "@kubernetes/client-node";
import { Registry, collectDefaultMetrics } from "prom-client";
import { systemClock, type Clock } from "../clock/index.ts";
import type { Logger } from "../observability/index.ts";
import { Controller } from "./controller.ts";
import { EventRecorder, KubeEventSink } from "./events.ts";
import type { IndexFunc } from "./cache.ts";
import { DEFAULT_INDEXERS } from "./indexers.ts";
import { Informer, type InformerOptions } from "./informer.ts";
import { apiServerSource } from "./informer-source.ts";
import { KubeClient } from "./kube-client.ts";
import { kubeMetrics, type KubeMetrics } from "./kube-metrics.ts";
import { kindLabel, type KindSpec, type KubeObject } from "./kube-object.ts";
import { KubeTransport } from "./kube-transport.ts";
import { KubeLeaseLock, LeaderElector } from "./leader-election.ts";
import { changedOrResync, requestFor, resourceVersionChanged, type EventPredicate, type WatchSpec } from "./manager-watches.ts";
import { createRuntimeMetrics, type RuntimeMetrics } from "./metrics.ts";
import { startProbeServer, type ProbeCheck, type ProbeServer } from "./probes.ts";
import type { RateLimiter } from "./rate-limiter.ts";
import type { Reconciler } from "./result.ts";

export interface LeaderElectionOptions {
  leaseName: string;
  namespace: string;
  /** Defaults to `<hostname>_<uuid>`. */
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Called when this replica becomes the leader, just before its controllers start. */
  onStartedLeading?: () => void;
}

export type InformerTuning = Pick<
  InformerOptions<KubeObject>,
  "resyncPeriodMs" | "watchTimeoutSeconds" | "watchIdleTimeoutMs" | "pageSize" | "backoff"
>;

export interface ManagerOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  clock?: Clock;
  /** Where /metrics reads from; a fresh registry with process metrics by default. */
  metricsRegistry?: Registry;
  /** Port of /healthz, /readyz and /metrics; 0 picks a free one; false serves none. Default 8081. */
  probesPort?: number | false;
  probesHost?: string;
  /** The field manager of every write. */
  fieldManager?: string;
  /** Without it every replica reconciles (fine for tests and single-replica setups). */
  leaderElection?: LeaderElectionOptions;
  /** Limits every informer to one namespace. */
  namespace?: string;
  informers?: InformerTuning;
  /** Indexers added to every informer (e.g. capi's cluster-name index). */
  indexers?: Readonly<Record<string, IndexFunc<KubeObject>>>;
  /** How long stop() lets running reconciles finish (default 30 s). */
  shutdownDeadlineMs?: number;
  /** More /readyz checks beside the informers' sync (e.g. the admission webhook server). */
  readyChecks?: readonly ProbeCheck[];
  /** `reportingController` of Events. */
  eventSource?: string;
}

/** Narrows an informer to the objects a selector picks (within the manager's namespace unless it names one). */
export interface InformerScope {
  labelSelector?: string;
  fieldSelector?: string;
  /** Overrides the manager's namespace for this informer (e.g. the credentials Secret's). */
  namespace?: string;
}

export interface ControllerSpec {
  name: string;
  /** The kind this controller reconciles; its objects' keys are the requests. */
  for: KindSpec;
  /** Selectors for the primary informer, e.g. the watch-filter label. */
  forScope?: InformerScope;
  /** Defaults to {@link changedOrResync}. */
  predicate?: EventPredicate;
  watches?: readonly WatchSpec[];
  reconciler: Reconciler;
  workers?: number;
  rateLimiter?: RateLimiter;
  reconcileTimeoutMs?: number;
}

/** Why the manager stopped, and the exit code a process should use. */
export interface ManagerExit {
  reason: "stopped" | "leadership-lost";
  code: 0 | 1;
}

/**
 * Wires the runtime together as controller-runtime's manager does: one transport
 * and client, one informer per kind shared by all controllers, controllers that
 * start only while this replica leads, probes and metrics, and an orderly stop.
 */
export class Manager {
  readonly client: KubeClient;
  readonly registry: Registry;
  readonly runtimeMetrics: RuntimeMetrics;
  readonly kubeMetrics: KubeMetrics;
  readonly identity: string;
  readonly events: EventRecorder;
  /** Resolves once the manager has stopped, with the exit code to use. */
  readonly stopped: Promise<ManagerExit>;
  private readonly opts: ManagerOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly transport: KubeTransport;
  private readonly informers = new Map<string, Informer<KubeObject>>();
  private readonly controllers: Controller[] = [];
  private readonly elector: LeaderElector | undefined;
  private readonly electionStop = new AbortController();
  private election: Promise<void> | undefined;
  private probes: ProbeServer | undefined;
  private started = false;
  private controllersStarted = false;
  private stopping: Promise<void> | undefined;
  private resolveStopped!: (exit: ManagerExit) => void;

  constructor(options: ManagerOptions) {
    this.opts = options;
    this.clock = options.clock ?? systemClock;
    this.log = options.logger.child({ component: "manager" });
    this.registry = options.metricsRegistry ?? defaultRegistry();
    this.runtimeMetrics = createRuntimeMetrics(this.registry);
    this.kubeMetrics = kubeMetrics(this.registry);
    this.transport = new KubeTransport({ kubeConfig: options.kubeConfig, metrics: this.kubeMetrics });
    this.client = new KubeClient({ transport: this.transport, fieldManager: options.fieldManager ?? "capi-maas-manager" });
    this.identity = options.leaderElection?.identity ?? `${hostname()}_${randomUUID()}`;
    this.stopped = new Promise((resolve) => {
      this.resolveStopped = resolve;
    });
    const apiConfig = this.transport.apiConfiguration();
    this.events = new EventRecorder({
      sink: new KubeEventSink(new EventsV1Api(apiConfig)),
      reportingController: options.eventSource ?? "capi-maas-manager",
      reportingInstance: this.identity,
      logger: this.log,
      clock: this.clock,
    });
    const le = options.leaderElection;
    if (le !== undefined) {
      this.elector = new LeaderElector({
        lock: new KubeLeaseLock({ api: new CoordinationV1Api(apiConfig), namespace: le.namespace, name: le.leaseName }),
        identity: this.identity,
        name: le.leaseName,
        logger: this.log,
        // Without an injected clock the elector keeps its own monotonic one (lease expiry is a duration).
        ...(options.clock === undefined ? {} : { clock: options.clock }),
        metrics: this.kubeMetrics,
        onNewLeader: (holder) => this.log.info({ holder }, "new leader observed"),
        ...(le.leaseDurationMs === undefined ? {} : { leaseDurationMs: le.leaseDurationMs }),
        ...(le.renewDeadlineMs === undefined ? {} : { renewDeadlineMs: le.renewDeadlineMs }),
        ...(le.retryPeriodMs === undefined ? {} : { retryPeriodMs: le.retryPeriodMs }),
      });
    }
  }

  /**
   * The shared informer of `kind` (and selectors), created on first use and started at
   * once if the manager runs. Selectors narrow the cache: a Secret watch with a label
   * selector holds only the Secrets it names, not every Secret in the cluster.
   */
  informer<T extends KubeObject>(kind: KindSpec<T>, scope: InformerScope = {}): Informer<T> {
    const name = kindLabel(kind);
    const namespace = scope.namespace ?? this.opts.namespace;
    const key = [name, namespace ?? "", scope.labelSelector ?? "", scope.fieldSelector ?? ""].join("|");
    let informer = this.informers.get(key);
    if (informer === undefined) {
      this.client.registerKind(kind);
      informer = new Informer<KubeObject>({
        name,
        source: apiServerSource({
          client: this.client,
          kind,
          ...(namespace === undefined ? {} : { namespace }),
          ...(scope.labelSelector === undefined ? {} : { labelSelector: scope.labelSelector }),
          ...(scope.fieldSelector === undefined ? {} : { fieldSelector: scope.fieldSelector }),
        }),
        logger: this.opts.logger,
        clock: this.clock,
        metrics: this.kubeMetrics,
        indexers: { ...DEFAULT_INDEXERS, ...this.opts.indexers },
        ...this.opts.informers,
      });
      this.informers.set(key, informer);
      if (this.started) informer.start();
    }
    return informer as unknown as Informer<T>;
  }

  addController(spec: ControllerSpec): Controller {
    const controller = new Controller({
      name: spec.name,
      reconciler: spec.reconciler,
      logger: this.opts.logger,
      clock: this.clock,
      metrics: this.runtimeMetrics,
      workers: spec.workers ?? 1,
      ...(spec.rateLimiter === undefined ? {} : { rateLimiter: spec.rateLimiter }),
      ...(spec.reconcileTimeoutMs === undefined ? {} : { reconcileTimeoutMs: spec.reconcileTimeoutMs }),
      onTerminalError: (request, error) => {
        const obj = primary.get(request.namespace, request.name);
        if (obj === undefined) return;
        this.events.event(obj, { type: "Warning", reason: error.reason, action: "Reconcile", note: error.message });
      },
    });
    const primary = this.informer<KubeObject>(spec.for, spec.forScope);
    const forPredicate = spec.predicate ?? changedOrResync;
    primary.on((event) => {
      if (forPredicate(event)) controller.enqueue(requestFor(event.object));
    });
    for (const watch of spec.watches ?? []) {
      const predicate = watch.predicate ?? resourceVersionChanged;
      this.informer<KubeObject>(watch.kind, watch.scope).on((event) => {
        if (!predicate(event)) return;
        for (const request of watch.map(event.object)) controller.enqueue(request);
      });
    }
    this.controllers.push(controller);
    if (this.controllersStarted) controller.start();
    return controller;
  }

  isLeader(): boolean {
    return this.elector === undefined ? this.controllersStarted : this.elector.isLeader();
  }

  /** True once every informer has listed its kind. */
  hasSynced(): boolean {
    return [...this.informers.values()].every((i) => i.hasSynced());
  }

  /**
   * Starts informers and probes, waits for the caches to sync, then runs the
   * controllers: at once without leader election, else once the lease is ours.
   */
  async start(): Promise<void> {
    if (this.started) throw new Error("manager already started");
    this.started = true;
    if (this.opts.probesPort !== false) {
      this.probes = await startProbeServer({
        port: this.opts.probesPort ?? 8081,
        ...(this.opts.probesHost === undefined ? {} : { host: this.opts.probesHost }),
        registry: this.registry,
        healthChecks: [{ name: "ping", check: () => undefined }],
        readyChecks: [{ name: "informers-synced", check: () => this.unsyncedReason() }, ...(this.opts.readyChecks ?? [])],
      });
      this.log.info({ port: this.probes.port }, "serving /healthz, /readyz and /metrics");
    }
    for (const informer of this.informers.values()) informer.start();
    try {
      await Promise.all([...this.informers.values()].map((i) => i.waitForSync(this.electionStop.signal)));
    } catch (err) {
      // stop() during the sync (e.g. SIGTERM at startup) is not a failure to start.
      if (this.stopping !== undefined) return;
      throw err;
    }
    this.log.info({ informers: this.informers.size }, "caches synced");
    if (this.elector === undefined) {
      this.startControllers();
      return;
    }
    const onStartedLeading = this.opts.leaderElection?.onStartedLeading;
    this.election = this.elector.run(this.electionStop.signal, () => {
      onStartedLeading?.();
      this.startControllers();
    }).then(
      (outcome) => {
        if (outcome === "lost") this.leadershipLost();
      },
      (err: unknown) => {
        // Only a throwing onStartedLeading gets here. Whether we still lead is then
        // unknown, so stop as if leadership were lost rather than leave a rejection unhandled.
        this.log.error({ err }, "leader election failed");
        this.leadershipLost();
      },
    );
  }

  private unsyncedReason(): string | undefined {
    const pending = [...this.informers.values()].filter((i) => !i.hasSynced()).map((i) => i.name);
    return pending.length === 0 ? undefined : `caches not synced: ${pending.join(", ")}`;
  }

  /** The probe server's port (useful with probesPort 0). */
  get probesPort(): number | undefined {
    return this.probes?.port;
  }

  /**
   * Stops taking work, lets running reconciles finish within the shutdown deadline,
   * releases the lease, then stops informers and probes. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown({ deadlineMs: this.opts.shutdownDeadlineMs ?? 30_000, exit: { reason: "stopped", code: 0 } });
    return this.stopping;
  }

  /**
   * SIGTERM/SIGINT → stop() → exit 0 (a second signal exits 1 at once); leadership
   * lost → exit 1, as a controller-runtime manager does. Returns an uninstaller.
   */
  installSignalHandlers(exit: (code: number) => void = (code) => process.exit(code)): () => void {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (signalled) return exit(1);
      signalled = true;
      this.log.info({ signal }, "shutting down");
      this.stop().then(
        () => exit(0),
        (err: unknown) => {
          this.log.error({ err }, "shutdown failed");
          exit(1);
        },
      );
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    void this.stopped.then((result) => {
      if (result.reason === "leadership-lost") exit(result.code);
    });
    return () => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
    };
  }

  /** HTTP requests this manager has sent, by method (`WATCH` for watches). */
  requestCounts(): { total: number; byMethod: Record<string, number> } {
    return this.transport.requestCounts();
  }

  private startControllers(): void {
    if (this.controllersStarted || this.stopping !== undefined) return;
    this.controllersStarted = true;
    this.log.info({ controllers: this.controllers.length }, "starting controllers");
    for (const controller of this.controllers) controller.start();
  }

  private leadershipLost(): void {
    this.log.error("leader election lost; stopping reconciles at once");
    // No grace period: another replica may lead as soon as the lease expires.
    this.stopping ??= this.shutdown({ deadlineMs: 0, exit: { reason: "leadership-lost", code: 1 } });
  }

  private async shutdown(options: { deadlineMs: number; exit: ManagerExit }): Promise<void> {
    this.controllersStarted = false;
    // Never-started controllers are shut down too, so nothing can start them later.
    await Promise.all(this.controllers.map((c) => c.shutdown(options.deadlineMs)));
    this.electionStop.abort(new Error("manager stopping"));
    await this.election;
    await this.events.flush().catch(() => undefined);
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
    await this.probes?.close();
    await this.transport.close();
    this.log.info({ reason: options.exit.reason }, "manager stopped");
    this.resolveStopped(options.exit);
  }
}

function defaultRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
