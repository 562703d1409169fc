// The compiled manager as the provider benchmarks run it: `node dist/cmd/manager.js`
// as a child process (stopped by pid, on failure too), read from outside as an
// operator would: /metrics on the probe port, and /proc for its memory, CPU seconds
// and open descriptors (sockets by peer: the API server, MAAS, listening).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Child, disownDir, ownDir } from "../test/testenv/children.ts";
import { repoRoot } from "../test/testenv/binaries.ts";
import { freePorts } from "../test/testenv/ports.ts";
import { parseMetrics, type MetricSample } from "./provider-metrics.ts";

export const MANAGER_ENTRY = join(repoRoot, "dist", "cmd", "manager.js");

export interface ManagerProcess {
  readonly pid: number;
  readonly probePort: number;
  /** When the process was started (Date.now()). */
  readonly startedAt: number;
  scrape(): Promise<MetricSample[]>;
  /** Peak and current resident set size, MiB (VmHWM / VmRSS). */
  memory(): { peakMiB: number; rssMiB: number };
  /** User + system CPU seconds so far. */
  cpuSeconds(): number;
  descriptors(): Descriptors;
  logTail(lines: number): Promise<string>;
  /** Warnings and errors in its log (pino JSON lines), counted by level and message. */
  logSummary(): Promise<Map<string, number>>;
  /** SIGTERM (SIGKILL after 15 s); resolves once it is gone and its directory removed. */
  stop(): Promise<void>;
}

export interface StartManagerOptions {
  kubeconfigPath: string;
  maasEndpoint: string;
  maasApiKey: string;
  /** Flags beyond the defaults, e.g. `--sync-period=1m`. */
  extraArgs?: readonly string[];
  /** Peers whose sockets are counted apart: name → TCP port (the API server's, MAAS's). */
  peers?: Readonly<Record<string, number>>;
}

/**
 * The Node flags the manager runs with: the image's (the ENTRYPOINT of the Dockerfile, so
 * the bench measures what a cluster runs), or BENCH_MANAGER_NODE_FLAGS instead of them to
 * compare heap settings.
 */
export function managerNodeFlags(): string[] {
  const given = process.env.BENCH_MANAGER_NODE_FLAGS;
  if (given !== undefined) return given.split(" ").filter((f) => f !== "");
  const entrypoint = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(readFileSync(join(repoRoot, "Dockerfile"), "utf8"))?.[1];
  const argv = entrypoint === undefined ? [] : (JSON.parse(entrypoint) as string[]);
  if (argv[0] !== "node" || !argv.includes("dist/cmd/manager.js")) throw new Error(`Dockerfile: expected ENTRYPOINT ["node", <flags…>, "dist/cmd/manager.js"], got ${entrypoint ?? "none"}`);
  return argv.slice(1, argv.indexOf("dist/cmd/manager.js"));
}

/** Starts the manager with its default flags plus the ones a local run needs; resolves once /readyz is 200. */
export async function startManager(options: StartManagerOptions): Promise<ManagerProcess> {
  if (!existsSync(MANAGER_ENTRY)) throw new Error(`${MANAGER_ENTRY} is missing: run make build`);
  const dir = await mkdtemp(join(tmpdir(), "capmaas-bench-"));
  // Removed by the last-resort cleanup too, should this process end on a signal.
  ownDir(dir);
  const [probePort = 0] = await freePorts(1);
  const logPath = join(dir, "manager.log");
  const startedAt = Date.now();
  const child = new Child({
    name: "capmaas-manager",
    command: process.execPath,
    args: [
      ...managerNodeFlags(),
      MANAGER_ENTRY,
      `--kubeconfig=${options.kubeconfigPath}`,
      `--health-probe-bind-address=127.0.0.1:${String(probePort)}`,
      "--metrics-bind-address=0",
      // No serving certificate here; without this the default directory's absence is logged as a warning.
      "--webhook-port=0",
      ...(options.extraArgs ?? []),
    ],
    logPath,
    env: { MAAS_ENDPOINT: options.maasEndpoint, MAAS_API_KEY: options.maasApiKey, LOG_LEVEL: "warn" },
  });
  let stopped: Promise<void> | undefined;
  const manager: ManagerProcess = {
    pid: child.pid,
    probePort,
    startedAt,
    scrape: async () => parseMetrics(await getText(probePort, "/metrics")),
    memory: () => procMemory(child.pid),
    cpuSeconds: () => procCpuSeconds(child.pid),
    descriptors: () => procDescriptors(child.pid, options.peers ?? {}),
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
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.hasExited) {
      const tail = await manager.logTail(20);
      await manager.stop();
      throw new Error(`capmaas-manager exited during start:\n${tail}`);
    }
    const ready = await getText(probePort, "/readyz").then(() => true, () => false);
    if (ready) return manager;
    if (Date.now() > deadline) {
      await manager.stop();
      throw new Error(`capmaas-manager /readyz on ${String(probePort)} not 200 after 120 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * One GET on a fresh connection that is closed afterwards: a pooled keep-alive
 * connection would sit among the manager's descriptors and blur their count.
 */
function getText(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path, agent: false, headers: { Connection: "close" }, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        if (res.statusCode === 200) resolve(Buffer.concat(chunks).toString("utf8"));
        else reject(new Error(`GET ${path}: HTTP ${String(res.statusCode)}`));
      });
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${path}: no answer in 30 s`)));
    req.on("error", reject);
  });
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

// ── /proc ───────────────────────────────────────────────────────────────────────

export function procMemory(pid: number): { peakMiB: number; rssMiB: number } {
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

/** Open descriptors of a process: all, sockets, and sockets by what they are (a named peer, listening, other TCP, not TCP). */
export interface Descriptors {
  total: number;
  sockets: number;
  socketsBy: Map<string, number>;
}

export function procDescriptors(pid: number, peers: Readonly<Record<string, number>>): Descriptors {
  const dir = `/proc/${String(pid)}/fd`;
  const inodes: string[] = [];
  let total = 0;
  for (const fd of readdirSync(dir)) {
    let target: string;
    try {
      target = readlinkSync(join(dir, fd));
    } catch {
      continue; // closed between the listing and the read
    }
    total += 1;
    const socket = /^socket:\[(\d+)\]$/.exec(target);
    if (socket !== null) inodes.push(socket[1] ?? "");
  }
  const tcp = tcpSockets(pid);
  const byPort = new Map(Object.entries(peers).map(([name, port]) => [port, name]));
  const socketsBy = new Map<string, number>();
  for (const inode of inodes) {
    const entry = tcp.get(inode);
    const kind = entry === undefined ? "not TCP" : entry.listening ? "listening" : (byPort.get(entry.remotePort) ?? "other TCP");
    socketsBy.set(kind, (socketsBy.get(kind) ?? 0) + 1);
  }
  return { total, sockets: inodes.length, socketsBy };
}

/** The TCP sockets of the process's network namespace, by inode (/proc/<pid>/net/tcp and tcp6). */
function tcpSockets(pid: number): Map<string, { remotePort: number; listening: boolean }> {
  const out = new Map<string, { remotePort: number; listening: boolean }>();
  for (const table of ["tcp", "tcp6"]) {
    let text: string;
    try {
      text = readFileSync(`/proc/${String(pid)}/net/${table}`, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      const remote = fields[2] ?? "";
      out.set(fields[9] ?? "", { remotePort: parseInt(remote.slice(remote.lastIndexOf(":") + 1), 16), listening: fields[3] === "0A" });
    }
  }
  return out;
}
