// The soak's phases, each printing its figures as it ends: create → Ready, the hold
// (a sample row every ~30 s), the periodic resync, a manager restart, delete → gone;
// then the soak's targets.
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { KubeClient } from "../src/runtime/index.ts";
import type { TestEnv } from "../test/testenv/index.ts";
import { progress, sleep } from "./provider-config.ts";
import type { ManagerProcess } from "./provider-manager.ts";
import { apiRequests, gauge, maasRequests, reconciles, type MetricSample } from "./provider-metrics.ts";
import { POLL_MS, type ManagerMonitor, type Poll, type Resync } from "./provider-monitor.ts";
import { WRITERS, createMachines, deleteMaasMachines, type EventCounter, type MaasMachineTracker } from "./provider-objects.ts";
import { listCounts, maasCalls, ms, perMachine, perMinute, printSection, printTable, rate, seconds, spread, sumMap } from "./provider-report.ts";
import { describeDescriptors, waitMs } from "./provider-run.ts";
import { logLosses, simulatorCheck, type BenchSimulator, type SimMode } from "./provider-sim.ts";
import { procCpuSeconds } from "./provider-manager.ts";

export interface SoakSettings {
  machines: number;
  minutes: number;
  sampleSeconds: number;
  deploySeconds: number;
  /** The --sync-period given to the manager, or undefined for its default. */
  syncPeriod: string | undefined;
  syncPeriodMs: number;
  sim: SimMode;
}

export interface SoakContext {
  config: SoakSettings;
  env: TestEnv;
  sim: BenchSimulator;
  writer: KubeClient;
  tracker: MaasMachineTracker;
  events: EventCounter;
  namespace: string;
  tag: string;
  /** The running manager and its monitor (replaced by the restart). */
  manager: ManagerProcess;
  monitor: ManagerMonitor;
  holdStart?: number;
}

const RSS_TARGET_MIB = 400e6 / 2 ** 20;
const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(0);

export async function measureCreate(ctx: SoakContext): Promise<{ readyPerSecond: number }> {
  const { config, sim, manager, tracker } = ctx;
  const n = config.machines;
  const before = await manager.scrape();
  const calls0 = await sim.log.mark();
  const cpu0 = manager.cpuSeconds();
  const simCpu = (): number => (sim.pid === undefined ? procCpuSeconds(process.pid) : procCpuSeconds(sim.pid));
  const simCpu0 = simCpu();
  const descriptors0 = manager.descriptors();
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  progress(ctx.tag, `creating ${String(n)} machines (${String(WRITERS)} writers)`);
  loopDelay.enable();
  sim.deploys.recording = true;
  const t0 = Date.now();
  await createMachines(ctx.writer, ctx.namespace, n);
  await tracker.waitFor("Ready", () => tracker.readyAt.size, n, waitMs(n, config.deploySeconds));
  sim.deploys.recording = false;
  loopDelay.disable();
  const readyMs = Math.max(...tracker.readyAt.values()) - t0;
  const wallMs = Date.now() - t0;
  const after = await manager.scrape();
  const calls = sim.log.calls.slice(calls0, await sim.log.mark());
  const api = apiRequests(before, after);
  const deployed = sim.deploys.deployedAt(calls, config.deploySeconds);
  const afterDeployed: number[] = [];
  for (const [name, readyAt] of tracker.readyAt) {
    const at = deployed.at.get(tracker.systemIds.get(name) ?? "");
    if (at !== undefined) afterDeployed.push(readyAt - at);
  }
  const lateP99 = [...deployed.lateMs].sort((a, b) => a - b)[Math.max(0, Math.ceil(deployed.lateMs.length * 0.99) - 1)] ?? 0;
  const loopP99 = loopDelay.percentile(99) / 1e6;
  const who = sim.mode === "child" ? "maas-sim" : "bench (simulator, writers, watches)";
  const check = simulatorCheck({ mode: sim.mode, loopP99Ms: sim.mode === "child" ? undefined : loopP99, lateP99Ms: lateP99, coreShare: (simCpu() - simCpu0) / (wallMs / 1000), who });
  printSection(`soak: create → Ready, ${String(n)} machines, deploy ${String(config.deploySeconds)} s`, [
    ["wall time, first create → all Ready=True (watch)", `${seconds(readyMs)} (${rate(n, readyMs).toFixed(1)} machines/s)`],
    ["MAAS calls per machine (simulator's log)", `${perMachine(calls.length, n)}: ${maasCalls(calls, n)}`],
    ["API requests per machine by verb", `${perMachine(api.reads + api.writes, n)}: ${listCounts(api.byVerb, n)}`],
    ["Ready after the simulator turned it Deployed", deployed.mismatch === undefined ? spread(afterDeployed) : `not paired: ${deployed.mismatch}`],
    ["  simulator's deploy timers firing late (its event loop)", sim.deploys.observed ? spread(deployed.lateMs) : "not seen (BENCH_SIM=child): Deployed = the deploy's answer + the latency"],
    ["bench event-loop delay while creating", `p99 ${ms(loopP99)}, max ${ms(loopDelay.max / 1e6)}`],
    ["simulator check", check],
    ["manager RSS / peak after Ready", `${manager.memory().rssMiB.toFixed(0)} / ${manager.memory().peakMiB.toFixed(0)} MiB`],
    ["manager CPU seconds", `${(manager.cpuSeconds() - cpu0).toFixed(1)} s`],
    ["manager descriptors before / after Ready", `${describeDescriptors(descriptors0)} / ${describeDescriptors(manager.descriptors())}`],
  ]);
  return { readyPerSecond: rate(n, readyMs) };
}

