// The sandbox's live view: one line per MaasMachine (name, role, MAAS state, where it
// deploys, ready). On a terminal the block is redrawn in place with ANSI cursor moves;
// otherwise (a pipe, a log file, a test) only the lines that changed are printed, each
// with the time since the sandbox started, so a long run never floods its log.
import { effectiveEphemeral, type MaasMachine } from "../../src/api/v1beta1/index.ts";
import { MachineControlPlaneLabel } from "../../src/api/v1beta1/labels.ts";

export interface MachineRow {
  name: string;
  role: "control-plane" | "worker";
  /** MAAS's status name, or Pending before a machine is allocated. */
  state: string;
  /** Where it deploys: memory ("ephemeral") or "disk"; MAAS's answer once it has one, else the spec. */
  target: "ephemeral" | "disk";
  ready: boolean;
}

export function machineRow(m: MaasMachine): MachineRow {
  const reported = m.status?.deploymentTarget;
  const inMemory = reported === undefined ? effectiveEphemeral(m.spec) : reported === "memory";
  return {
    name: m.metadata.name ?? "",
    role: m.metadata.labels?.[MachineControlPlaneLabel] !== undefined ? "control-plane" : "worker",
    state: m.status?.machineState ?? "Pending",
    target: inMemory ? "ephemeral" : "disk",
    ready: m.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false,
  };
}

const HEADER: readonly string[] = ["MACHINE", "ROLE", "STATE", "TARGET", "READY"];

function cells(row: MachineRow): string[] {
  return [row.name, row.role, row.state, row.target, row.ready ? "ready" : "-"];
}

/** Column widths that fit the header and every row. */
function widths(rows: readonly MachineRow[]): number[] {
  return HEADER.map((h, i) => Math.max(h.length, ...rows.map((r) => cells(r)[i]?.length ?? 0)));
}

function line(values: readonly string[], w: readonly number[]): string {
  return values.map((v, i) => v.padEnd(w[i] ?? 0)).join("  ").trimEnd();
}

/** The whole table, for a terminal: header, one line per machine, a summary. */
export function renderTable(rows: readonly MachineRow[], elapsedMs: number): string[] {
  const w = widths(rows);
  const deployed = rows.filter((r) => r.state === "Deployed").length;
  const summary = rows.length === 0
    ? `waiting for machines… (${seconds(elapsedMs)})`
    : `${String(deployed)}/${String(rows.length)} Deployed, ${String(rows.filter((r) => r.ready).length)} ready (${seconds(elapsedMs)}) — Ctrl-C to stop`;
  return [line(HEADER, w), ...rows.map((r) => line(cells(r), w)), summary];
}

/** One line for a machine that changed, for output that is not a terminal. */
export function renderChange(row: MachineRow, elapsedMs: number): string {
  return `machine +${seconds(elapsedMs)}  ${cells(row).join("  ")}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

const key = (row: MachineRow): string => cells(row).join("\u0000");

export interface LiveViewOptions {
  list: () => Promise<MaasMachine[]>;
  write: (text: string) => void;
  tty: boolean;
  startedAt: number;
  intervalMs?: number;
  now?: () => number;
}

/** Polls the MaasMachines and shows them until stop(). A failed read is skipped, not fatal: the next poll tries again. */
export class LiveView {
  private readonly last = new Map<string, string>();
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
    let machines: MaasMachine[];
    try {
      machines = await this.options.list();
    } catch {
      return;
    }
    const rows = machines.map(machineRow).sort((a, b) => (a.role === b.role ? a.name.localeCompare(b.name) : a.role === "control-plane" ? -1 : 1));
    const elapsed = (this.options.now ?? Date.now)() - this.options.startedAt;
    if (this.options.tty) this.redraw(rows, elapsed);
    else this.printChanges(rows, elapsed);
  }

  private redraw(rows: readonly MachineRow[], elapsedMs: number): void {
    const lines = renderTable(rows, elapsedMs);
    // Up over the block drawn last time, then each line cleared and rewritten.
    const up = this.drawnLines > 0 ? `\x1b[${String(this.drawnLines)}A` : "";
    const below = this.drawnLines > lines.length ? "\x1b[J" : "";
    this.options.write(`${up}${lines.map((l) => `\x1b[2K${l}\n`).join("")}${below}`);
    this.drawnLines = lines.length;
  }

  private printChanges(rows: readonly MachineRow[], elapsedMs: number): void {
    const seen = new Set<string>();
    for (const row of rows) {
      seen.add(row.name);
      if (this.last.get(row.name) === key(row)) continue;
      this.last.set(row.name, key(row));
      this.options.write(`${renderChange(row, elapsedMs)}\n`);
    }
    for (const name of [...this.last.keys()]) {
      if (seen.has(name)) continue;
      this.last.delete(name);
      this.options.write(`machine +${seconds(elapsedMs)}  ${name}  gone\n`);
    }
  }
}
