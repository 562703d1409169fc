// One run of the provider benchmark's matrix, on a control plane of its own: the
// compiled manager (default flags) against the in-process simulator with a given
// deploy latency; N MaasMachines created as Cluster API would, timed to Ready, held
// at rest, deleted and timed to gone. And the floor of a size: the same objects with
// the three writes a provider needs per machine made by the bench, no manager, no MAAS.
import { monitorEventLoopDelay } from "node:perf_hooks";
import { cpus } from "node:os";
import { createLogger } from "../src/observability/index.ts";
import { startTestEnv, type TestEnv } from "../test/testenv/index.ts";
import { newClient, portOf, progress, runCleanups, sleep } from "./provider-config.ts";
import { startManager, procCpuSeconds, type Descriptors, type ManagerProcess } from "./provider-manager.ts";
import { apiRequests, gauge, maasRequests, queueFigures, reconciles, type MetricSample } from "./provider-metrics.ts";
import { EventCounter, MaasMachineTracker, WRITERS, createMachines, deleteMaasMachines, prepareNamespace, runFloor } from "./provider-objects.ts";
import {
  countLabels, listCounts, maasCalls, ms, perMachine, perMinute, percentile, printSection, rate, seconds, spread, subtract, sumMap, writeSequences,
  type Rows, type RunFigures,
} from "./provider-report.ts";
import { logLosses, simulatorCheck, startBenchSimulator, type BenchSimulator, type SimMode } from "./provider-sim.ts";

const TAG = "bench provider";
const SETTLE_MS = 2_000;
const IDLE_MS = 5_000;
/** The manager's default --machine-concurrency, which the floor's writers match. */
const MACHINE_CONCURRENCY = 10;
const NAMESPACE = "bench-provider";
const logger = createLogger({ level: "silent" });

export function waitMs(machines: number, deploySeconds: number): number {
  return Math.max(120_000, machines * 300) + deploySeconds * 1000;
}

interface Snapshot {
  metrics: MetricSample[];
  cpu: number;
  /** CPU seconds of every process in the run: manager, kube-apiserver, etcd, this one (simulator, writers, watches). */
  cpus: Map<string, number>;
  calls: number;
  writes: number;
  events: number;
  descriptors: Descriptors;
}

interface Run {
  env: TestEnv;
  sim: BenchSimulator;
  tracker: MaasMachineTracker;
  events: EventCounter;
  manager: ManagerProcess;
}

function cpuNow(env: TestEnv, manager?: ManagerProcess, simPid?: number): Map<string, number> {
  return new Map([
    ...(manager === undefined ? [] : ([["manager", manager.cpuSeconds()]] as const)),
    ...(simPid === undefined ? [] : ([["maas-sim", procCpuSeconds(simPid)]] as const)),
    ["kube-apiserver", procCpuSeconds(env.apiServerPid)],
    ["etcd", procCpuSeconds(env.etcdPid)],
    ["bench (simulator, writers, watches)", procCpuSeconds(process.pid)],
  ]);
}

export function cpuFigures(before: Map<string, number>, after: Map<string, number>, wallMs: number): string {
  const used = subtract(after, before);
  const available = (cpus().length * wallMs) / 1000;
  return `${[...used].map(([name, c]) => `${name} ${c.toFixed(1)}`).join(", ")}; ${sumMap(used).toFixed(1)} of ${available.toFixed(1)} core-seconds`;
}

export function describeDescriptors(d: Descriptors): string {
  return `${String(d.total)} (sockets ${String(d.sockets)}: ${listCounts(d.socketsBy)})`;
}

function growth(from: Descriptors, to: Descriptors, machines: number): string {
  return `${perMachine(to.total - from.total, machines)} per machine, sockets ${perMachine(to.sockets - from.sockets, machines)}`;
}