interface Mark {
  t: number;
  metrics: MetricSample[];
  calls: number;
  cpu: number;
}

async function mark(ctx: SoakContext): Promise<Mark> {
  return { t: Date.now(), metrics: await ctx.manager.scrape(), calls: await ctx.sim.log.mark(), cpu: ctx.manager.cpuSeconds() };
}

export interface HoldFigures {
  maxRssMiB: number;
  writesOutsideResyncs: number;
  writesInResyncs: number;
  maasReadsPerMinute: number;
  machinesReadPerMinute: number;
}

export async function measureHold(ctx: SoakContext): Promise<HoldFigures> {
  const { config, monitor } = ctx;
  const holdMs = config.minutes * 60_000;
  const start = Date.now();
  ctx.holdStart = start;
  monitor.detectResyncsFrom = start;
  progress(ctx.tag, `holding ${String(config.machines)} machines Ready for ${String(config.minutes)} min`);
  const first = await mark(ctx);
  let prev = first;
  const table: string[][] = [["t", "RSS MiB", "heap used/total", "API requests/min by verb", "MAAS requests/min", "reconciles/min", "queue now/max", "fds (sockets)", ""]];
  let maxRss = 0;
  let writesOut = 0;
  let writesIn = 0;
  for (let k = 1; ; k++) {
    const due = Math.min(start + k * config.sampleSeconds * 1000, start + holdMs);
    await sleep(Math.max(0, due - Date.now()));
    const cur = await mark(ctx);
    const wall = cur.t - prev.t;
    const api = apiRequests(prev.metrics, cur.metrics);
    const calls = ctx.sim.log.calls.slice(prev.calls, cur.calls);
    const inResync = monitor.resyncs.some((r) => r.before.t < cur.t && (r.after?.t ?? Number.POSITIVE_INFINITY) > prev.t);
    if (inResync) writesIn += api.writes;
    else writesOut += api.writes;
    const rss = ctx.manager.memory().rssMiB;
    maxRss = Math.max(maxRss, rss, ...monitor.polls.filter((p) => p.t > prev.t && p.t <= cur.t).map((p) => p.rssMiB));
    const d = ctx.manager.descriptors();
    table.push([
      clock(cur.t - start),
      rss.toFixed(0),
      `${mib(gauge(cur.metrics, "nodejs_heap_size_used_bytes"))}/${mib(gauge(cur.metrics, "nodejs_heap_size_total_bytes"))}`,
      `${perMinute(api.byVerb, wall)}${api.writes > 0 ? ` (WRITES ${String(api.writes)})` : ""}`,
      maasCalls(calls, undefined, wall),
      ((sumMap(reconciles(prev.metrics, cur.metrics)) / wall) * 60_000).toFixed(1),
      `${String(monitor.latest()?.depth ?? "?")}/${String(monitor.maxDepth(prev.t, cur.t))}`,
      `${String(d.total)} (${String(d.sockets)})`,
      inResync ? "resync" : "",
    ]);
    prev = cur;
    if (cur.t >= start + holdMs) break;
  }
  const wallMs = prev.t - first.t;
  const api = apiRequests(first.metrics, prev.metrics);
  const calls = ctx.sim.log.calls.slice(first.calls, prev.calls);
  const reads = calls.filter((c) => c.call === "GET machines/");
  const machinesRead = reads.reduce((sum, c) => sum + c.idList.length, 0);
  printTable(`soak: ${String(config.machines)} machines held Ready, a row every ${String(config.sampleSeconds)} s (per minute over each row)`, table);
  printSection(`soak: the hold in all, ${(wallMs / 60_000).toFixed(1)} min`, [
    ["API writes outside resyncs / in resyncs", `${String(writesOut)} / ${String(writesIn)}`],
    ["API requests per minute by verb and resource", perMinute(api.byVerbAndResource, wallMs)],
    ["MAAS requests per minute", `${((calls.length / wallMs) * 60_000).toFixed(1)}: ${maasCalls(calls, undefined, wallMs)}`],
    ["  machines read per minute (every batched read's IDs)", `${((machinesRead / wallMs) * 60_000).toFixed(0)} (${((machinesRead / wallMs) * 60_000 / config.machines).toFixed(2)} per machine)`],
    ["  the manager's tally per minute (capmaas_maas_requests_total)", perMinute(maasRequests(first.metrics, prev.metrics), wallMs)],
    ["reconciles per minute by result", perMinute(reconciles(first.metrics, prev.metrics), wallMs)],
    ["deepest MaasMachine queue outside resyncs", String(maxDepthOutside(monitor, first.t, prev.t))],
    ["manager RSS: most polled / peak since start (VmHWM)", `${maxRss.toFixed(0)} / ${ctx.manager.memory().peakMiB.toFixed(0)} MiB`],
    ["manager CPU seconds", `${(prev.cpu - first.cpu).toFixed(1)} s (${(((prev.cpu - first.cpu) / (wallMs / 1000)) * 100).toFixed(1)}% of a core)`],
  ]);
  return {
    maxRssMiB: maxRss,
    writesOutsideResyncs: writesOut,
    writesInResyncs: writesIn,
    maasReadsPerMinute: (reads.length / wallMs) * 60_000,
    machinesReadPerMinute: (machinesRead / wallMs) * 60_000,
  };
}

