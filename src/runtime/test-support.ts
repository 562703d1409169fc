// Helpers shared by the runtime's unit tests; excluded from the build.
import assert from "node:assert/strict";
import type { Registry } from "prom-client";

/**
 * The value of one sample of a registered metric, matched by labels. Histograms and
 * summaries name each sample (`…_count`, `…_sum`, `…_bucket`); counters and gauges
 * use the metric's own name, the default.
 */
export async function metricSample(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
  sampleName = name,
): Promise<number | undefined> {
  const metric = registry.getSingleMetric(name);
  assert.ok(metric, `metric ${name} is registered`);
  const values: Array<{ value: number; labels: Partial<Record<string, string | number>>; metricName?: string }> = (
    await metric.get()
  ).values;
  return values.find(
    (v) => (v.metricName ?? name) === sampleName && Object.entries(labels).every(([k, want]) => v.labels[k] === want),
  )?.value;
}