/** One provider run on a fresh control plane; prints its sections and returns the summary's figures. */
export async function runProvider(machines: number, deploySeconds: number, restSeconds: number, mode: SimMode): Promise<RunFigures> {
  const cleanups: Array<() => Promise<void> | void> = [];
  let manager: ManagerProcess | undefined;
  try {
    const env = await startTestEnv({ log: () => undefined });
    cleanups.push(() => env.stop());
    const sim = await startBenchSimulator({ machines: Math.ceil(machines * 1.1), deploySeconds, mode });
    cleanups.push(() => sim.close());
    const writer = newClient(env, "bench-writer");
    const watcher = newClient(env, "bench-watch");
    cleanups.push(() => Promise.all([writer.transport.close(), watcher.transport.close()]).then(() => undefined));
    await prepareNamespace(writer, NAMESPACE);
    const tracker = new MaasMachineTracker(watcher, NAMESPACE, logger);
    const events = new EventCounter(watcher, NAMESPACE, logger);
    cleanups.push(() => tracker.stop(), () => events.stop());
    await Promise.all([tracker.start(), events.start()]);
    manager = await startManager({ kubeconfigPath: env.kubeconfigPath, maasEndpoint: sim.endpoint, maasApiKey: sim.apiKey, peers: { "API server": portOf(env.server), MAAS: sim.port } });
    const started = manager;
    cleanups.push(() => started.stop());
    progress(TAG, `${String(machines)} machines, deploy ${String(deploySeconds)} s: manager ready (pid ${String(manager.pid)})`);
    return await measure({ env, sim, tracker, events, manager }, machines, deploySeconds, restSeconds, writer);
  } catch (err) {
    if (manager !== undefined) progress(TAG, `manager log (last lines):\n${await manager.logTail(30)}`);
    throw err;
  } finally {
    await runCleanups(TAG, cleanups);
  }
}