function maxDepthOutside(monitor: ManagerMonitor, from: number, to: number): number {
  let max = 0;
  for (const p of monitor.polls) {
    if (p.t < from || p.t > to) continue;
    if (monitor.resyncs.some((r) => p.t >= r.before.t && p.t <= (r.after?.t ?? Number.POSITIVE_INFINITY))) continue;
    max = Math.max(max, p.depth);
  }
  return max;
}

function clock(elapsedMs: number): string {
  const s = Math.round(elapsedMs / 1000);
  return `${String(Math.floor(s / 60))}:${String(s % 60).padStart(2, "0")}`;
}

export interface ResyncFigures {
  durationMs: number;
  writes: number;
  maasCalls: number;
}

/** The periodic resync: the first after the hold began, waited for if none came yet (it comes every --sync-period). */
export async function measurePeriodicResync(ctx: SoakContext): Promise<ResyncFigures> {
  const { monitor, config } = ctx;
  const since = ctx.holdStart ?? 0;
  const found = (): Resync | undefined => monitor.resyncs.find((r) => r.before.t >= since);
  if (found() === undefined) progress(ctx.tag, `waiting for the periodic resync (--sync-period ${config.syncPeriod ?? "10m, the default"})`);
  const deadline = Date.now() + config.syncPeriodMs + 60_000;
  let resync = found();
  while (resync?.after === undefined) {
    if (Date.now() > deadline + (resync === undefined ? 0 : waitMs(config.machines, 0))) {
      throw new Error(resync === undefined ? `no resync within --sync-period + 60 s` : `the resync's queue did not drain`);
    }
    await sleep(POLL_MS);
    resync = found();
  }
  const { before, after, beforeMetrics, afterMetrics } = resync;
  const api = apiRequests(beforeMetrics, afterMetrics ?? []);
  const calls = ctx.sim.log.calls.slice(before.calls, after.calls);
  const durationMs = after.t - before.t;
  printSection(`soak: the periodic resync (--sync-period ${config.syncPeriod ?? "10m"}), ${String(config.machines)} machines`, [
    ["began, after the manager started", seconds(before.t - ctx.manager.startedAt)],
    [`enqueued → queue empty and no worker busy (polled every ${String(POLL_MS)} ms)`, `≤ ${seconds(durationMs)}`],
    ["reconciles by result", listCounts(reconciles(beforeMetrics, afterMetrics ?? []))],
    ["deepest MaasMachine queue", String(resync.maxDepth)],
    ["API requests by verb and resource", listCounts(api.byVerbAndResource)],
    ["MAAS calls", `${String(calls.length)}: ${maasCalls(calls, undefined)}`],
    ["manager CPU seconds", `${(after.cpu - before.cpu).toFixed(1)} s`],
  ]);
  return { durationMs, writes: api.writes, maasCalls: calls.length };
}

