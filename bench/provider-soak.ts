// The provider's soak: one compiled manager (default flags) holding N MaasMachines
// Ready against the in-process MAAS simulator. Creates N and waits until all are
// Ready; holds them for the minutes asked, sampling every ~30 s the manager's RSS and
// V8 heap, API-server requests per minute by verb (writes must be 0), MAAS requests
// per minute by operation, MaasMachine reconciles, work-queue depth (now and deepest
// of the window, polled every 0.5 s) and open descriptors; then measures the two
// resyncs a user meets: the periodic one (--sync-period: every object reconciled
// again; waited for if none fell in the hold) and a manager restart (SIGTERM, a new
// process lists everything and reconciles it): how long until the queue drains, and
// how many API and MAAS requests; then deletes all and times it. Prints figures;
// asserts nothing. Everything it starts is stopped by pid, on failure too.
//
//   make bench                                   # the matrix (bench/provider.ts), then this
//   node --import tsx bench/provider-soak.ts     # the soak alone
//
//   BENCH_SOAK_MACHINES=10000        MaasMachines held (1–20000)
//   BENCH_SOAK_MINUTES=10            how long they are held Ready
//   BENCH_SOAK_SAMPLE_SECONDS=30     one sample row this often while held
//   BENCH_SOAK_DEPLOY_SECONDS=5      the simulator's Deploying → Deployed latency
//   BENCH_SOAK_SYNC_PERIOD=…         the manager's --sync-period (default: the manager's own, 10m)
//   BENCH_SIM=child                  run the simulator as its own process (see "simulator check")
//   BENCH_QUICK=1                    500 machines held 1 minute, sampled every 15 s, --sync-period=45s
import { ConfigError, parseDuration } from "../src/cmd/manager-config.ts";
import { createLogger } from "../src/observability/index.ts";
import { startTestEnv } from "../test/testenv/index.ts";
import {
  BenchConfigError, commitMeasured, ensureBuilt, machineLine, newClient, numberSetting, portOf, progress, quickMode, runCleanups,
} from "./provider-config.ts";
import { managerNodeFlags, startManager, type ManagerProcess } from "./provider-manager.ts";
import { ManagerMonitor } from "./provider-monitor.ts";
import { EventCounter, MaasMachineTracker, prepareNamespace } from "./provider-objects.ts";
import { simMode, startBenchSimulator } from "./provider-sim.ts";
import {
  measureCreate, measureDelete, measureHold, measurePeriodicResync, measureRestart, printSoakTargets, type SoakContext, type SoakSettings,
} from "./provider-soak-phases.ts";

const TAG = "bench soak";
const NAMESPACE = "bench-soak";

function settings(): SoakSettings {
  const quick = quickMode();
  const syncPeriod = process.env.BENCH_SOAK_SYNC_PERIOD ?? (quick ? "45s" : undefined);
  let syncPeriodMs: number;
  try {
    syncPeriodMs = parseDuration("BENCH_SOAK_SYNC_PERIOD", syncPeriod ?? "10m", { minMs: 1000 });
  } catch (err) {
    if (err instanceof ConfigError) throw new BenchConfigError(err.message);
    throw err;
  }
  return {
    machines: numberSetting("BENCH_SOAK_MACHINES", quick ? 500 : 10_000, { min: 1, max: 20_000, integer: true }),
    minutes: numberSetting("BENCH_SOAK_MINUTES", quick ? 1 : 10, { min: 0.1, max: 600, integer: false }),
    sampleSeconds: numberSetting("BENCH_SOAK_SAMPLE_SECONDS", quick ? 15 : 30, { min: 1, max: 3600, integer: false }),
    deploySeconds: numberSetting("BENCH_SOAK_DEPLOY_SECONDS", 5, { min: 0, max: 600, integer: false }),
    syncPeriod,
    syncPeriodMs,
    sim: simMode(),
  };
}

async function main(): Promise<void> {
  const started = performance.now();
  let config: SoakSettings;
  try {
    config = settings();
  } catch (err) {
    if (!(err instanceof BenchConfigError)) throw err;
    console.error(`bench/provider-soak.ts: ${err.message}`);
    process.exitCode = 2;
    return;
  }
  const machineAtStart = machineLine();
  ensureBuilt(TAG);
  const cleanups: Array<() => Promise<void> | void> = [];
  let manager: ManagerProcess | undefined;
  let failure: unknown;
  try {
    const env = await startTestEnv({ log: () => undefined });
    cleanups.push(() => env.stop());
    console.log(
      `provider soak: capmaas-manager (node ${managerNodeFlags().join(" ")} dist/, default flags${config.syncPeriod === undefined ? "" : `, --sync-period=${config.syncPeriod}`}) + MAAS simulator ${config.sim === "child" ? "in its own process" : "in the bench's process"} ` +
        `(deploy ${String(config.deploySeconds)} s); ${String(config.machines)} machines held ${String(config.minutes)} min, sampled every ${String(config.sampleSeconds)} s; ` +
        `kube-apiserver ${env.versions.kubernetes}, etcd ${env.versions.etcd}, node ${process.version}; commit ${commitMeasured()}; machine: ${machineAtStart}`,
    );
    const sim = await startBenchSimulator({ machines: Math.ceil(config.machines * 1.1), deploySeconds: config.deploySeconds, mode: config.sim });
    cleanups.push(() => sim.close());
    const writer = newClient(env, "bench-writer");
    const watcher = newClient(env, "bench-watch");
    cleanups.push(() => Promise.all([writer.transport.close(), watcher.transport.close()]).then(() => undefined));
    await prepareNamespace(writer, NAMESPACE);
    const logger = createLogger({ level: "silent" });
    const tracker = new MaasMachineTracker(watcher, NAMESPACE, logger);
    const events = new EventCounter(watcher, NAMESPACE, logger);
    cleanups.push(() => tracker.stop(), () => events.stop());
    await Promise.all([tracker.start(), events.start()]);
    const start = async (): Promise<{ manager: ManagerProcess; monitor: ManagerMonitor }> => {
      const m = await startManager({
        kubeconfigPath: env.kubeconfigPath,
        maasEndpoint: sim.endpoint,
        maasApiKey: sim.apiKey,
        extraArgs: config.syncPeriod === undefined ? [] : [`--sync-period=${config.syncPeriod}`],
        peers: { "API server": portOf(env.server), MAAS: sim.port },
      });
      manager = m;
      const monitor = new ManagerMonitor(m, config.machines, () => sim.log.mark());
      cleanups.push(() => monitor.stop(), () => m.stop());
      monitor.start();
      return { manager: m, monitor };
    };
    const first = await start();
    progress(TAG, `manager ready (pid ${String(first.manager.pid)})`);
    const ctx: SoakContext = { config, env, sim, writer, tracker, events, namespace: NAMESPACE, tag: TAG, ...first };
    const created = await measureCreate(ctx);
    const hold = await measureHold(ctx);
    const resync = await measurePeriodicResync(ctx);
    const restart = await measureRestart(ctx, start);
    await measureDelete(ctx);
    printSoakTargets(config, { created, hold, resync, restart });
  } catch (err) {
    failure = err;
    if (manager !== undefined) progress(TAG, `manager log (last lines):\n${await manager.logTail(30)}`);
  } finally {
    await runCleanups(TAG, cleanups);
  }
  console.log(`\nmachine at start: ${machineAtStart}; at end: ${machineLine()}`);
  console.log(`total time: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (failure !== undefined) {
    console.error(`provider soak failed: ${failure instanceof Error ? (failure.stack ?? failure.message) : String(failure)}`);
    process.exitCode = 1;
  }
}

await main();
