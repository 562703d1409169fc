// Fault injection. Rules are checked in order against each MAAS API request;
// the first rule that matches and wins its probability draw fires. Draws come
// from a generator seeded per setFaults(), so the same seed and the same
// request sequence fire the same faults. Faults that stop a request
// (unavailable, reset, timeout) fire before any MAAS logic runs, so they never
// change state.
import { Prng } from "./prng.ts";
import type { FaultKind, FaultRule } from "./types.ts";

export class FaultRuleError extends Error {}

const KINDS: readonly FaultKind[] = ["latency", "unavailable", "reset", "timeout"];
const RULE_FIELDS = ["method", "path", "op", "kind", "latencyMs", "retryAfterSeconds", "probability", "times"];

/** Default hold for "timeout": an hour, i.e. longer than any client waits. */
export const DEFAULT_TIMEOUT_HOLD_MS = 3_600_000;

export interface FaultRuleStatus extends FaultRule {
  /** How often the rule has fired since it was set. */
  fired: number;
}

interface ActiveRule {
  rule: FaultRule;
  pathPattern: RegExp | null;
  fired: number;
}

export class FaultInjector {
  private active: ActiveRule[] = [];
  private prng: Prng;
  private seed: number;

  constructor(rules: FaultRule[], seed: number) {
    this.seed = seed;
    this.prng = new Prng(seed, "faults");
    this.set(rules, seed);
  }

  /** Replaces every rule and restarts the draws from `seed` (default: the last seed). */
  set(rules: FaultRule[], seed: number = this.seed): void {
    const checked = rules.map((r, i) => checkRule(r, `rules[${i}]`));
    this.active = checked.map((rule) => ({ rule, pathPattern: rule.path === undefined ? null : new RegExp(rule.path), fired: 0 }));
    this.seed = seed;
    this.prng = new Prng(seed, "faults");
  }

  clear(): void {
    this.set([]);
  }

  status(): { seed: number; rules: FaultRuleStatus[] } {
    return { seed: this.seed, rules: this.active.map((a) => ({ ...a.rule, fired: a.fired })) };
  }

  /** The rule that fires for this request, if any; counts it against `times`. */
  pick(method: string, subPath: string, op: string | null): FaultRule | null {
    for (const a of this.active) {
      const r = a.rule;
      if (r.times !== undefined && a.fired >= r.times) continue;
      if (r.method !== undefined && r.method.toUpperCase() !== method.toUpperCase()) continue;
      if (r.op !== undefined && r.op !== (op ?? "")) continue;
      if (a.pathPattern !== null && !a.pathPattern.test(subPath)) continue;
      const probability = r.probability ?? 1;
      // Every matching rule draws once, so outcomes depend only on the seed and the requests.
      const draw = this.prng.next();
      if (draw >= probability) continue;
      a.fired += 1;
      return r;
    }
    return null;
  }
}

/** Validates one rule; errors name the field and the fix. */
export function checkRule(raw: unknown, where = "rule"): FaultRule {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new FaultRuleError(`${where}: expected an object like {"kind": "unavailable"}`);
  const r = raw as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (!RULE_FIELDS.includes(key)) throw new FaultRuleError(`${where}: unknown field "${key}"; fields are ${RULE_FIELDS.join(", ")}`);
  }
  if (typeof r.kind !== "string" || !KINDS.includes(r.kind as FaultKind)) throw new FaultRuleError(`${where}.kind: write one of ${KINDS.join(", ")}`);
  for (const key of ["method", "path", "op"]) {
    if (r[key] !== undefined && typeof r[key] !== "string") throw new FaultRuleError(`${where}.${key}: write text`);
  }
  if (typeof r.path === "string") {
    try {
      new RegExp(r.path);
    } catch (error) {
      throw new FaultRuleError(`${where}.path: not a valid regular expression (${(error as Error).message})`);
    }
  }
  const nonNegative = (key: string, integer: boolean): void => {
    const v = r[key];
    if (v === undefined) return;
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v))) {
      throw new FaultRuleError(`${where}.${key}: write a ${integer ? "whole " : ""}number ≥ 0`);
    }
  };
  nonNegative("latencyMs", false);
  nonNegative("retryAfterSeconds", true);
  nonNegative("times", true);
  if (r.probability !== undefined && (typeof r.probability !== "number" || r.probability < 0 || r.probability > 1)) {
    throw new FaultRuleError(`${where}.probability: write a number from 0 to 1`);
  }
  return r as unknown as FaultRule;
}

/**
 * Parses a --fault flag: JSON (`{"kind":"reset","op":"deploy"}`) or
 * `key=value,key=value` (`kind=unavailable,op=allocate,times=2,retryAfterSeconds=1`).
 * A piece without "=" continues the previous value, so a path regex may hold commas.
 */
export function parseFaultSpec(spec: string): FaultRule {
  const text = spec.trim();
  if (text.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new FaultRuleError(`--fault ${spec}: not valid JSON (${(error as Error).message})`);
    }
    return checkRule(parsed, `--fault ${spec}`);
  }
  const fields: Record<string, string> = {};
  let last: string | null = null;
  for (const piece of text.split(",")) {
    const eq = piece.indexOf("=");
    const key = eq < 0 ? "" : piece.slice(0, eq).trim();
    if (/^[A-Za-z]\w*$/.test(key) && !RULE_FIELDS.includes(key)) {
      throw new FaultRuleError(`--fault ${spec}: unknown field "${key}"; fields are ${RULE_FIELDS.join(", ")}`);
    }
    if (eq < 0 || !RULE_FIELDS.includes(key)) {
      if (last === null) throw new FaultRuleError(`--fault ${spec}: expected key=value pairs such as kind=reset,op=deploy`);
      fields[last] += `,${piece}`;
      continue;
    }
    last = piece.slice(0, eq).trim();
    fields[last] = piece.slice(eq + 1);
  }
  const rule: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    rule[k] = ["latencyMs", "retryAfterSeconds", "probability", "times"].includes(k) ? Number(v) : v;
  }
  return checkRule(rule, `--fault ${spec}`);
}