export interface RestartFigures {
  readyMs: number;
  drainedMs: number;
  /** Until the last reconcile of the tail window, from the new process's start. */
  settledMs: number;
  writes: number;
  maasCalls: number;
}

/**
 * After the first drain a restart may still owe work: each machine's first pass asks
 * to be looked at again in 30 s in case the watcher's first read is late
 * (maasmachine/deploy.ts), and those requeues run even when the read came first.
 * Watched this long after the drain, so their cost is counted too.
 */
const RESTART_TAIL_MS = 45_000;

/** A manager restart: the old process stopped by SIGTERM, a new one lists everything and reconciles every MaasMachine. */
export async function measureRestart(ctx: SoakContext, start: () => Promise<{ manager: ManagerProcess; monitor: ManagerMonitor }>): Promise<RestartFigures> {
  const n = ctx.config.machines;
  progress(ctx.tag, "restarting the manager");
  const t0 = Date.now();
  await ctx.monitor.stop();
  await ctx.manager.stop();
  const stopMs = Date.now() - t0;
  const calls0 = await ctx.sim.log.mark();
  const next = await start();
  ctx.manager = next.manager;
  ctx.monitor = next.monitor;
  const readyMs = Date.now() - next.manager.startedAt;
  // Drained: as many reconciles ended in success as there are MaasMachines, the queue empty, no worker busy, no add for 2 s.
  const quietPolls = Math.ceil(2000 / POLL_MS);
  const done = await next.monitor.waitFor("the restarted manager to reconcile every MaasMachine", 0, (p, i, polls) => {
    const window = polls.slice(Math.max(0, i - quietPolls), i + 1);
    return p.succeeded >= n && window.length > quietPolls && window.every((w) => w.depth === 0 && w.active === 0 && w.adds === p.adds);
  }, waitMs(n, 0));
  const drained = firstOfQuiet(next.monitor.polls, done);
  const atDrain = await next.manager.scrape();
  const api = apiRequests([], atDrain);
  const calls = ctx.sim.log.calls.slice(calls0, drained.calls);
  progress(ctx.tag, `restart drained; watching ${String(RESTART_TAIL_MS / 1000)} s more for requeued work`);
  await sleep(Math.max(0, drained.t + RESTART_TAIL_MS - Date.now()));
  const tailEnd = await mark(ctx);
  const tailApi = apiRequests(atDrain, tailEnd.metrics);
  const tailCalls = ctx.sim.log.calls.slice(drained.calls, tailEnd.calls);
  const tailReconciles = reconciles(atDrain, tailEnd.metrics);
  const polls = next.monitor.polls;
  const lastWork = [...polls].reverse().find((p, i, rev) => i + 1 < rev.length && p.reconciles !== (rev[i + 1]?.reconciles ?? p.reconciles));
  const settled = lastWork === undefined || lastWork.t <= drained.t ? drained : lastWork;
  printSection(`soak: a manager restart with ${String(n)} machines Ready`, [
    ["SIGTERM → old process gone", seconds(stopMs)],
    ["new process → /readyz", seconds(readyMs)],
    [`new process → every MaasMachine reconciled, queue empty (polled every ${String(POLL_MS)} ms)`, seconds(drained.t - next.manager.startedAt)],
    ["  reconciles by result", listCounts(reconciles([], atDrain))],
    ["  deepest MaasMachine queue", String(next.monitor.maxDepth(0, drained.t))],
    ["  API requests by verb and resource", listCounts(api.byVerbAndResource)],
    ["  MAAS calls", `${String(calls.length)} (${perMachine(calls.length, n)} per machine): ${maasCalls(calls, undefined)}`],
    ["  manager CPU seconds", `${drained.cpu.toFixed(1)} s`],
    [`then ${String(RESTART_TAIL_MS / 1000)} s more: reconciles by result`, listCounts(tailReconciles)],
    ["  the last of them, after the new process started", seconds(settled.t - next.manager.startedAt)],
    ["  API requests by verb and resource", listCounts(tailApi.byVerbAndResource)],
    ["  MAAS calls", `${String(tailCalls.length)}: ${maasCalls(tailCalls, undefined)}`],
    ["  manager CPU seconds", `${(tailEnd.cpu - drained.cpu).toFixed(1)} s`],
    ["manager RSS now / peak", `${next.manager.memory().rssMiB.toFixed(0)} / ${next.manager.memory().peakMiB.toFixed(0)} MiB`],
  ]);
  return {
    readyMs,
    drainedMs: drained.t - next.manager.startedAt,
    settledMs: settled.t - next.manager.startedAt,
    writes: api.writes + tailApi.writes,
    maasCalls: calls.length + tailCalls.length,
  };
}

