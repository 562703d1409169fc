// Benchmark of the simulator's durable state file: requests per second with
// --state (every answer waits until its change is written, fsynced and renamed)
// against no state file, for N concurrent clients and two request mixes. Also
// counts the state-file writes, so the group commit shows as changes per fsync.
// The simulator runs as the real command (bin/maas-sim.mjs) in its own process.
// Prints figures; asserts nothing. Run:
//   node --import tsx bench/sim-durability.ts [--seconds 5] [--repeat 3] [--dir DIR]
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { API_KEY, TestClient } from "../src/sim/test-support.ts";

const CONCURRENCY = [1, 8, 32];
const root = fileURLToPath(new URL("../", import.meta.url));

type Mix = "allocate+release" | "80% GET, 20% POST";
const MIXES: Mix[] = ["allocate+release", "80% GET, 20% POST"];

interface Simulator {
  child: ChildProcess;
  client: TestClient;
  /** State-file writes the simulator reported (debug log lines with stateWrite). */
  writes: () => number;
  stop: () => Promise<void>;
}

async function startSimulator(machines: number, stateFile: string | null): Promise<Simulator> {
  const args = ["bin/maas-sim.mjs", "--port", "0", "--api-key", API_KEY, "--machines", String(machines), "--release-seconds", "0", "--deploy-seconds", "0"];
  if (stateFile !== null) args.push("--state", stateFile);
  const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LOG_LEVEL: "debug" } });
  let writes = 0;
  createInterface({ input: child.stderr! }).on("line", (line) => {
    if (line.includes('"stateWrite"')) writes++;
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const endpoint = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", (line) => resolve(/MAAS_ENDPOINT=(\S+)/.exec(line)?.[1] ?? ""));
    void exited.then(() => reject(new Error("maas-sim exited before it printed its endpoint")));
  });
  return {
    child,
    client: new TestClient(endpoint, API_KEY),
    writes: () => writes,
    stop: async () => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, "SIGTERM");
      await exited;
    },
  };
}

interface Figures {
  requests: number;
  posts: number;
  writes: number;
  seconds: number;
  latenciesMs: number[];
}

/** One client on one machine: allocate and release it in turn, with GETs between for the read-heavy mix. */
async function client(sim: Simulator, systemId: string, mix: Mix, deadlineMs: number, f: Figures): Promise<void> {
  let allocated = false;
  let i = 0;
  while (performance.now() < deadlineMs) {
    const read = mix === "80% GET, 20% POST" && i++ % 5 !== 4;
    const started = performance.now();
    let status: number;
    if (read) {
      status = (await sim.client.get(`machines/${systemId}/`)).status;
    } else {
      status = allocated
        ? (await sim.client.post(`machines/${systemId}/`, "release", {})).status
        : (await sim.client.post("machines/", "allocate", { system_id: systemId })).status;
      allocated = !allocated;
      f.posts++;
    }
    if (status !== 200) throw new Error(`unexpected status ${status}`);
    f.latenciesMs.push(performance.now() - started);
    f.requests++;
  }
}

async function measure(concurrency: number, mix: Mix, stateFile: string | null, seconds: number): Promise<Figures> {
  const sim = await startSimulator(concurrency, stateFile);
  try {
    const ids = (await sim.client.get("machines/")).json<Array<{ system_id: string }>>().map((m) => m.system_id);
    // Warm up (JIT, connections), then measure; every client starts from a Ready machine.
    const warm: Figures = { requests: 0, posts: 0, writes: 0, seconds: 0, latenciesMs: [] };
    await Promise.all(ids.map((id) => client(sim, id, mix, performance.now() + 500, warm)));
    // Release whatever the warm-up left allocated, so every client starts from Ready.
    await Promise.all(ids.map((id) => sim.client.post(`machines/${id}/`, "release", {})));
    const writesBefore = sim.writes();
    const f: Figures = { requests: 0, posts: 0, writes: 0, seconds, latenciesMs: [] };
    const started = performance.now();
    await Promise.all(ids.map((id) => client(sim, id, mix, started + seconds * 1000, f)));
    f.seconds = (performance.now() - started) / 1000;
    // The debug lines arrive through a pipe; give the last ones a moment.
    await new Promise((resolve) => setTimeout(resolve, 200));
    f.writes = sim.writes() - writesBefore;
    return f;
  } finally {
    await sim.stop();
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: "string", default: "5" }, repeat: { type: "string", default: "3" }, dir: { type: "string" } } });
  const seconds = Number(values.seconds);
  const repeat = Number(values.repeat);
  const dir = mkdtempSync(join(values.dir ?? tmpdir(), "maas-sim-bench-"));
  console.log(`maas-sim request rate: ${seconds} s per run, median of ${repeat} runs (none and durable alternate); state file in ${dir}; node ${process.version}`);
  console.log("mix                 | clients | state file | req/s  | p50 ms | p99 ms | POSTs/write");
  console.log("--------------------|---------|------------|--------|--------|--------|------------");
  try {
    let run = 0;
    for (const mix of MIXES) {
      for (const concurrency of CONCURRENCY) {
        const runs: Record<"none" | "durable", Figures[]> = { none: [], durable: [] };
        // Alternating, so a burst of load from elsewhere on the machine hits both sides.
        for (let i = 0; i < repeat; i++) {
          runs.none.push(await measure(concurrency, mix, null, seconds));
          runs.durable.push(await measure(concurrency, mix, join(dir, `state-${run++}.json`), seconds));
        }
        for (const mode of ["none", "durable"] as const) {
          const rates = runs[mode].map((f) => f.requests / f.seconds);
          const mid = runs[mode][rates.indexOf(median(rates))] as Figures;
          const sorted = [...mid.latenciesMs].sort((a, b) => a - b);
          console.log(
            [
              mix.padEnd(19),
              String(concurrency).padStart(7),
              mode.padEnd(10),
              median(rates).toFixed(0).padStart(6),
              percentile(sorted, 50).toFixed(1).padStart(6),
              percentile(sorted, 99).toFixed(1).padStart(6),
              (mid.writes === 0 ? "-" : (mid.posts / mid.writes).toFixed(1)).padStart(10),
            ].join(" | "),
          );
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
