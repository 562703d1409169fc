// The sandbox's live view: one line per MaasMachine (name, role, MAAS hostname and state,
// where it deploys, how far its boot got, its Node) and one for the Cluster's Available
// condition. On a terminal the block is redrawn in place with ANSI cursor moves;
// otherwise (a pipe, a log file, a test) only the lines that changed are printed, each
// with the time since the sandbox started, so a long run never floods its log.
import { effectiveEphemeral, type MaasMachine } from "../../src/api/v1beta1/index.ts";
import { MachineControlPlaneLabel } from "../../src/api/v1beta1/labels.ts";
import type { Cluster, Machine } from "../../src/capi/index.ts";
import type { BootState, MachineBootStatus } from "../../src/sim/boot/boot.ts";

/** What one poll sees: the example cluster's objects and the simulator's booted machines. */
export interface Observation {
  maasMachines: MaasMachine[];
  /** Cluster API Machines, for their Nodes (nodeRef). */
  machines: Machine[];
  /** Undefined before it exists, or with --no-cluster. */
  cluster: Cluster | undefined;
  boot: BootState | null;
}

export interface MachineRow {
  name: string;
  role: "control-plane" | "worker";
  /** The MAAS machine's hostname once allocated, else "-". */
  host: string;
  /** MAAS's status name, or Pending before a machine is allocated. */
  state: string;
  /** Where it deploys: memory ("ephemeral") or "disk"; MAAS's answer once it has one, else the spec. */
  target: "ephemeral" | "disk";
  /** The simulator's boot phase: "-" before, "init:etcd" / "join:discovery" (kubeadm and its step) while booting, then "booted", "failed", … */
  boot: string;
  /** The workload Node, once the Cluster API Machine has its nodeRef, else "-". */
  node: string;
}

export interface ClusterRow {
  name: string;
  /** The Available condition's status: True, False, Unknown, or "-" before there is one. */
  available: string;
  /** What it waits for: the condition's message on one line, cut short (its reason when there is none); "" once Available. */
  waitingFor: string;
}

export function bootCell(status: MachineBootStatus | undefined): string {
  if (status === undefined) return "-";
  if (status.phase !== "booting") return status.phase;
  return `${status.role === "init" ? "init" : "join"}:${status.step ?? "start"}`;
}

export function machineRow(m: MaasMachine, context: Pick<Observation, "machines" | "boot">): MachineRow {
  const reported = m.status?.deploymentTarget;
  const inMemory = reported === undefined ? effectiveEphemeral(m.spec) : reported === "memory";
  const systemId = m.spec.systemID;
  const boot = systemId === undefined ? undefined : context.boot?.machines.find((b) => b.systemId === systemId);
  const machine = context.machines.find((x) => x.spec.infrastructureRef?.name === m.metadata.name);
  return {
    name: m.metadata.name ?? "",
    role: m.metadata.labels?.[MachineControlPlaneLabel] !== undefined ? "control-plane" : "worker",
    host: m.status?.hostname ?? "-",
    state: m.status?.machineState ?? "Pending",
    target: inMemory ? "ephemeral" : "disk",
    boot: bootCell(boot),
    node: machine?.status?.nodeRef?.name ?? "-",
  };
}

const WAITING_FOR_WIDTH = 100;

export function clusterRow(cluster: Cluster): ClusterRow {
  const available = cluster.status?.conditions?.find((c) => c.type === "Available");
  const name = cluster.metadata.name ?? "";
  if (available === undefined) return { name, available: "-", waitingFor: "no Available condition yet" };
  if (available.status === "True") return { name, available: "True", waitingFor: "" };
  // Cluster API's message is a bullet list ("* WorkersAvailable:\n  * MachineDeployment …"): one line of it, its first items.
  const message = (available.message ?? "").split("\n").map((l) => l.replace(/^\s*\*\s*/, "").trim()).filter((l) => l !== "").join(" ");
  const text = message === "" ? (available.reason ?? "") : message;
  return { name, available: available.status, waitingFor: text.length > WAITING_FOR_WIDTH ? `${text.slice(0, WAITING_FOR_WIDTH - 1)}…` : text };
}

export function isAvailable(cluster: Cluster | undefined): boolean {
  return cluster?.status?.conditions?.some((c) => c.type === "Available" && c.status === "True") ?? false;
}

const HEADER: readonly string[] = ["MACHINE", "ROLE", "HOST", "STATE", "TARGET", "BOOT", "NODE"];

function cells(row: MachineRow): string[] {
  return [row.name, row.role, row.host, row.state, row.target, row.boot, row.node];
}

/** Column widths that fit the header and every row. */
function widths(rows: readonly MachineRow[]): number[] {
  return HEADER.map((h, i) => Math.max(h.length, ...rows.map((r) => cells(r)[i]?.length ?? 0)));
}

