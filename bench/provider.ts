// Benchmark of the provider as users run it: the compiled capmaas-manager (default
// flags) against a private kube-apiserver + etcd and the MAAS simulator (in-process,
// deploys and releases instant), with the bench writing what Cluster API would. It
// times N MaasMachines from create to Ready, then at rest, then deleted, counting the
// MAAS calls (the simulator's request log) and the API requests (the manager's
// /metrics) per machine; and a floor: the same objects with the three writes a
// provider needs per machine made by the bench itself. Prints figures beside the
// other MAAS provider's and the targets; asserts nothing. `make bench`;
// BENCH_MACHINES=100 for a quick run. Everything it starts is stopped by pid.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { CAPI_CLUSTER, CAPI_MACHINE, SECRET } from "../src/capi/index.ts";
import { MAAS_MACHINE } from "../src/api/v1beta1/index.ts";
import { createLogger } from "../src/observability/index.ts";
import { KubeClient, KubeTransport } from "../src/runtime/index.ts";
import { startSimulator } from "../src/sim/index.ts";
import { repoRoot } from "../test/testenv/binaries.ts";
import { startTestEnv, type TestEnv } from "../test/testenv/index.ts";
import { NAMESPACE_KIND } from "../test/integration/controllers/provider-harness.ts";
import { EVENT, EventCounter, MaasMachineTracker, WRITERS, createMachines, deleteMaasMachines, prepareNamespace, runFloor } from "./provider-objects.ts";
import {
  MANAGER_ENTRY,
  SimLogRecorder,
  apiRequests,
  deltaBy,
  histogramMean,
  procCpuSeconds,
  listCounts,
  perMachine,
  spread,
  startManager,
  type ManagerProcess,
  type MetricSample,
} from "./provider-measure.ts";
import {
  countLabels,
  filterReads,
  filterWrites,
  maasCalls,
  printSections,
  printTargets,
  section,
  subtract,
  sumEvents,
  sumMap,
  writeSequences,
  type Figures,
} from "./provider-report.ts";

const MACHINES = parseMachines(process.env.BENCH_MACHINES);

function gauge(samples: readonly MetricSample[], name: string): number {
  return samples.find((s) => s.name === name)?.value ?? Number.NaN;
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(0);
}
const REST_SECONDS = Number(process.env.BENCH_REST_SECONDS ?? "30");
const SETTLE_MS = 2_000;
/** The manager's default --machine-concurrency, which the floor's writers match. */
const MACHINE_CONCURRENCY = 10;
const WAIT_MS = Math.max(120_000, MACHINES * 300);
const NAMESPACE = "bench-provider";
const FLOOR_NAMESPACE = "bench-floor";
const logger = createLogger({ level: "silent" });

function parseMachines(text: string | undefined): number {
  const n = Number(text ?? "1000");
  if (!Number.isInteger(n) || n < 1 || n > 20_000) throw new Error(`BENCH_MACHINES ${JSON.stringify(text)}: expected a whole number from 1 to 20000`);
  return n;
}

function progress(line: string): void {
  process.stderr.write(`[bench provider] ${line}\n`);
}

