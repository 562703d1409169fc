// The MAAS simulator as the provider benchmarks run it. By default in the bench's own
// process: its request log drained every 200 ms into a running record that checks
// the log's sequence numbers (a call dropped by the log's bound is reported, never
// silently missed), and its clock wrapped to see when each deployment timer fires,
// the moment it starts answering Deployed. With BENCH_SIM=child it runs apart as
// `node dist/cmd/maas-sim.js` (its own event loop, stopped by pid), its log drained
// through the admin API; deploy timers are not seen there, so Deployed is taken as
// the deploy's answer plus the latency.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { systemClock, type Clock, type TimerHandle } from "../src/clock/index.ts";
import { createLogger } from "../src/observability/index.ts";
import { generateApiKey, startSimulator, type RequestLogEntry } from "../src/sim/index.ts";
import { repoRoot } from "../test/testenv/binaries.ts";
import { Child, disownDir, ownDir } from "../test/testenv/children.ts";
import { freePorts } from "../test/testenv/ports.ts";
import { BenchConfigError } from "./provider-config.ts";

export type SimMode = "process" | "child";

export function simMode(): SimMode {
  const text = process.env.BENCH_SIM ?? "process";
  if (text === "process" || text === "child") return text;
  throw new BenchConfigError(`BENCH_SIM=${JSON.stringify(text)}: give process (the simulator in the bench's process, the default) or child (its own process)`);
}

export interface BenchSimulator {
  mode: SimMode;
  endpoint: string;
  apiKey: string;
  port: number;
  /** The simulator's own process in child mode, for its CPU seconds. */
  pid: number | undefined;
  log: SimLogRecorder;
  deploys: DeployTimers;
  close(): Promise<void>;
}

export async function startBenchSimulator(options: { machines: number; deploySeconds: number; mode: SimMode }): Promise<BenchSimulator> {
  const deploys = new DeployTimers(options.mode === "process");
  if (options.mode === "child") return startChild(options, deploys);
  const sim = await startSimulator({
    machines: options.machines,
    deploySeconds: options.deploySeconds,
    releaseSeconds: 0,
    seed: 1,
    clock: deploys.clock,
    logger: createLogger({ name: "maas-sim", level: "warn" }),
  });
  // list() and clear() run in one turn of the event loop: no entry comes between them.
  const log = new SimLogRecorder(() => {
    const entries = sim.requestLog();
    sim.clearRequestLog();
    return Promise.resolve(entries);
  });
  return {
    mode: "process", endpoint: sim.endpoint, apiKey: sim.apiKey, port: sim.port, pid: undefined, log, deploys,
    close: async () => {
      await log.stop();
      await sim.close();
    },
  };
}