async function measure(run: Run, machines: number, deploySeconds: number, restSeconds: number, writer: ReturnType<typeof newClient>): Promise<RunFigures> {
  const { env, sim, tracker, events, manager } = run;
  const title = `${String(machines)} machines, deploy ${String(deploySeconds)} s`;
  const snap = async (): Promise<Snapshot> => ({
    metrics: await manager.scrape(),
    cpu: manager.cpuSeconds(),
    cpus: cpuNow(env, manager, sim.pid),
    calls: await sim.log.mark(),
    writes: tracker.writes.length,
    events: events.total(),
    descriptors: manager.descriptors(),
  });
  const startup = await snap();
  const atStart = manager.memory();

  // 1. create → Ready
  progress(TAG, `${title}: creating (Secret, Machine, MaasMachine each; ${String(WRITERS)} writers)`);
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  sim.deploys.recording = true;
  const t0 = Date.now();
  await createMachines(writer, NAMESPACE, machines);
  const createdMs = Date.now() - t0;
  await tracker.waitFor("Ready", () => tracker.readyAt.size, machines, waitMs(machines, deploySeconds));
  sim.deploys.recording = false;
  loopDelay.disable();
  const readyMs = Math.max(...tracker.readyAt.values()) - t0;
  await sleep(SETTLE_MS);
  const ready = await snap();
  const readyMemory = manager.memory();
  const createCalls = sim.log.calls.slice(startup.calls, ready.calls);
  const createApi = apiRequests(startup.metrics, ready.metrics);
  const createWrites = tracker.writes.slice(startup.writes, ready.writes);
  const deployed = sim.deploys.deployedAt(createCalls, deploySeconds);
  // When the watcher's batched reads asked for each machine, in order.
  const readsOf = new Map<string, number[]>();
  for (const c of createCalls) {
    if (c.call !== "GET machines/" || c.status !== 200) continue;
    for (const id of c.idList) {
      const times = readsOf.get(id);
      if (times === undefined) readsOf.set(id, [c.timeMs]);
      else times.push(c.timeMs);
    }
  }
  const afterDeployed: number[] = [];
  const toSpec: number[] = [];
  const toRead: number[] = [];
  const readToReady: number[] = [];
  for (const [name, readyAt] of tracker.readyAt) {
    const systemId = tracker.systemIds.get(name);
    const deployedAt = systemId === undefined ? undefined : deployed.at.get(systemId);
    const added = tracker.addedAt.get(name);
    const spec = tracker.specAt.get(name);
    if (added !== undefined && spec !== undefined) toSpec.push(spec - added);
    if (deployedAt === undefined || systemId === undefined) continue;
    afterDeployed.push(readyAt - deployedAt);
    // The watcher's first batched read after the machine turned Deployed is the one that finds it so.
    const read = readsOf.get(systemId)?.find((t) => t >= deployedAt);
    if (read !== undefined) {
      toRead.push(read - deployedAt);
      readToReady.push(readyAt - read);
    }
  }
  afterDeployed.sort((a, b) => a - b);
  const maasTally = maasRequests(startup.metrics, ready.metrics);
  const createReconciles = reconciles(startup.metrics, ready.metrics);
  const createCpu = ready.cpu - startup.cpu;
  const rows: Rows = [
    ["wall time, first create → all Ready=True (watch)", `${seconds(readyMs)} (${rate(machines, readyMs).toFixed(1)} machines/s)`],
    ["creating the 3×N objects alone", seconds(createdMs)],
    ["MAAS calls per machine (simulator's log)", `${perMachine(createCalls.length, machines)}: ${maasCalls(createCalls, machines)}`],
    ["MAAS requests per machine (manager's capmaas_maas_requests_total)", `${perMachine(sumMap(maasTally), machines)}: ${listCounts(maasTally, machines)}`],
    ["API requests per machine by verb (manager's /metrics)", `${perMachine(createApi.writes + createApi.reads, machines)}: ${listCounts(createApi.byVerb, machines)}`],
    ["  writes by verb and resource", `${perMachine(createApi.writes, machines)}: ${listCounts(filterVerbs(createApi.byVerbAndResource, true), machines)}`],
    ["  reads by verb and resource (in all, not per machine)", listCounts(filterVerbs(createApi.byVerbAndResource, false))],
    ["  Events written (watch)", perMachine(ready.events - startup.events, machines)],
    ["  MaasMachine writes seen by the watch", `${perMachine(createWrites.length, machines)}: ${listCounts(countLabels(createWrites), machines)}`],
    ["  most common sequences", writeSequences(createWrites)],
    ["API answers by method and code", listCounts(createApi.byCode)],
    ["reconciles per machine (maasmachine)", `${perMachine(sumMap(createReconciles), machines)}: ${listCounts(createReconciles, machines)}`],
    ["work queue (maasmachine): adds per machine, mean wait, mean reconcile", queueLine(startup.metrics, ready.metrics, machines)],
    [`Ready after the simulator turned it Deployed (deploy + ${String(deploySeconds)} s)`, deployed.mismatch === undefined ? spread(afterDeployed) : `not paired: ${deployed.mismatch}`],
    ["  simulator's deploy timers firing late (its event loop)", spread(deployed.lateMs)],
    ["  Deployed → the watcher's read that sees it", spread(toRead)],
    ["  that read → Ready=True seen by the watch", spread(readToReady)],
    ["watch: MaasMachine added → systemID set", spread(toSpec)],
    ["bench event-loop delay while creating", `p50 ${ms(loopDelay.percentile(50) / 1e6)}, p99 ${ms(loopDelay.percentile(99) / 1e6)}, max ${ms(loopDelay.max / 1e6)}`],
    ["simulator check", simCheck(sim, startup.cpus, ready.cpus, readyMs + SETTLE_MS, loopDelay.percentile(99) / 1e6, deployed.lateMs)],
    ["manager RSS at start / peak after Ready", `${atStart.rssMiB.toFixed(0)} / ${readyMemory.peakMiB.toFixed(0)} MiB`],
    ["manager V8 heap after Ready: used / total", `${mib(gauge(ready.metrics, "nodejs_heap_size_used_bytes"))} / ${mib(gauge(ready.metrics, "nodejs_heap_size_total_bytes"))} MiB`],
    ["manager CPU seconds", `${createCpu.toFixed(1)} s (${((createCpu / (readyMs / 1000)) * 100).toFixed(0)}% of a core over the wall time)`],
    ["CPU seconds, first create → all Ready (+2 s)", cpuFigures(startup.cpus, ready.cpus, readyMs + SETTLE_MS)],
    ["manager descriptors at start", describeDescriptors(startup.descriptors)],
    ["manager descriptors after Ready", `${describeDescriptors(ready.descriptors)}; ${growth(startup.descriptors, ready.descriptors, machines)}`],
    ["startup before the first create", `API ${listCounts(apiRequests([], startup.metrics).byVerb)}; MAAS ${maasCalls(sim.log.calls.slice(0, startup.calls), undefined)}`],
  ];
  printSection(`${title}: create → Ready`, rows);

  // 2. At rest
  progress(TAG, `${title}: at rest for ${String(restSeconds)} s`);
  const restStart = Date.now();
  await sleep(restSeconds * 1000);
  const rest = await snap();
  const restMs = Date.now() - restStart;
  const restApi = apiRequests(ready.metrics, rest.metrics);
  const restCalls = sim.log.calls.slice(ready.calls, rest.calls);
  const restReconciles = reconciles(ready.metrics, rest.metrics);
  printSection(`${title}: at rest, ${String(restSeconds)} s after all Ready`, [
    ["MAAS requests per minute", `${((restCalls.length / restMs) * 60_000).toFixed(1)}: ${maasCalls(restCalls, undefined, restMs)}${restCalls.length === 0 ? " (the window fell between the watcher's slow reads)" : ""}`],
    ["API requests per minute by verb", perMinute(restApi.byVerb, restMs)],
    ["reconciles per minute", perMinute(restReconciles, restMs)],
    ["manager CPU seconds", `${(rest.cpu - ready.cpu).toFixed(2)} s`],
  ]);

  // 3. delete → gone
  progress(TAG, `${title}: deleting (${String(WRITERS)} writers)`);
  const t1 = Date.now();
  await deleteMaasMachines(writer, NAMESPACE, machines);
  await tracker.waitFor("gone", () => tracker.goneAt.size, machines, waitMs(machines, 0));
  const goneMs = Math.max(...tracker.goneAt.values()) - t1;
  await sleep(SETTLE_MS);
  const gone = await snap();
  const deleteApi = apiRequests(rest.metrics, gone.metrics);
  const deleteCalls = sim.log.calls.slice(rest.calls, gone.calls);
  const deleteWrites = tracker.writes.slice(rest.writes, gone.writes).filter((w) => w.label !== "delete (bench)");
  const deleteReconciles = reconciles(rest.metrics, gone.metrics);
  const finalMemory = manager.memory();
  // Idle keep-alive sockets to MAAS close after 4 s (src/maas/http.ts): what is still open after that is held, not pooled.
  await sleep(IDLE_MS);
  const idle = manager.descriptors();
  printSection(`${title}: delete → gone`, [
    ["wall time, first delete → all gone (watch)", `${seconds(goneMs)} (${rate(machines, goneMs).toFixed(1)} machines/s)`],
    ["MAAS calls per machine", `${perMachine(deleteCalls.length, machines)}: ${maasCalls(deleteCalls, machines)}`],
    ["API requests per machine by verb", `${perMachine(deleteApi.writes + deleteApi.reads, machines)}: ${listCounts(deleteApi.byVerb, machines)}`],
    ["  writes by verb and resource", `${perMachine(deleteApi.writes, machines)}: ${listCounts(filterVerbs(deleteApi.byVerbAndResource, true), machines)}`],
    ["  Events written (watch)", perMachine(gone.events - rest.events, machines)],
    ["  MaasMachine writes seen by the watch", `${perMachine(deleteWrites.length, machines)}: ${listCounts(countLabels(deleteWrites), machines)}`],
    ["API answers by method and code", listCounts(deleteApi.byCode)],
    ["reconciles per machine (maasmachine)", `${perMachine(sumMap(deleteReconciles), machines)}: ${listCounts(deleteReconciles, machines)}`],
    ["work queue (maasmachine): adds per machine, mean wait, mean reconcile", queueLine(rest.metrics, gone.metrics, machines)],
    ["manager descriptors after delete", describeDescriptors(gone.descriptors)],
    [`  and ${String(IDLE_MS / 1000)} s later (idle MAAS sockets closed)`, `${describeDescriptors(idle)}; ${growth(startup.descriptors, idle, machines)} over the start`],
    ["manager peak RSS over the run", `${finalMemory.peakMiB.toFixed(0)} MiB`],
    ["manager CPU seconds", `${(gone.cpu - rest.cpu).toFixed(1)} s`],
    ["CPU seconds, first delete → all gone (+2 s)", cpuFigures(rest.cpus, gone.cpus, goneMs + SETTLE_MS)],
    ["manager log: warnings and errors over the run", listCounts(await manager.logSummary())],
    ["MAAS calls the simulator's log lost", logLosses(sim)],
  ]);

  return {
    machines,
    deploySeconds,
    createMs: readyMs,
    readyPerSecond: rate(machines, readyMs),
    // The manager's tally: lossless in both simulator modes (in this process it equals the log's count).
    maasPerMachine: sumMap(maasTally) / machines,
    apiWritesPerMachine: createApi.writes / machines,
    apiReadsPerMachine: createApi.reads / machines,
    readyAfterDeployedMs: deployed.mismatch === undefined
      ? { p50: percentile(afterDeployed, 50), p99: percentile(afterDeployed, 99), max: afterDeployed.at(-1) ?? Number.NaN }
      : { p50: Number.NaN, p99: Number.NaN, max: Number.NaN },
    deletePerSecond: rate(machines, goneMs),
    peakRssMiB: finalMemory.peakMiB,
    cpuSeconds: createCpu,
    descriptorGrowth: {
      ready: ready.descriptors.total - startup.descriptors.total,
      deleted: idle.total - startup.descriptors.total,
      socketsReady: ready.descriptors.sockets - startup.descriptors.sockets,
      socketsDeleted: idle.sockets - startup.descriptors.sockets,
    },
    restWritesPerMinute: (restApi.writes / restMs) * 60_000,
  };
}