/** The first poll of the quiet stretch that ends at `last`. */
function firstOfQuiet(polls: readonly Poll[], last: Poll): Poll {
  let i = polls.indexOf(last);
  while (i > 0) {
    const p = polls[i - 1];
    if (p === undefined || p.depth !== 0 || p.active !== 0 || p.adds !== last.adds) break;
    i -= 1;
  }
  return polls[i] ?? last;
}

export async function measureDelete(ctx: SoakContext): Promise<void> {
  const { tracker, config } = ctx;
  const n = config.machines;
  const before = await mark(ctx);
  const writes0 = tracker.writes.length;
  progress(ctx.tag, `deleting ${String(n)} machines (${String(WRITERS)} writers)`);
  const t0 = Date.now();
  await deleteMaasMachines(ctx.writer, ctx.namespace, n);
  await tracker.waitFor("gone", () => tracker.goneAt.size, n, waitMs(n, 0));
  const goneMs = Math.max(...tracker.goneAt.values()) - t0;
  await sleep(2000);
  const after = await mark(ctx);
  const api = apiRequests(before.metrics, after.metrics);
  const calls = ctx.sim.log.calls.slice(before.calls, after.calls);
  printSection(`soak: delete → gone, ${String(n)} machines`, [
    ["wall time, first delete → all gone (watch)", `${seconds(goneMs)} (${rate(n, goneMs).toFixed(1)} machines/s)`],
    ["MAAS calls per machine", `${perMachine(calls.length, n)}: ${maasCalls(calls, n)}`],
    ["API requests per machine by verb", `${perMachine(api.writes + api.reads, n)}: ${listCounts(api.byVerb, n)}`],
    ["  writes by verb and resource", `${perMachine(api.writes, n)}: ${listCounts(new Map([...api.byVerbAndResource].filter(([k]) => !/^(GET|LIST|WATCH) /.test(k))), n)}`],
    ["MaasMachine writes seen by the watch (with the bench's deletes)", perMachine(tracker.writes.length - writes0, n)],
    ["manager descriptors after delete", describeDescriptors(ctx.manager.descriptors())],
    ["manager peak RSS (the restarted process)", `${ctx.manager.memory().peakMiB.toFixed(0)} MiB`],
    ["manager CPU seconds", `${(after.cpu - before.cpu).toFixed(1)} s`],
    ["manager log: warnings and errors", listCounts(await ctx.manager.logSummary())],
    ["MAAS calls the simulator's log lost", logLosses(ctx.sim)],
  ]);
}