/** dist/ as `make build` leaves it; compiled here when missing or older than a source file. */
function ensureBuilt(): void {
  const newest = (dir: string): number =>
    Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)));
  let built = 0;
  try {
    built = statSync(MANAGER_ENTRY).mtimeMs;
  } catch {
    // not built yet
  }
  if (built >= newest(join(repoRoot, "src"))) return;
  progress("compiling dist/ (npx tsc -p tsconfig.build.json)");
  const result = spawnSync(join(repoRoot, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.build.json"], { cwd: repoRoot, stdio: "inherit" });
  if (result.status !== 0) throw new Error("tsc -p tsconfig.build.json failed");
}

/** The commit measured, and whether src/ differs from it. */
function commitMeasured(): string {
  const git = (...args: string[]): string | undefined => {
    const result = spawnSync("git", args, { cwd: repoRoot, encoding: "utf8" });
    return result.status === 0 ? result.stdout.trim() : undefined;
  };
  const head = git("rev-parse", "--short=12", "HEAD");
  if (head === undefined) return "not a git checkout";
  return git("status", "--porcelain", "--", "src") === "" ? head : `${head} with uncommitted changes in src/`;
}

function newClient(env: TestEnv, fieldManager: string): KubeClient {
  return new KubeClient({
    transport: new KubeTransport({ kubeConfig: env.kubeConfig() }),
    fieldManager,
    kinds: [MAAS_MACHINE, CAPI_CLUSTER, CAPI_MACHINE, SECRET, NAMESPACE_KIND, EVENT],
  });
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const rate = (count: number, ms: number): number => count / (ms / 1000);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Snapshot {
  metrics: MetricSample[];
  cpu: number;
  /** CPU seconds of every process in the run: manager, kube-apiserver, etcd, this one (simulator, writers, watches). */
  cpus: Map<string, number>;
  calls: number;
  writes: number;
  events: { created: Map<string, number>; updated: Map<string, number> };
}

async function measureProvider(ctx: { env: TestEnv; writer: KubeClient; tracker: MaasMachineTracker; events: EventCounter; simLog: SimLogRecorder; manager: ManagerProcess }): Promise<Figures> {
  const { writer, tracker, events, simLog, manager } = ctx;
  const snap = async (): Promise<Snapshot> => ({
    metrics: await manager.scrape(),
    cpu: manager.cpuSeconds(),
    cpus: cpuNow(ctx.env, manager),
    calls: simLog.mark(),
    writes: tracker.writes.length,
    events: events.snapshot(),
  });
  const startup = await snap();
  const atStart = manager.memory();

  // 1. create → Ready
  progress(`creating ${String(MACHINES)} machines (Secret, Machine, MaasMachine each; ${String(WRITERS)} writers)`);
  const t0 = Date.now();
  await createMachines(writer, NAMESPACE, MACHINES);
  const createdMs = Date.now() - t0;
  await tracker.waitFor("Ready", () => tracker.readyAt.size, MACHINES, WAIT_MS);
  const readyMs = Math.max(...tracker.readyAt.values()) - t0;
  await sleep(SETTLE_MS);
  const ready = await snap();
  const readyMemory = manager.memory();
  const createCalls = simLog.calls.slice(startup.calls, ready.calls);
  const createApi = apiRequests(startup.metrics, ready.metrics);
  const createEvents = sumMap(subtract(sumEvents(ready.events), sumEvents(startup.events)));
  const createWrites = tracker.writes.slice(startup.writes, ready.writes);
  const deployAt = new Map<string, number>();
  for (const c of createCalls) if (c.call === "POST machines/{id}/ op=deploy" && c.status === 200 && c.systemId !== undefined) deployAt.set(c.systemId, c.timeMs);
  const reads = createCalls.filter((c) => c.call === "GET machines/" && c.status === 200);
  const latencies: number[] = [];
  const toSpec: number[] = [];
  const toDeploy: number[] = [];
  const toRead: number[] = [];
  const readToReady: number[] = [];
  for (const [name, readyAt] of tracker.readyAt) {
    const systemId = tracker.systemIds.get(name);
    const deployed = systemId === undefined ? undefined : deployAt.get(systemId);
    const added = tracker.addedAt.get(name);
    const spec = tracker.specAt.get(name);
    if (deployed !== undefined) latencies.push(readyAt - deployed);
    if (added !== undefined && spec !== undefined) toSpec.push(spec - added);
    if (spec !== undefined && deployed !== undefined) toDeploy.push(deployed - spec);
    // The watcher's first batched read after the deploy is the one that finds it Deployed (deploySeconds 0).
    const read = deployed === undefined || systemId === undefined ? undefined : reads.find((r) => r.timeMs >= deployed && r.idList.includes(systemId));
    if (read !== undefined && deployed !== undefined) {
      toRead.push(read.timeMs - deployed);
      readToReady.push(readyAt - read.timeMs);
    }
  }
  latencies.sort((a, b) => a - b);
  const reconciles = deltaBy(startup.metrics, ready.metrics, "controller_runtime_reconcile_total", (l) => (l.controller === "maasmachine" ? (l.result ?? "?") : "other"));
  const rows = section(`create → Ready, ${String(MACHINES)} machines`);
  rows.push(
    ["wall time, first create → all Ready=True (watch)", `${seconds(readyMs)} (${rate(MACHINES, readyMs).toFixed(1)} machines/s)`],
    ["creating the 3×N objects alone", `${seconds(createdMs)}`],
    ["MAAS calls per machine", `${perMachine(createCalls.length, MACHINES)}: ${maasCalls(createCalls, MACHINES)}`],
    ["API writes per machine by the manager", `${perMachine(createApi.writes, MACHINES)}: ${listCounts(filterWrites(createApi.byMethod), MACHINES)}`],
    ["  of which Events (POST/PATCH events)", `${perMachine(createEvents, MACHINES)}: created ${listCounts(subtract(ready.events.created, startup.events.created), MACHINES)}; series ${listCounts(subtract(ready.events.updated, startup.events.updated), MACHINES)}`],
    ["  MaasMachine writes seen by the watch", `${perMachine(createWrites.length, MACHINES)}: ${listCounts(countLabels(createWrites), MACHINES)}`],
    ["  most common sequences", writeSequences(createWrites)],
    ["API reads/watches by the manager", `${String(createApi.reads)} in all: ${listCounts(filterReads(createApi.byMethod))}`],
    ["API answers by method and code", listCounts(createApi.byCode)],
    ["reconciles per machine (maasmachine)", `${perMachine(sumMap(reconciles), MACHINES)}: ${listCounts(reconciles, MACHINES)}`],
    ["work queue (maasmachine): adds per machine, mean wait, mean reconcile", queueFigures(startup.metrics, ready.metrics)],
    ["Ready after the deploy request (≈ Deployed)", spread(latencies)],
    ["watch: MaasMachine added → systemID set", spread(toSpec)],
    ["systemID set → deploy request", spread(toDeploy)],
    ["deploy request → the watcher's read that sees Deployed", spread(toRead)],
    ["that read → Ready=True seen by the watch", spread(readToReady)],
    ["manager RSS at start / peak after Ready", `${atStart.rssMiB.toFixed(0)} / ${readyMemory.peakMiB.toFixed(0)} MiB`],
    ["manager V8 heap after Ready: used / total (live set and GC headroom)", `${mib(gauge(ready.metrics, "nodejs_heap_size_used_bytes"))} / ${mib(gauge(ready.metrics, "nodejs_heap_size_total_bytes"))} MiB`],
    ["manager CPU seconds", `${(ready.cpu - startup.cpu).toFixed(1)} s (${((ready.cpu - startup.cpu) / (readyMs / 1000) * 100).toFixed(0)}% of a core over the wall time)`],
    ["CPU seconds, first create → all Ready (+2 s)", cpuFigures(startup.cpus, ready.cpus, readyMs + SETTLE_MS)],
    ["startup before the first create (informer lists/watches)", `${listCounts(apiRequests([], startup.metrics).byMethod)}; MAAS ${maasCalls(simLog.calls.slice(0, startup.calls), undefined)}`],
  );

  // 2. At rest
  progress(`at rest for ${String(REST_SECONDS)} s`);
  const restStart = Date.now();
  await sleep(REST_SECONDS * 1000);
  const rest = await snap();
  const restMs = Date.now() - restStart;
  const restApi = apiRequests(ready.metrics, rest.metrics);
  const restCalls = simLog.calls.slice(ready.calls, rest.calls);
  const perMin = (n: number): string => ((n / restMs) * 60_000).toFixed(1);
  const restReconciles = deltaBy(ready.metrics, rest.metrics, "controller_runtime_reconcile_total", (l) => l.controller ?? "?");
  section(`at rest, ${String(REST_SECONDS)} s after all Ready`).push(
    [
      "MAAS requests per minute",
      `${perMin(restCalls.length)}: ${maasCalls(restCalls, undefined, restMs)}${restCalls.length === 0 ? " (the window fell between the watcher's slow reads; BENCH_REST_SECONDS=130 for a longer one)" : ""}`,
    ],
    ["API writes per minute", `${perMin(restApi.writes)}${restApi.writes > 0 ? `: ${listCounts(filterWrites(restApi.byMethod))}` : ""}`],
    ["API reads per minute", `${perMin(restApi.reads)}${restApi.reads > 0 ? `: ${listCounts(filterReads(restApi.byMethod))}` : ""}`],
    ["reconciles per minute", `${perMin(sumMap(restReconciles))}${restReconciles.size > 0 ? `: ${listCounts(restReconciles)}` : ""}`],
    ["manager CPU seconds", `${(rest.cpu - ready.cpu).toFixed(2)} s`],
  );

  // 3. delete → gone
  progress(`deleting ${String(MACHINES)} MaasMachines (${String(WRITERS)} writers)`);
  const t1 = Date.now();
  await deleteMaasMachines(writer, NAMESPACE, MACHINES);
  await tracker.waitFor("gone", () => tracker.goneAt.size, MACHINES, WAIT_MS);
  const goneMs = Math.max(...tracker.goneAt.values()) - t1;
  await sleep(SETTLE_MS);
  const gone = await snap();
  const deleteApi = apiRequests(rest.metrics, gone.metrics);
  const deleteCalls = simLog.calls.slice(rest.calls, gone.calls);
  const deleteEvents = sumMap(subtract(sumEvents(gone.events), sumEvents(rest.events)));
  const deleteWrites = tracker.writes.slice(rest.writes, gone.writes).filter((w) => w.label !== "delete (bench)");
  const finalMemory = manager.memory();
  const deleteReconciles = deltaBy(rest.metrics, gone.metrics, "controller_runtime_reconcile_total", (l) => (l.controller === "maasmachine" ? (l.result ?? "?") : "other"));
  section(`delete → gone, ${String(MACHINES)} machines`).push(
    ["wall time, first delete → all gone (watch)", `${seconds(goneMs)} (${rate(MACHINES, goneMs).toFixed(1)} machines/s)`],
    ["MAAS calls per machine", `${perMachine(deleteCalls.length, MACHINES)}: ${maasCalls(deleteCalls, MACHINES)}`],
    ["API writes per machine by the manager", `${perMachine(deleteApi.writes, MACHINES)}: ${listCounts(filterWrites(deleteApi.byMethod), MACHINES)}`],
    ["  of which Events", perMachine(deleteEvents, MACHINES)],
    ["  MaasMachine writes seen by the watch", `${perMachine(deleteWrites.length, MACHINES)}: ${listCounts(countLabels(deleteWrites), MACHINES)}`],
    ["API answers by method and code", listCounts(deleteApi.byCode)],
    ["reconciles per machine (maasmachine)", `${perMachine(sumMap(deleteReconciles), MACHINES)}: ${listCounts(deleteReconciles, MACHINES)}`],
    ["work queue (maasmachine): adds per machine, mean wait, mean reconcile", queueFigures(rest.metrics, gone.metrics)],
    ["manager log: warnings and errors over the run", listCounts(await manager.logSummary())],
    ["manager peak RSS over the run", `${finalMemory.peakMiB.toFixed(0)} MiB`],
    ["manager CPU seconds", `${(gone.cpu - rest.cpu).toFixed(1)} s`],
    ["CPU seconds, first delete → all gone (+2 s)", cpuFigures(rest.cpus, gone.cpus, goneMs + SETTLE_MS)],
  );

  return {
    createMs: readyMs,
    createRate: rate(MACHINES, readyMs),
    deleteRate: rate(MACHINES, goneMs),
    maasPerMachine: createCalls.length / MACHINES,
    writesPerMachine: createApi.writes / MACHINES,
    eventWritesPerMachine: createEvents / MACHINES,
    readyLatencyMaxMs: latencies.at(-1) ?? Number.NaN,
    readyLatencyP99Ms: latencies[Math.max(0, Math.ceil(0.99 * latencies.length) - 1)] ?? Number.NaN,
    peakRssMiB: finalMemory.peakMiB,
    restWritesPerMin: (restApi.writes / restMs) * 60_000,
  };
}

/** CPU seconds of every process in the run: the manager, kube-apiserver, etcd, and this one (simulator, writers, watches). */
function cpuNow(env: TestEnv, manager?: ManagerProcess): Map<string, number> {
  return new Map([
    ...(manager === undefined ? [] : ([["manager", manager.cpuSeconds()]] as const)),
    ["kube-apiserver", procCpuSeconds(env.apiServerPid)],
    ["etcd", procCpuSeconds(env.etcdPid)],
    ["bench (simulator, writers, watches)", procCpuSeconds(process.pid)],
  ]);
}

function cpuFigures(before: Map<string, number>, after: Map<string, number>, wallMs: number): string {
  const used = subtract(after, before);
  const available = (cpus().length * wallMs) / 1000;
  return `${[...used].map(([name, c]) => `${name} ${c.toFixed(1)}`).join(", ")}; ${sumMap(used).toFixed(1)} of ${available.toFixed(1)} core-seconds`;
}

function queueFigures(before: MetricSample[], after: MetricSample[]): string {
  const ours = (l: Record<string, string>): boolean => l.name === "maasmachine" || l.controller === "maasmachine";
  const adds = deltaBy(before, after, "workqueue_adds_total", (l) => (ours(l) ? "ours" : "other")).get("ours") ?? 0;
  const waitS = histogramMean(before, after, "workqueue_queue_duration_seconds", ours);
  const reconcileS = histogramMean(before, after, "controller_runtime_reconcile_time_seconds", ours);
  return `${perMachine(adds, MACHINES)}, ${(waitS * 1000).toFixed(0)} ms, ${(reconcileS * 1000).toFixed(0)} ms`;
}

async function measureFloor(env: TestEnv, writer: KubeClient): Promise<number> {
  progress(`floor: ${String(MACHINES)} machines, the bench making 3 writes each with ${String(MACHINE_CONCURRENCY)} workers`);
  const provider = newClient(env, "bench-floor-provider");
  const watcher = newClient(env, "bench-floor-watch");
  const tracker = new MaasMachineTracker(watcher, FLOOR_NAMESPACE, logger);
  try {
    await prepareNamespace(writer, FLOOR_NAMESPACE);
    await tracker.start();
    const cpu0 = cpuNow(env);
    const t0 = Date.now();
    const writes = await runFloor({ writer, provider, tracker, namespace: FLOOR_NAMESPACE, count: MACHINES, concurrency: MACHINE_CONCURRENCY, timeoutMs: WAIT_MS });
    const wallMs = Math.max(...tracker.readyAt.values()) - t0;
    section(`floor: no manager, ${String(MACHINES)} machines, 3 writes each by ${String(MACHINE_CONCURRENCY)} workers`).push(
      ["wall time, first create → all Ready=True (watch)", `${seconds(wallMs)} (${rate(MACHINES, wallMs).toFixed(1)} machines/s)`],
      ["writes per machine beyond the creates", perMachine(writes, MACHINES)],
      ["requests by the floor's writers", listCounts(new Map(Object.entries(provider.transport.requestCounts().byMethod)))],
      ["CPU seconds, first create → all Ready", cpuFigures(cpu0, cpuNow(env), Date.now() - t0)],
    );
    return wallMs;
  } finally {
    await tracker.stop();
    await Promise.all([provider.transport.close(), watcher.transport.close()]);
  }
}

/** Cores, memory and the 1-minute load: other work on the machine moves every figure here. */
function machineLine(): string {
  return `${String(cpus().length)} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, load ${loadavg()[0]?.toFixed(2) ?? "?"}`;
}

async function main(): Promise<void> {
  const started = performance.now();
  const machineAtStart = machineLine();
  ensureBuilt();
  const cleanups: Array<() => Promise<void> | void> = [];
  let failure: unknown;
  let manager: ManagerProcess | undefined;
  let env: TestEnv | undefined;
  try {
    env = await startTestEnv({ log: () => undefined });
    cleanups.push(() => env?.stop());
    const sim = await startSimulator({
      machines: Math.ceil(MACHINES * 1.1),
      deploySeconds: 0,
      releaseSeconds: 0,
      seed: 1,
      logger: createLogger({ name: "maas-sim", level: "warn" }),
    });
    cleanups.push(() => sim.close());
    const simLog = new SimLogRecorder(sim);
    cleanups.push(() => simLog.stop());
    const writer = newClient(env, "bench-writer");
    const watcher = newClient(env, "bench-watch");
    cleanups.push(() => Promise.all([writer.transport.close(), watcher.transport.close()]).then(() => undefined));
    await prepareNamespace(writer, NAMESPACE);
    const tracker = new MaasMachineTracker(watcher, NAMESPACE, logger);
    const events = new EventCounter(watcher, NAMESPACE, logger);
    cleanups.push(() => tracker.stop(), () => events.stop());
    await Promise.all([tracker.start(), events.start()]);
    manager = await startManager({ kubeconfigPath: env.kubeconfigPath, maasEndpoint: sim.endpoint, maasApiKey: sim.apiKey });
    cleanups.push(() => manager?.stop());
    progress(`manager ready (pid ${String(manager.pid)}); simulator has ${String(Math.ceil(MACHINES * 1.1))} machines`);
    const ours = await measureProvider({ env, writer, tracker, events, simLog, manager });
    await manager.stop();
    const floorMs = await measureFloor(env, writer);
    printTargets(ours, floorMs);
  } catch (err) {
    failure = err;
    if (manager !== undefined) progress(`manager log (last lines):\n${await manager.logTail(30)}`);
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (err) {
        progress(`cleanup failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
  const versions = env === undefined ? "" : ` — kube-apiserver ${env.versions.kubernetes}, etcd ${env.versions.etcd}`;
  console.log(`\nprovider benchmark: capmaas-manager (dist/, default flags) + MAAS simulator (deploy/release 0 s)${versions}, node ${process.version}; commit ${commitMeasured()}`);
  printSections();
  console.log(`\nmachine at start: ${machineAtStart}; at end: ${machineLine()}`);
  console.log(`total time: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (failure !== undefined) {
    console.error(`provider benchmark failed: ${failure instanceof Error ? (failure.stack ?? failure.message) : String(failure)}`);
    process.exitCode = 1;
  }
}

await main();