/** simulatorCheck over the create phase, from the CPU seconds of the process the simulator ran in. */
function simCheck(sim: BenchSimulator, before: Map<string, number>, after: Map<string, number>, wallMs: number, loopP99Ms: number, lateMs: readonly number[]): string {
  const who = sim.mode === "child" ? "maas-sim" : "bench (simulator, writers, watches)";
  const used = (after.get(who) ?? 0) - (before.get(who) ?? 0);
  const late = [...lateMs].sort((a, b) => a - b);
  return simulatorCheck({ mode: sim.mode, loopP99Ms: sim.mode === "child" ? undefined : loopP99Ms, lateP99Ms: percentile(late, 99) || 0, coreShare: used / (wallMs / 1000), who });
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(0);
}

const WRITE = /^(POST|PUT|PATCH|DELETE|DELETECOLLECTION|APPLY) /;

function filterVerbs(byVerbAndResource: Map<string, number>, writes: boolean): Map<string, number> {
  return new Map([...byVerbAndResource].filter(([key]) => WRITE.test(key) === writes));
}

function queueLine(before: MetricSample[], after: MetricSample[], machines: number): string {
  const q = queueFigures(before, after);
  return `${perMachine(q.adds, machines)}, ${ms(q.meanWaitMs)}, ${ms(q.meanReconcileMs)}`;
}

