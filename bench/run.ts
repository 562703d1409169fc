// Benchmark of the controller runtime against a real kube-apiserver + etcd (the
// test control plane): how fast the informer cache fills, how many reconciles per
// second a no-op reconciler gets through with 1/4/16 workers, how many API
// requests that costs per object (counted at our HTTP transport), and the
// process's peak RSS. Prints figures; asserts nothing. `make bench`.
import { createLogger } from "../src/observability/index.ts";
import {
  Controller,
  Informer,
  KubeClient,
  KubeTransport,
  apiServerSource,
  createRuntimeMetrics,
  type KubeObject,
  type Reconciler,
} from "../src/runtime/index.ts";
import { WIDGET, WIDGET_CRD_DIR, widget, type Widget } from "../test/fixtures/runtime/widget.ts";
import { startTestEnv, type TestEnv } from "../test/testenv/index.ts";

const SIZES = [1_000, 5_000];
const WORKERS = [1, 4, 16];
const CREATE_CONCURRENCY = 32;
const IO_MS = 2;
const logger = createLogger({ level: process.env.LOG_LEVEL ?? "silent" });

interface Row {
  objects: number;
  figures: Record<string, string>;
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(0);
}

function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

function newClient(env: TestEnv, fieldManager: string): KubeClient {
  return new KubeClient({ transport: new KubeTransport({ kubeConfig: env.kubeConfig() }), fieldManager, kinds: [WIDGET] });
}

function newInformer(client: KubeClient, namespace: string): Informer<Widget> {
  return new Informer<Widget>({ name: "widgets", source: apiServerSource({ client, kind: WIDGET, namespace }), logger, resyncPeriodMs: 0 });
}

async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function createAll(writer: KubeClient, namespace: string, count: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CREATE_CONCURRENCY }, async () => {
      while (next < count) {
        const i = next++;
        await writer.create(WIDGET, widget(namespace, `w-${String(i).padStart(5, "0")}`, String(i)));
      }
    }),
  );
}

/**
 * Reconciles every cached key once with `workers` workers; returns reconciles per
 * second. `ioMs` > 0 adds an awaited pause per reconcile, standing in for a call to
 * MAAS, to show what the workers buy when reconciles wait on I/O.
 */
async function reconcileAll(informer: Informer<Widget>, workers: number, ioMs = 0): Promise<number> {
  let done = 0;
  const reconciler: Reconciler = {
    async reconcile(request) {
      // A no-op that still does what every reconcile does first: read from the cache.
      informer.get(request.namespace, request.name);
      if (ioMs > 0) await new Promise((resolve) => setTimeout(resolve, ioMs));
      done += 1;
    },
  };
  const controller = new Controller({ name: `bench-${workers}`, reconciler, logger, workers, metrics: createRuntimeMetrics() });
  const keys = informer.list().map((w) => ({ namespace: w.metadata.namespace ?? "", name: w.metadata.name }));
  const started = performance.now();
  for (const key of keys) controller.enqueue(key);
  controller.start();
  await waitUntil(() => done >= keys.length, 120_000, "reconciles");
  const seconds = (performance.now() - started) / 1000;
  await controller.shutdown(1_000);
  return keys.length / seconds;
}

async function benchSize(env: TestEnv, count: number): Promise<Row> {
  const figures: Record<string, string> = {};
  const namespace = `bench-${count}`;
  const writer = newClient(env, "bench-writer");
  await writer.create<KubeObject>({ group: "", version: "v1", kind: "Namespace", plural: "namespaces", namespaced: false }, {
    metadata: { name: namespace },
  });

  // 1. A running informer follows N creates through its watch.
  const watchClient = newClient(env, "bench-reader");
  const watching = newInformer(watchClient, namespace);
  watching.start();
  await watching.waitForSync();
  const createStart = performance.now();
  await createAll(writer, namespace, count);
  const createdMs = performance.now() - createStart;
  await waitUntil(() => watching.size >= count, 120_000, "watch to deliver every object");
  const watchedMs = performance.now() - createStart;
  figures["create N (32 concurrent writers)"] = `${(createdMs / 1000).toFixed(2)} s (${Math.round(count / (createdMs / 1000))}/s)`;
  figures["cache holds all, via watch, from first create"] = `${(watchedMs / 1000).toFixed(2)} s (lag after last create ${(watchedMs - createdMs).toFixed(0)} ms)`;
  figures["requests by the watching informer"] = formatCounts(watchClient);
  await watching.stop();

  // 2. A cold informer lists N existing objects.
  const coldClient = newClient(env, "bench-reader");
  const cold = newInformer(coldClient, namespace);
  const syncStart = performance.now();
  cold.start();
  await cold.waitForSync();
  const syncMs = performance.now() - syncStart;
  figures["cold start: list + sync N objects"] = `${(syncMs / 1000).toFixed(2)} s`;
  await waitUntil(() => (coldClient.transport.requestCounts().byMethod.WATCH ?? 0) >= 1, 10_000, "the watch to open");
  const afterSync = coldClient.transport.requestCounts().total;
  const memory = process.memoryUsage();
  figures["memory with N objects cached (rss / heap used)"] = `${mib(memory.rss)} / ${mib(memory.heapUsed)} MiB`;

  // 3. Reconciles per second through a no-op reconciler reading the cache.
  for (const workers of WORKERS) {
    figures[`no-op reconciles/s, ${workers} worker(s)`] = Math.round(await reconcileAll(cold, workers)).toString();
  }
  for (const workers of WORKERS) {
    figures[`reconciles/s with ${IO_MS} ms awaited I/O, ${workers} worker(s)`] = Math.round(await reconcileAll(cold, workers, IO_MS)).toString();
  }
  const duringReconciles = coldClient.transport.requestCounts().total - afterSync;
  figures["requests by the cold informer + reconciles"] = formatCounts(coldClient);
  figures["API requests per object (sync + 6×N reconciles)"] = (coldClient.transport.requestCounts().total / count).toFixed(4);
  figures["API requests made by reconciles"] = String(duringReconciles);
  figures["peak RSS so far"] = `${peakRssMiB().toFixed(0)} MiB`;
  await cold.stop();
  await Promise.all([writer, watchClient, coldClient].map((c) => c.transport.close()));
  return { objects: count, figures };
}

function formatCounts(client: KubeClient): string {
  const { total, byMethod } = client.transport.requestCounts();
  const parts = Object.entries(byMethod).map(([method, n]) => `${method} ${n}`);
  return `${total} (${parts.join(", ")})`;
}

async function main(): Promise<void> {
  const started = performance.now();
  const baselineRss = peakRssMiB();
  const env = await startTestEnv({ crdDirs: [WIDGET_CRD_DIR], log: () => undefined });
  const rows: Row[] = [];
  try {
    for (const count of SIZES) {
      rows.push(await benchSize(env, count));
      if (global.gc !== undefined) global.gc();
    }
  } finally {
    await env.stop();
  }
  console.log(`controller runtime benchmark — kube-apiserver ${env.versions.kubernetes}, etcd ${env.versions.etcd}, node ${process.version}`);
  for (const row of rows) {
    console.log(`\n${row.objects} Widgets`);
    for (const [name, value] of Object.entries(row.figures)) console.log(`  ${name.padEnd(52)} ${value}`);
  }
  console.log(`\npeak RSS of the benchmark process: ${peakRssMiB().toFixed(0)} MiB (at start ${baselineRss.toFixed(0)} MiB)`);
  console.log(`total time: ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

await main();
