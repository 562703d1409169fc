// The provider benchmark's output: sections of named figures, the formatting of MAAS
// calls and observed writes, and the comparison with the targets and with the other
// MAAS provider as measured on the same machine against the same simulator.
import { callsByKind, WRITE_METHODS, type MaasCall } from "./provider-measure.ts";

type Rows = Array<[string, string]>;
const sections: Array<{ title: string; rows: Rows }> = [];
export function section(title: string): Rows {
  const rows: Rows = [];
  sections.push({ title, rows });
  return rows;
}

export function maasCalls(calls: readonly MaasCall[], machines: number | undefined, perMinuteOver?: number): string {
  const kinds = callsByKind(calls);
  if (kinds.size === 0) return "none";
  return [...kinds]
    .sort((a, b) => b[1].count - a[1].count)
    .map(([call, k]) => {
      const n = perMinuteOver !== undefined ? (k.count / perMinuteOver) * 60_000 : machines === undefined ? k.count : k.count / machines;
      const value = Number.isInteger(n) ? String(n) : n.toFixed(2);
      const batch = call === "GET machines/" && k.count > 0 ? ` (${String(k.count)} reads, ${(k.ids / k.count).toFixed(0)} ids each)` : "";
      return `${call} ${value}${batch}${k.failed.size > 0 ? ` [failed: ${[...k.failed].map(([code, n]) => `${String(n)}× ${code}`).join(", ")}]` : ""}`;
    })
    .join(", ");
}

/** The sequences of writes machines went through, most common first. */
export function writeSequences(writes: ReadonlyArray<{ name: string; label: string }>): string {
  const byMachine = new Map<string, string[]>();
  for (const w of writes) byMachine.set(w.name, [...(byMachine.get(w.name) ?? []), w.label]);
  const counts = new Map<string, number>();
  for (const seq of byMachine.values()) counts.set(seq.join(" → "), (counts.get(seq.join(" → ")) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([seq, n]) => `${String(n)}× ${seq}`).join("; ");
}

export function countLabels(writes: ReadonlyArray<{ label: string }>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const w of writes) counts.set(w.label, (counts.get(w.label) ?? 0) + 1);
  return counts;
}

export function sumMap(m: Map<string, number>): number {
  return [...m.values()].reduce((a, b) => a + b, 0);
}

export function subtract(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of after) if (v - (before.get(k) ?? 0) !== 0) out.set(k, v - (before.get(k) ?? 0));
  return out;
}

export interface Figures {
  createMs: number;
  createRate: number;
  deleteRate: number;
  maasPerMachine: number;
  writesPerMachine: number;
  eventWritesPerMachine: number;
  readyLatencyMaxMs: number;
  readyLatencyP99Ms: number;
  peakRssMiB: number;
  restWritesPerMin: number;
}

export function sumEvents(e: { created: Map<string, number>; updated: Map<string, number> }): Map<string, number> {
  return new Map([["created", sumMap(e.created)], ["updated", sumMap(e.updated)]]);
}

export function filterWrites(byMethod: Map<string, number>): Map<string, number> {
  return new Map([...byMethod].filter(([m]) => WRITE_METHODS.has(m)));
}

export function filterReads(byMethod: Map<string, number>): Map<string, number> {
  return new Map([...byMethod].filter(([m]) => !WRITE_METHODS.has(m)));
}

function verdict(ok: boolean): string {
  return ok ? "met" : "MISSED";
}

export function printTargets(ours: Figures, floorMs: number | undefined): void {
  const rows = section("against the targets");
  const ratio = floorMs === undefined ? Number.NaN : ours.createMs / floorMs;
  rows.push(
    ["create → Ready ≥ 42–78 machines/s (3× the Go provider)", `${ours.createRate.toFixed(1)}/s: ${ours.createRate >= 78 ? "met" : ours.createRate >= 42 ? "met against its slowest run only" : "MISSED"}`],
    ["delete → gone ≥ 100–200 machines/s (3× its 33–67/s)", `${ours.deleteRate.toFixed(1)}/s: ${ours.deleteRate >= 200 ? "met" : ours.deleteRate >= 100 ? "met against its slowest run only" : "MISSED"}`],
    ["create → Ready wall ≤ 1.3× the floor", `${ratio.toFixed(2)}×: ${verdict(ratio <= 1.3)}`],
    ["MAAS calls per machine ≤ 4", `${ours.maasPerMachine.toFixed(2)}: ${verdict(ours.maasPerMachine <= 4)}`],
    ["API writes per machine ≤ 3 (beyond the creates)", `${ours.writesPerMachine.toFixed(2)} (${(ours.writesPerMachine - ours.eventWritesPerMachine).toFixed(2)} without Events): ${verdict(ours.writesPerMachine <= 3)}`],
    ["Ready ≤ 1 s after Deployed (every machine)", `p99 ${ours.readyLatencyP99Ms.toFixed(0)} ms, max ${ours.readyLatencyMaxMs.toFixed(0)} ms: ${verdict(ours.readyLatencyMaxMs <= 1000)}`],
    ["API writes at rest: 0", `${ours.restWritesPerMin.toFixed(1)}/min: ${verdict(ours.restWritesPerMin === 0)}`],
    ["manager peak RSS ≤ 160–190 MiB (1.5× the Go provider)", `${ours.peakRssMiB.toFixed(0)} MiB: ${ours.peakRssMiB <= 160 ? "met" : ours.peakRssMiB <= 190 ? "met against its largest run only" : "MISSED"}`],
  );
  section("reference: the other MAAS provider (Go), this machine, this simulator").push(
    ["200 machines create → Ready", "9–19 s (14–26 machines/s)"],
    ["MAAS calls per machine", "9–10"],
    ["RSS", "107–127 MiB"],
    ["200 deletes", "3–6 s (33–67 machines/s)"],
  );
}

/** Prints every section, names padded into one column. */
export function printSections(): void {
  for (const { title, rows } of sections) {
    console.log(`\n${title}`);
    for (const [name, value] of rows) console.log(`  ${name.padEnd(56)} ${value}`);
  }
}
