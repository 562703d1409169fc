// What the provider benchmark reads to measure the manager from outside, as an
// operator would: the compiled manager run as a child process (stopped by pid), its
// /metrics on the probe port, its /proc entries (peak RSS, CPU seconds), and the MAAS
// simulator's request log, drained often so its bound never drops an entry.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunningSimulator } from "../src/sim/index.ts";
import { Child, disownDir, ownDir } from "../test/testenv/children.ts";
import { repoRoot } from "../test/testenv/binaries.ts";
import { freePorts } from "../test/testenv/ports.ts";

export const MANAGER_ENTRY = join(repoRoot, "dist", "cmd", "manager.js");

// ── The manager process ─────────────────────────────────────────────────────────

export interface ManagerProcess {
  readonly pid: number;
  readonly probePort: number;
  scrape(): Promise<MetricSample[]>;
  /** Peak and current resident set size, MiB (VmHWM / VmRSS). */
  memory(): { peakMiB: number; rssMiB: number };
  /** User + system CPU seconds so far. */
  cpuSeconds(): number;
  logTail(lines: number): Promise<string>;
  /** Warnings and errors in its log (pino JSON lines), counted by level and message. */
  logSummary(): Promise<Map<string, number>>;
  stop(): Promise<void>;
}

/** Starts `node dist/cmd/manager.js` with its default flags plus the ones a local run needs; resolves once /readyz is 200. */
export async function startManager(options: { kubeconfigPath: string; maasEndpoint: string; maasApiKey: string }): Promise<ManagerProcess> {
  if (!existsSync(MANAGER_ENTRY)) throw new Error(`${MANAGER_ENTRY} is missing: run make build`);
  const dir = await mkdtemp(join(tmpdir(), "capmaas-bench-"));
  // Removed by the last-resort cleanup too, should this process end on a signal.
  ownDir(dir);
  const [probePort = 0] = await freePorts(1);
  const logPath = join(dir, "manager.log");
  const child = new Child({
    name: "capmaas-manager",
    command: process.execPath,
    // BENCH_MANAGER_NODE_FLAGS: V8/Node flags for the manager only, to compare heap settings.
    args: [
      ...(process.env.BENCH_MANAGER_NODE_FLAGS ?? "").split(" ").filter((f) => f !== ""),
      MANAGER_ENTRY,
      `--kubeconfig=${options.kubeconfigPath}`,
      `--health-probe-bind-address=127.0.0.1:${String(probePort)}`,
      "--metrics-bind-address=0",
      // No serving certificate here; without this the default directory's absence is logged as a warning.
      "--webhook-port=0",
      // No serving certificate here; without this the default directory's absence is logged as a warning.
      "--webhook-port=0",
    ],
    logPath,
    env: { MAAS_ENDPOINT: options.maasEndpoint, MAAS_API_KEY: options.maasApiKey, LOG_LEVEL: "warn" },
  });
  const base = `http://127.0.0.1:${String(probePort)}`;
  let stopped: Promise<void> | undefined;
  const manager: ManagerProcess = {
    pid: child.pid,
    probePort,
    scrape: async () => parseMetrics(await (await fetch(`${base}/metrics`)).text()),
    memory: () => procMemory(child.pid),
    cpuSeconds: () => procCpuSeconds(child.pid),
    logTail: async (lines) => (await readFile(logPath, "utf8").catch(() => "")).split("\n").slice(-lines).join("\n"),
    logSummary: async () => summarizeLog(await readFile(logPath, "utf8").catch(() => "")),
    stop: () => {
      stopped ??= (async () => {
        await child.stop(15_000);
        await rm(dir, { recursive: true, force: true });
        disownDir(dir);
      })();
      return stopped;
    },
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.hasExited) {
      const tail = await manager.logTail(20);
      await manager.stop();
      throw new Error(`capmaas-manager exited during start:\n${tail}`);
    }
    const answer = await fetch(`${base}/readyz`).catch(() => undefined);
    if (answer?.status === 200) return manager;
    if (Date.now() > deadline) {
      await manager.stop();
      throw new Error(`capmaas-manager /readyz on ${String(probePort)} not 200 after 60 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const LEVELS: Record<number, string> = { 40: "warn", 50: "error", 60: "fatal" };

function summarizeLog(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    let key: string;
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; err?: unknown };
      const err = typeof entry.err === "string" ? entry.err : (entry.err as { message?: string } | undefined)?.message;
      // Object names vary per line; without them the same failure counts as one kind.
      const what = err?.replace(/"[^"]*"/g, '"…"').slice(0, 120);
      key = `${LEVELS[entry.level ?? 0] ?? String(entry.level)} "${entry.msg ?? ""}"${what === undefined ? "" : ` (${what})`}`;
    } catch {
      key = `unparsed: ${line.slice(0, 120)}`;
    }
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

function procMemory(pid: number): { peakMiB: number; rssMiB: number } {
  const status = readFileSync(`/proc/${String(pid)}/status`, "utf8");
  const kB = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return { peakMiB: kB("VmHWM") / 1024, rssMiB: kB("VmRSS") / 1024 };
}

let clockTicks: number | undefined;

export function procCpuSeconds(pid: number): number {
  clockTicks ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  const stat = readFileSync(`/proc/${String(pid)}/stat`, "utf8");
  // Fields after "(comm)" start at field 3 (state); utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}

// ── Prometheus text ─────────────────────────────────────────────────────────────

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

/** after − before, per sample of `name`, summed by the value of `label`. */
export function deltaBy(before: MetricSample[], after: MetricSample[], name: string, label: (labels: Record<string, string>) => string): Map<string, number> {
  const out = new Map<string, number>();
  const add = (samples: MetricSample[], sign: number): void => {
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
export function histogramMean(before: MetricSample[], after: MetricSample[], name: string, match: (labels: Record<string, string>) => boolean): number {
  const total = (suffix: string): number => {
    let n = 0;
    for (const s of after) if (s.name === `${name}${suffix}` && match(s.labels)) n += s.value;
    for (const s of before) if (s.name === `${name}${suffix}` && match(s.labels)) n -= s.value;
    return n;
  };
  return total("_sum") / total("_count");
}

export const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** The manager's API-server requests between two scrapes: by method, by method+code, writes and reads. */
export function apiRequests(before: MetricSample[], after: MetricSample[]): { byMethod: Map<string, number>; byCode: Map<string, number>; writes: number; reads: number } {
  const byMethod = deltaBy(before, after, "rest_client_requests_total", (l) => l.method ?? "?");
  const byCode = deltaBy(before, after, "rest_client_requests_total", (l) => `${l.method ?? "?"} ${l.code ?? "?"}`);
  let writes = 0;
  let reads = 0;
  for (const [method, n] of byMethod) {
    if (WRITE_METHODS.has(method)) writes += n;
    else reads += n;
  }
  return { byMethod, byCode, writes, reads };
}

// ── The simulator's request log ─────────────────────────────────────────────────

export interface MaasCall {
  timeMs: number;
  method: string;
  /** e.g. "POST machines/ op=allocate", "POST machines/{id}/ op=deploy", "GET machines/". */
  call: string;
  systemId: string | undefined;
  status: number | null;
  /** How many machines a batched `GET machines/?id=…` asked for. */
  ids: number;
  /** Which: the system IDs of a batched read. */
  idList: readonly string[];
}

export class SimLogRecorder {
  readonly calls: MaasCall[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly sim: RunningSimulator) {
    this.sim.clearRequestLog();
    this.timer = setInterval(() => this.drain(), 200);
  }

  /** Moves the log's entries here; returns how many calls are recorded in all. */
  mark(): number {
    this.drain();
    return this.calls.length;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private drain(): void {
    // list() and clear() run in one turn of the event loop: no entry comes between them.
    const entries = this.sim.requestLog();
    this.sim.clearRequestLog();
    for (const e of entries) {
      const sub = e.path.replace(/^\/MAAS\/api\/2\.0\//, "");
      const machine = /^machines\/([^/]+)\//.exec(sub);
      const route = machine === null ? sub : sub.replace(/^machines\/[^/]+\//, "machines/{id}/");
      const id = e.params.id;
      this.calls.push({
        timeMs: Date.parse(e.time),
        method: e.method,
        call: `${e.method} ${route}${e.op === null ? "" : ` op=${e.op}`}`,
        systemId: machine?.[1],
        status: e.status,
        ids: id === undefined ? 0 : Array.isArray(id) ? id.length : 1,
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
    entry.ids += c.ids;
    if (c.status === null || c.status < 200 || c.status > 299) {
      const code = c.status === null ? "none" : String(c.status);
      entry.failed.set(code, (entry.failed.get(code) ?? 0) + 1);
    }
    out.set(c.call, entry);
  }
  return out;
}

// ── Figures ─────────────────────────────────────────────────────────────────────

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

export function spread(values: readonly number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const f = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
  return `p50 ${f(percentile(sorted, 50))}, p90 ${f(percentile(sorted, 90))}, p99 ${f(percentile(sorted, 99))}, max ${f(sorted.at(-1) ?? Number.NaN)} (n=${String(sorted.length)})`;
}

export function perMachine(n: number, machines: number): string {
  return (n / machines).toFixed(2);
}

export function listCounts(counts: Map<string, number>, machines?: number): string {
  const parts = [...counts].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${machines === undefined ? String(v) : perMachine(v, machines)}`);
  return parts.length === 0 ? "none" : parts.join(", ");
}