function line(values: readonly string[], w: readonly number[]): string {
  return values.map((v, i) => v.padEnd(w[i] ?? 0)).join("  ").trimEnd();
}

function clusterText(row: ClusterRow): string {
  return `${row.name}  Available=${row.available}${row.waitingFor === "" ? "" : `  ${row.waitingFor}`}`;
}

/** The whole table, for a terminal: header, one line per machine, the Cluster, a summary. */
export function renderTable(rows: readonly MachineRow[], cluster: ClusterRow | undefined, elapsedMs: number): string[] {
  const w = widths(rows);
  const count = (test: (r: MachineRow) => boolean): string => String(rows.filter(test).length);
  const summary = rows.length === 0
    ? `waiting for machines… (${seconds(elapsedMs)})`
    : `${count((r) => r.state === "Deployed")}/${String(rows.length)} Deployed, ${count((r) => r.boot === "booted")} booted, ${count((r) => r.node !== "-")} Nodes (${seconds(elapsedMs)}) — Ctrl-C to stop`;
  return [line(HEADER, w), ...rows.map((r) => line(cells(r), w)), ...(cluster === undefined ? [] : [`cluster ${clusterText(cluster)}`]), summary];
}

/** One line for a machine that changed, for output that is not a terminal. */
export function renderChange(row: MachineRow, elapsedMs: number): string {
  return `machine +${seconds(elapsedMs)}  ${cells(row).join("  ")}`;
}

/** One line for the Cluster when its Available condition changed, for output that is not a terminal. */
export function renderClusterChange(row: ClusterRow, elapsedMs: number): string {
  return `cluster +${seconds(elapsedMs)}  ${clusterText(row)}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

export interface LiveViewOptions {
  observe: () => Promise<Observation>;
  write: (text: string) => void;
  tty: boolean;
  startedAt: number;
  intervalMs?: number;
  now?: () => number;
}

/** Polls the sandbox and shows it until stop(). A failed read is skipped, not fatal: the next poll tries again. */
export class LiveView {
  private readonly last = new Map<string, string>();
  private lastCluster = "";
  private drawnLines = 0;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;

  constructor(private readonly options: LiveViewOptions) {}

  start(): void {
    const tick = (): void => {
      this.polling ??= this.poll().finally(() => {
        this.polling = undefined;
      });
    };
    tick();
    this.timer = setInterval(tick, this.options.intervalMs ?? 500);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.polling;
  }

  async poll(): Promise<void> {
    let seen: Observation;
    try {
      seen = await this.options.observe();
    } catch {
      return;
    }
    const rows = seen.maasMachines.map((m) => machineRow(m, seen)).sort((a, b) => (a.role === b.role ? a.name.localeCompare(b.name) : a.role === "control-plane" ? -1 : 1));
    const cluster = seen.cluster === undefined ? undefined : clusterRow(seen.cluster);
    const elapsed = (this.options.now ?? Date.now)() - this.options.startedAt;
    if (this.options.tty) this.redraw(rows, cluster, elapsed);
    else this.printChanges(rows, cluster, elapsed);
  }

  /** Lines that stay: on a terminal they replace the block, which the next poll draws again below them. */
  print(lines: readonly string[]): void {
    const text = lines.map((l) => `${l}\n`).join("");
    if (this.options.tty && this.drawnLines > 0) {
      this.options.write(`\x1b[${String(this.drawnLines)}A\x1b[J${text}`);
      this.drawnLines = 0;
    } else {
      this.options.write(text);
    }
  }

  private redraw(rows: readonly MachineRow[], cluster: ClusterRow | undefined, elapsedMs: number): void {
    const lines = renderTable(rows, cluster, elapsedMs);
    // Up over the block drawn last time, then each line cleared and rewritten.
    const up = this.drawnLines > 0 ? `\x1b[${String(this.drawnLines)}A` : "";
    const below = this.drawnLines > lines.length ? "\x1b[J" : "";
    this.options.write(`${up}${lines.map((l) => `\x1b[2K${l}\n`).join("")}${below}`);
    this.drawnLines = lines.length;
  }

  private printChanges(rows: readonly MachineRow[], cluster: ClusterRow | undefined, elapsedMs: number): void {
    const seen = new Set<string>();
    for (const row of rows) {
      seen.add(row.name);
      const key = cells(row).join("\u0000");
      if (this.last.get(row.name) === key) continue;
      this.last.set(row.name, key);
      this.options.write(`${renderChange(row, elapsedMs)}\n`);
    }
    for (const name of [...this.last.keys()]) {
      if (seen.has(name)) continue;
      this.last.delete(name);
      this.options.write(`machine +${seconds(elapsedMs)}  ${name}  gone\n`);
    }
    if (cluster !== undefined && clusterText(cluster) !== this.lastCluster) {
      this.lastCluster = clusterText(cluster);
      this.options.write(`${renderClusterChange(cluster, elapsedMs)}\n`);
    }
  }
}
