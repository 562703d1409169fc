import { Counter, Gauge, Registry, type Metric } from "prom-client";

/**
 * The Kubernetes-facing metrics of the runtime, under the names client-go and
 * controller-runtime use so existing dashboards work: REST requests by method and
 * code, and apart by the API server's verb and resource (a LIST apart from a GET),
 * informer restarts / relists / watch events per kind, and the leader gauge.
 * The reconcile and work-queue metrics live in metrics.ts.
 */
export interface KubeMetrics {
  readonly registry: Registry;
  readonly restRequests: Counter<"method" | "code">;
  readonly restRequestsByVerb: Counter<"verb" | "resource">;
  readonly informerRestarts: Counter<"kind" | "reason">;
  readonly informerRelists: Counter<"kind">;
  readonly watchEvents: Counter<"kind" | "type">;
  readonly leaderStatus: Gauge<"name">;
}

const byRegistry = new WeakMap<Registry, KubeMetrics>();

/** Registers (once per registry) and returns the runtime's Kubernetes metrics. */
export function kubeMetrics(registry: Registry = new Registry()): KubeMetrics {
  const existing = byRegistry.get(registry);
  if (existing !== undefined) return existing;
  const metrics: KubeMetrics = {
    registry,
    restRequests: reuse(registry, "rest_client_requests_total", () =>
      new Counter({
        name: "rest_client_requests_total",
        help: "Number of HTTP requests to the API server, partitioned by method and status code.",
        labelNames: ["method", "code"],
        registers: [registry],
      }),
    ),
    restRequestsByVerb: reuse(registry, "rest_client_requests_by_verb_total", () =>
      new Counter({
        name: "rest_client_requests_by_verb_total",
        help: "Number of requests to the API server, partitioned by verb (GET, LIST, WATCH, POST, PUT, PATCH, DELETE, ...) and resource.",
        labelNames: ["verb", "resource"],
        registers: [registry],
      }),
    ),
    informerRestarts: reuse(registry, "informer_restarts_total", () =>
      new Counter({
        name: "informer_restarts_total",
        help: "Watches restarted after an error, a closed stream or a silent connection.",
        labelNames: ["kind", "reason"],
        registers: [registry],
      }),
    ),
    informerRelists: reuse(registry, "informer_relists_total", () =>
      new Counter({
        name: "informer_relists_total",
        help: "Full lists made by informers (the first one and each after 410 Gone or a failure).",
        labelNames: ["kind"],
        registers: [registry],
      }),
    ),
    watchEvents: reuse(registry, "informer_watch_events_total", () =>
      new Counter({
        name: "informer_watch_events_total",
        help: "Watch events received, by kind and event type.",
        labelNames: ["kind", "type"],
        registers: [registry],
      }),
    ),
    leaderStatus: reuse(registry, "leader_election_master_status", () =>
      new Gauge({
        name: "leader_election_master_status",
        help: "1 while this process holds the named leader-election lease, 0 otherwise.",
        labelNames: ["name"],
        registers: [registry],
      }),
    ),
  };
  byRegistry.set(registry, metrics);
  return metrics;
}

// A registry shared with code that registered the same name first keeps working.
function reuse<T extends Metric>(registry: Registry, name: string, create: () => T): T {
  const found = registry.getSingleMetric(name);
  return found === undefined ? create() : (found as T);
}
