// The manager's /metrics as the provider benchmarks read them: Prometheus text parsed
// into samples, and the differences between two scrapes that the figures are made of
// (API-server requests by verb and resource, MAAS requests by operation as the
// manager counted them, reconciles, the work queue).

export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseMetrics(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] ?? ""] = pair[2] ?? "";
    samples.push({ name: match[1] ?? "", labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of the samples of `name` whose labels `match` picks (NaN when there is none). */
export function gauge(samples: readonly MetricSample[], name: string, match: (labels: Record<string, string>) => boolean = () => true): number {
  let found = false;
  let sum = 0;
  for (const s of samples) {
    if (s.name !== name || !match(s.labels)) continue;
    found = true;
    sum += s.value;
  }
  return found ? sum : Number.NaN;
}

/** after − before, per sample of `name`, summed by the value of `label`; zero differences left out. */
export function deltaBy(before: readonly MetricSample[], after: readonly MetricSample[], name: string, label: (labels: Record<string, string>) => string): Map<string, number> {
  const out = new Map<string, number>();
  const add = (samples: readonly MetricSample[], sign: number): void => {
    for (const s of samples) {
      if (s.name !== name) continue;
      const key = label(s.labels);
      out.set(key, (out.get(key) ?? 0) + sign * s.value);
    }
  };
  add(after, 1);
  add(before, -1);
  for (const [key, value] of out) if (value === 0) out.delete(key);
  return out;
}

/** Mean of a histogram between two scrapes (Δ_sum / Δ_count) for the samples `match` picks. */
export function histogramMean(before: readonly MetricSample[], after: readonly MetricSample[], name: string, match: (labels: Record<string, string>) => boolean): number {
  const total = (suffix: string): number => {
    let n = 0;
    for (const s of after) if (s.name === `${name}${suffix}` && match(s.labels)) n += s.value;
    for (const s of before) if (s.name === `${name}${suffix}` && match(s.labels)) n -= s.value;
    return n;
  };
  return total("_sum") / total("_count");
}

export const WRITE_VERBS = new Set(["POST", "PUT", "PATCH", "DELETE", "DELETECOLLECTION", "APPLY"]);

export interface ApiRequests {
  /** GET, LIST, WATCH, POST, PATCH, … (rest_client_requests_by_verb_total). */
  byVerb: Map<string, number>;
  /** "PATCH maasmachines/status", "POST events", … */
  byVerbAndResource: Map<string, number>;
  /** "PATCH 200", "GET 404", … (rest_client_requests_total: by HTTP method and code). */
  byCode: Map<string, number>;
  writes: number;
  reads: number;
}

/** The manager's API-server requests between two scrapes. */
export function apiRequests(before: readonly MetricSample[], after: readonly MetricSample[]): ApiRequests {
  const byVerb = deltaBy(before, after, "rest_client_requests_by_verb_total", (l) => l.verb ?? "?");
  const byVerbAndResource = deltaBy(before, after, "rest_client_requests_by_verb_total", (l) => `${l.verb ?? "?"} ${l.resource ?? "?"}`);
  const byCode = deltaBy(before, after, "rest_client_requests_total", (l) => `${l.method ?? "?"} ${l.code ?? "?"}`);
  let writes = 0;
  let reads = 0;
  for (const [verb, n] of byVerb) {
    if (WRITE_VERBS.has(verb)) writes += n;
    else reads += n;
  }
  return { byVerb, byVerbAndResource, byCode, writes, reads };
}

/**
 * MAAS requests between two scrapes as the manager counted them
 * (capmaas_maas_requests_total: every attempt, by operation): a running tally that
 * loses nothing however many requests there are, to set beside the simulator's log.
 */
export function maasRequests(before: readonly MetricSample[], after: readonly MetricSample[]): Map<string, number> {
  return deltaBy(before, after, "capmaas_maas_requests_total", (l) => l.operation ?? "?");
}

const OURS = (l: Record<string, string>): boolean => l.name === "maasmachine" || l.controller === "maasmachine";

/** MaasMachine reconciles between two scrapes, by result. */
export function reconciles(before: readonly MetricSample[], after: readonly MetricSample[]): Map<string, number> {
  return deltaBy(before, after, "controller_runtime_reconcile_total", (l) => (l.controller === "maasmachine" ? (l.result ?? "?") : "other controllers"));
}

/** The MaasMachine work queue between two scrapes: adds, mean wait in the queue, mean reconcile time. */
export function queueFigures(before: readonly MetricSample[], after: readonly MetricSample[]): { adds: number; meanWaitMs: number; meanReconcileMs: number } {
  return {
    adds: deltaBy(before, after, "workqueue_adds_total", (l) => (OURS(l) ? "ours" : "other")).get("ours") ?? 0,
    meanWaitMs: histogramMean(before, after, "workqueue_queue_duration_seconds", OURS) * 1000,
    meanReconcileMs: histogramMean(before, after, "controller_runtime_reconcile_time_seconds", OURS) * 1000,
  };
}

/** The MaasMachine queue now: items waiting, workers busy, adds, reconciles and those that ended in success (no requeue) so far. */
export function queueNow(samples: readonly MetricSample[]): { depth: number; active: number; adds: number; reconciles: number; succeeded: number } {
  const zero = (n: number): number => (Number.isNaN(n) ? 0 : n);
  return {
    depth: zero(gauge(samples, "workqueue_depth", OURS)),
    active: zero(gauge(samples, "controller_runtime_active_workers", OURS)),
    adds: zero(gauge(samples, "workqueue_adds_total", OURS)),
    reconciles: zero(gauge(samples, "controller_runtime_reconcile_total", OURS)),
    succeeded: zero(gauge(samples, "controller_runtime_reconcile_total", (l) => OURS(l) && l.result === "success")),
  };
}
