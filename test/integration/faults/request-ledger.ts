// What MAAS was asked to do, from the simulator's request log: successful allocations per
// MaasMachine (by the agent_name each carries) and successful releases per MAAS machine.
// The state says who holds what now; the log says how it got there, which is where an
// allocation made twice and then tidied up, or a release sent twice, shows.
import type { RequestLogEntry } from "../../../src/sim/types.ts";
import { parseAgentName } from "./maas-invariants.ts";

/** The log must hold every call since the simulator started (or since `afterSeq`), or counts from it would lie. */
export function completeLog(log: readonly RequestLogEntry[]): readonly RequestLogEntry[] {
  const first = log[0];
  if (first !== undefined && first.seq !== 1) {
    throw new Error(`the simulator's request log dropped its first ${String(first.seq - 1)} entries; the counts need all of them (run fewer machines)`);
  }
  return log;
}

/** Successful allocations for MaasMachines of `namespace`, by object (`name/uid`). */
export function allocationsByObject(log: readonly RequestLogEntry[], namespace: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const entry of completeLog(log)) {
    if (entry.op !== "allocate" || entry.status !== 200) continue;
    const claim = parseAgentName(String(entry.params.agent_name ?? ""));
    if (claim?.namespace !== namespace) continue;
    const key = `${claim.name}/${claim.uid}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** Successful release calls by system ID, for the machines in `systemIds`, after the entry `afterSeq` (default: all). */
export function releasesBySystemId(log: readonly RequestLogEntry[], systemIds: Iterable<string>, afterSeq = 0): Map<string, number> {
  const counts = new Map<string, number>([...systemIds].map((id) => [id, 0]));
  for (const entry of completeLog(log)) {
    if (entry.seq <= afterSeq || entry.op !== "release" || entry.status !== 200) continue;
    const systemId = /\/machines\/([^/]+)\/$/.exec(entry.path)?.[1];
    if (systemId !== undefined && counts.has(systemId)) counts.set(systemId, (counts.get(systemId) ?? 0) + 1);
  }
  return counts;
}

/** Entries of `counts` whose value is not `expected`, as "key: value" lines. */
export function notExactly(counts: ReadonlyMap<string, number>, expected: number): string[] {
  return [...counts].filter(([, n]) => n !== expected).map(([key, n]) => `${key}: ${String(n)}`);
}