export function printSoakTargets(config: SoakSettings, f: { created: { readyPerSecond: number }; hold: HoldFigures; resync: ResyncFigures; restart: RestartFigures }): void {
  const n = config.machines;
  const verdict = (ok: boolean): string => (ok ? "met" : "MISSED");
  // One batched read of up to 200 machines per --maas-watch-interval (60 s) at rest; the
  // watcher batches machines from 3/4 of the interval, so some reads carry fewer: 10 % over.
  const watcherReads = Math.ceil(n / 200);
  const readsAllowed = Math.floor(watcherReads * 1.1);
  printTable(`soak: against the targets, ${String(n)} machines`, [
    ["target", "verdict", "measured"],
    ["manager RSS < 400 MB while holding them", verdict(f.hold.maxRssMiB < RSS_TARGET_MIB), `${f.hold.maxRssMiB.toFixed(0)} MiB (${(f.hold.maxRssMiB * 2 ** 20 / 1e6).toFixed(0)} MB)`],
    ["no API writes at rest", verdict(f.hold.writesOutsideResyncs === 0), `${String(f.hold.writesOutsideResyncs)} (in resyncs: ${String(f.hold.writesInResyncs)})`],
    [`MAAS reads at rest bounded by the watcher's interval (≤ ${String(readsAllowed)} batched reads/min: ${String(watcherReads)} of 200 machines, + 10 %)`, verdict(f.hold.maasReadsPerMinute <= readsAllowed), `${f.hold.maasReadsPerMinute.toFixed(1)} reads/min, ${(f.hold.machinesReadPerMinute / n).toFixed(2)} machine records per machine per minute; the Go provider: 30–56 GETs per machine per minute`],
    ["the periodic resync writes nothing", verdict(f.resync.writes === 0), `${String(f.resync.writes)} writes, ${String(f.resync.maasCalls)} MAAS calls, drained in ≤ ${seconds(f.resync.durationMs)}`],
    ["a restart writes nothing", verdict(f.restart.writes === 0), `${String(f.restart.writes)} writes, ${String(f.restart.maasCalls)} MAAS calls; /readyz ${seconds(f.restart.readyMs)}, drained ${seconds(f.restart.drainedMs)}, last reconcile ${seconds(f.restart.settledMs)}`],
  ]);
}