/** The floor of one size on a fresh control plane; prints its section and returns its wall time. */
export async function runFloorOnce(machines: number): Promise<number> {
  const cleanups: Array<() => Promise<void> | void> = [];
  try {
    const env = await startTestEnv({ log: () => undefined });
    cleanups.push(() => env.stop());
    progress(TAG, `floor: ${String(machines)} machines, the bench making 3 writes each with ${String(MACHINE_CONCURRENCY)} workers`);
    const writer = newClient(env, "bench-writer");
    const provider = newClient(env, "bench-floor-provider");
    const watcher = newClient(env, "bench-floor-watch");
    cleanups.push(() => Promise.all([writer, provider, watcher].map((c) => c.transport.close())).then(() => undefined));
    await prepareNamespace(writer, NAMESPACE);
    const tracker = new MaasMachineTracker(watcher, NAMESPACE, logger);
    cleanups.push(() => tracker.stop());
    await tracker.start();
    const cpu0 = cpuNow(env);
    const t0 = Date.now();
    const writes = await runFloor({ writer, provider, tracker, namespace: NAMESPACE, count: machines, concurrency: MACHINE_CONCURRENCY, timeoutMs: waitMs(machines, 0) });
    const wallMs = Math.max(...tracker.readyAt.values()) - t0;
    printSection(`floor: no manager, no MAAS, ${String(machines)} machines, 3 writes each by ${String(MACHINE_CONCURRENCY)} workers`, [
      ["wall time, first create → all Ready=True (watch)", `${seconds(wallMs)} (${rate(machines, wallMs).toFixed(1)} machines/s)`],
      ["writes per machine beyond the creates", perMachine(writes, machines)],
      ["requests by the floor's writers", listCounts(new Map(Object.entries(provider.transport.requestCounts().byMethod)))],
      ["CPU seconds, first create → all Ready", cpuFigures(cpu0, cpuNow(env), Date.now() - t0)],
    ]);
    return wallMs;
  } finally {
    await runCleanups(TAG, cleanups);
  }
}
