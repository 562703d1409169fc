// The provider's scale benchmark: a matrix of runs, each on a control plane of its
// own (a private kube-apiserver + etcd), of the compiled capmaas-manager (`node
// dist/cmd/manager.js`, default flags) against the MAAS simulator in this process:
// N MaasMachines (with the bootstrap Secret and owner Machine Cluster API would
// write) created → Ready, held at rest, deleted → gone, for every N and every deploy
// latency; and per N a floor (the same objects and the three writes a provider
// needs per machine, made by the bench: no manager, no MAAS). Per run it prints wall
// time, machines Ready per second, MAAS calls per machine by operation, API-server
// requests per machine by verb, Ready latency after the simulator turned each machine
// Deployed, the manager's RSS, CPU seconds and open descriptors (sockets apart) at
// start, after Ready and after delete; then one summary beside the targets and the
// other MAAS provider's figures. Prints figures; asserts nothing. Everything it
// starts is stopped by pid, on failure too.
//
//   make bench                                   # the matrix, then the soak (bench/provider-soak.ts)
//   node --import tsx bench/provider.ts          # the matrix alone
//
//   BENCH_MACHINES=100,1000,5000   MaasMachines per run (comma-separated, 1–20000)
//   BENCH_DEPLOY_SECONDS=0,5       the simulator's Deploying → Deployed latency per run (0–600)
//   BENCH_REST_SECONDS=30          how long each run holds all machines Ready before deleting
//   BENCH_SIM=child                run the simulator as its own process (node dist/cmd/maas-sim.js), when
//                                  the bench's process is too busy to answer for it (see each run's "simulator check")
//   BENCH_QUICK=1                  a few minutes: 100 machines × 0 and 5 s, 10 s at rest (explicit settings still win)
//   BENCH_MANAGER_NODE_FLAGS=…     Node/V8 flags for the manager instead of the image's (the Dockerfile ENTRYPOINT's)
import { locateBinaries } from "../test/testenv/index.ts";
import { BenchConfigError, commitMeasured, ensureBuilt, machineLine, numberList, numberSetting, progress, quickMode } from "./provider-config.ts";
import { managerNodeFlags } from "./provider-manager.ts";
import { printSummary, type RunFigures } from "./provider-report.ts";
import { runFloorOnce, runProvider } from "./provider-run.ts";
import { simMode, type SimMode } from "./provider-sim.ts";

const TAG = "bench provider";

interface Settings {
  machines: number[];
  deploySeconds: number[];
  restSeconds: number;
  sim: SimMode;
}

function settings(): Settings {
  const quick = quickMode();
  return {
    machines: numberList("BENCH_MACHINES", quick ? "100" : "100,1000,5000", { min: 1, max: 20_000, integer: true }),
    deploySeconds: numberList("BENCH_DEPLOY_SECONDS", "0,5", { min: 0, max: 600, integer: false }),
    restSeconds: numberSetting("BENCH_REST_SECONDS", quick ? 10 : 30, { min: 0, max: 3600, integer: false }),
    sim: simMode(),
  };
}

async function main(): Promise<void> {
  const started = performance.now();
  let config: Settings;
  try {
    config = settings();
  } catch (err) {
    if (!(err instanceof BenchConfigError)) throw err;
    console.error(`bench/provider.ts: ${err.message}`);
    process.exitCode = 2;
    return;
  }
  const machineAtStart = machineLine();
  ensureBuilt(TAG);
  const { versions } = await locateBinaries();
  console.log(
    `provider benchmark: capmaas-manager (node ${managerNodeFlags().join(" ")} dist/, default flags) + MAAS simulator ${config.sim === "child" ? "in its own process" : "in the bench's process"}; machines ${config.machines.join(", ")} × deploy ${config.deploySeconds.join(", ")} s, ` +
      `${String(config.restSeconds)} s at rest; kube-apiserver ${versions.kubernetes}, etcd ${versions.etcd}, node ${process.version}; commit ${commitMeasured()}; machine: ${machineAtStart}`,
  );
  const runs: RunFigures[] = [];
  const floors = new Map<number, number>();
  const failures: string[] = [];
  for (const machines of config.machines) {
    try {
      floors.set(machines, await runFloorOnce(machines));
    } catch (err) {
      failures.push(`floor ${String(machines)}: ${describe(err)}`);
      progress(TAG, `floor ${String(machines)} failed: ${describe(err)}`);
    }
    for (const deploySeconds of config.deploySeconds) {
      try {
        runs.push(await runProvider(machines, deploySeconds, config.restSeconds, config.sim));
      } catch (err) {
        // The figures printed so far stand; the other runs still go.
        failures.push(`${String(machines)} machines, deploy ${String(deploySeconds)} s: ${describe(err)}`);
        progress(TAG, `${String(machines)} machines, deploy ${String(deploySeconds)} s failed: ${describe(err)}`);
      }
    }
  }
  printSummary(runs, floors);
  console.log(`\nmachine at start: ${machineAtStart}; at end: ${machineLine()}`);
  console.log(`total time: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (failures.length > 0) {
    console.error(`provider benchmark: ${String(failures.length)} run(s) failed:\n  ${failures.join("\n  ")}`);
    process.exitCode = 1;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

await main();