async function startChild(options: { machines: number; deploySeconds: number }, deploys: DeployTimers): Promise<BenchSimulator> {
  const dir = await mkdtemp(join(tmpdir(), "bench-maas-sim-"));
  ownDir(dir);
  const [port = 0] = await freePorts(1);
  const apiKey = generateApiKey();
  const child = new Child({
    name: "maas-sim",
    command: process.execPath,
    args: [join(repoRoot, "dist", "cmd", "maas-sim.js"), `--port=${String(port)}`, `--api-key=${apiKey}`, `--machines=${String(options.machines)}`,
      `--deploy-seconds=${String(options.deploySeconds)}`, "--release-seconds=0", "--seed=1"],
    logPath: join(dir, "maas-sim.log"),
    env: { LOG_LEVEL: "warn" },
  });
  const admin = `http://127.0.0.1:${String(port)}/_sim`;
  const close = async (): Promise<void> => {
    await child.stop(10_000);
    await rm(dir, { recursive: true, force: true });
    disownDir(dir);
  };
  for (let waited = 0; ; waited += 100) {
    if (child.hasExited || waited > 60_000) {
      await close();
      throw new Error(`maas-sim did not answer on ${admin} (see its log in ${dir})`);
    }
    if (await fetch(`${admin}/`).then((r) => r.ok, () => false)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // Two requests, so calls answered between them are lost: the sequence numbers count them.
  const log = new SimLogRecorder(async () => {
    const entries = (await (await fetch(`${admin}/requests`)).json()) as RequestLogEntry[];
    await fetch(`${admin}/requests`, { method: "DELETE" });
    return entries;
  });
  return {
    mode: "child", endpoint: `http://127.0.0.1:${String(port)}/MAAS`, apiKey, port, pid: child.pid, log, deploys,
    close: async () => {
      await log.stop();
      await close();
    },
  };
}

/**
 * The simulator's lifecycle timers while recording is on. In the create phase the
 * only ones are deployments (Deploying → Deployed, simulator lifecycle.ts), started
 * by each accepted deploy in the order the deploys were handled; the request log
 * records each deploy in that same order right after it is handled, so the k-th
 * timer is the k-th deploy answered 200 (checked: counts and turns must agree).
 */
export class DeployTimers {
  readonly timers: Array<{ setAt: number; firedAt: number | undefined }> = [];
  recording = false;
  readonly clock: Clock = {
    now: () => systemClock.now(),
    setTimeout: (callback: () => void, delayMs: number): TimerHandle => {
      if (!this.recording) return systemClock.setTimeout(callback, delayMs);
      const timer: { setAt: number; firedAt: number | undefined } = { setAt: Date.now(), firedAt: undefined };
      this.timers.push(timer);
      return systemClock.setTimeout(() => {
        timer.firedAt = Date.now();
        callback();
      }, delayMs);
    },
    clearTimeout: (handle: TimerHandle) => systemClock.clearTimeout(handle),
    sleep: (delayMs: number, signal?: AbortSignal) => systemClock.sleep(delayMs, signal),
  };

  /** `observed`: the simulator runs on this clock (in this process). */
  constructor(readonly observed: boolean) {}

  /**
   * When each machine became Deployed in the simulator, by system ID, from the
   * deploys in `calls` (in log order). `mismatch` says why the pairing cannot be
   * trusted, if it cannot: then the latencies are left out rather than guessed.
   */
  deployedAt(calls: readonly MaasCall[], deploySeconds: number): { at: Map<string, number>; lateMs: number[]; mismatch: string | undefined } {
    const deploys = calls.filter((c) => c.call === "POST machines/{id}/ op=deploy" && c.status === 200 && c.systemId !== undefined);
    const at = new Map<string, number>();
    const lateMs: number[] = [];
    if (!this.observed) {
      for (const call of deploys) at.set(call.systemId ?? "", call.timeMs + deploySeconds * 1000);
      return { at, lateMs, mismatch: undefined };
    }
    if (deploys.length !== this.timers.length) return { at, lateMs, mismatch: `${String(deploys.length)} deploys answered 200 but ${String(this.timers.length)} lifecycle timers` };
    for (const [i, call] of deploys.entries()) {
      const timer = this.timers[i];
      if (timer === undefined || timer.firedAt === undefined) return { at, lateMs, mismatch: `deploy ${String(i + 1)}'s timer has not fired` };
      // A deploy is logged after its handler set the timer and before the next deploy's handler runs:
      // timer k ≤ log k ≤ timer k+1 (same clock, whole ms), or the pairing is wrong.
      const nextSetAt = this.timers[i + 1]?.setAt ?? Number.POSITIVE_INFINITY;
      if (call.timeMs < timer.setAt || call.timeMs > nextSetAt) return { at, lateMs, mismatch: `deploy ${String(i + 1)} was logged outside its timer's turn` };
      at.set(call.systemId ?? "", timer.firedAt);
      lateMs.push(timer.firedAt - timer.setAt - deploySeconds * 1000);
    }
    return { at, lateMs, mismatch: undefined };
  }
}

export interface MaasCall {
  timeMs: number;
  /** e.g. "POST machines/ op=allocate", "POST machines/{id}/ op=deploy", "GET machines/". */
  call: string;
  systemId: string | undefined;
  status: number | null;
  /** The system IDs a batched `GET machines/?id=…` asked for. */
  idList: readonly string[];
}

export class SimLogRecorder {
  readonly calls: MaasCall[] = [];
  /** Calls dropped before they were drained (a gap in the log's sequence numbers): 0, or the figures are short. */
  lost = 0;
  private lastSeq = 0;
  private draining: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;

  /** `take`: the log's entries since the last take, removed from the log. */
  constructor(private readonly take: () => Promise<RequestLogEntry[]>) {
    this.timer = setInterval(() => void this.drain().catch(() => undefined), 200);
  }

  /** Drains the log; resolves with how many calls are recorded in all. */
  async mark(): Promise<number> {
    await this.drain();
    return this.calls.length;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.draining?.catch(() => undefined);
  }

  private drain(): Promise<void> {
    // One drain at a time, so entries are recorded in order.
    this.draining ??= (async () => {
      try {
        this.record(await this.take());
      } finally {
        this.draining = undefined;
      }
    })();
    return this.draining;
  }

  private record(entries: readonly RequestLogEntry[]): void {
    for (const e of entries) {
      if (e.seq !== this.lastSeq + 1) this.lost += Math.max(0, e.seq - this.lastSeq - 1);
      this.lastSeq = e.seq;
      const sub = e.path.replace(/^\/MAAS\/api\/2\.0\//, "");
      const machine = /^machines\/([^/]+)\//.exec(sub);
      const route = machine === null ? sub : sub.replace(/^machines\/[^/]+\//, "machines/{id}/");
      const id = e.params.id;
      this.calls.push({
        timeMs: Date.parse(e.time),
        call: `${e.method} ${route}${e.op === null ? "" : ` op=${e.op}`}`,
        systemId: machine?.[1],
        status: e.status,
        idList: id === undefined ? [] : Array.isArray(id) ? id : [id],
      });
    }
  }
}

/** Calls by kind, with non-2xx answers counted apart by status ("none" when a fault dropped the connection). */
export function callsByKind(calls: readonly MaasCall[]): Map<string, { count: number; failed: Map<string, number>; ids: number }> {
  const out = new Map<string, { count: number; failed: Map<string, number>; ids: number }>();
  for (const c of calls) {
    const entry = out.get(c.call) ?? { count: 0, failed: new Map<string, number>(), ids: 0 };
    entry.count += 1;
    entry.ids += c.idList.length;
    if (c.status === null || c.status < 200 || c.status > 299) {
      const code = c.status === null ? "none" : String(c.status);
      entry.failed.set(code, (entry.failed.get(code) ?? 0) + 1);
    }
    out.set(c.call, entry);
  }
  return out;
}

/**
 * The calls the log lost. In this process none may be lost (a figure would be
 * short), so any is an error; over HTTP the calls answered between reading and
 * clearing the log are lost, and the manager's tally is the count to trust.
 */
export function logLosses(sim: BenchSimulator): string {
  const { lost } = sim.log;
  if (sim.mode === "process" && lost > 0) throw new Error(`the simulator's request log dropped ${String(lost)} calls between drains: the MAAS figures are short`);
  return sim.mode === "process" ? "0" : `${String(lost)} (read and cleared over HTTP: calls between the two are lost; count by the manager's tally)`;
}

/**
 * Whether the simulator could have held the manager back: it answers on this
 * process's event loop (or its own, in child mode). A process busy most of a core
 * is the bottleneck; an event loop that lags while the process is mostly idle
 * says the machine is busy instead.
 */
export function simulatorCheck(options: { mode: SimMode; loopP99Ms: number | undefined; lateP99Ms: number; coreShare: number; who: string }): string {
  const { loopP99Ms, lateP99Ms, coreShare, who } = options;
  const share = `${who} used ${(coreShare * 100).toFixed(0)}% of a core`;
  if (coreShare >= 0.7) return `BUSY: ${share}; MAAS answers may have waited on it${options.mode === "process" ? " (BENCH_SIM=child runs the simulator apart)" : ""}`;
  if ((loopP99Ms ?? 0) >= 100 || lateP99Ms >= 250) return `kept up as far as it could: ${share}, but its event loop lagged (p99 ${(loopP99Ms ?? 0).toFixed(0)} ms): the machine was busy`;
  return `kept up: ${share}${loopP99Ms === undefined ? "" : `, event-loop delay p99 ${loopP99Ms.toFixed(0)} ms`}`;
}
