// What the provider benchmarks share: their settings from the environment (a bad
// value stops the run with the variable's name and what it takes), progress lines,
// the compiled manager kept up to date, the commit measured, and the machine's load.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { MAAS_MACHINE } from "../src/api/v1beta1/index.ts";
import { CAPI_CLUSTER, CAPI_MACHINE, SECRET } from "../src/capi/index.ts";
import { KubeClient, KubeTransport } from "../src/runtime/index.ts";
import { repoRoot } from "../test/testenv/binaries.ts";
import type { TestEnv } from "../test/testenv/index.ts";
import { NAMESPACE_KIND } from "../test/integration/controllers/provider-harness.ts";
import { MANAGER_ENTRY } from "./provider-manager.ts";
import { EVENT } from "./provider-objects.ts";

export class BenchConfigError extends Error {}

/** A comma-separated list of numbers from `min` to `max` (whole numbers when `integer`). */
export function numberList(name: string, fallback: string, options: { min: number; max: number; integer: boolean }): number[] {
  const text = process.env[name] ?? fallback;
  const values = text.split(",").map((part) => part.trim().replaceAll("_", ""));
  const numbers = values.map(Number);
  const bad = values.find((v, i) => v === "" || !Number.isFinite(numbers[i]) || (options.integer && !Number.isInteger(numbers[i])) || (numbers[i] ?? 0) < options.min || (numbers[i] ?? 0) > options.max);
  if (bad !== undefined) {
    const what = options.integer ? "whole numbers" : "numbers";
    throw new BenchConfigError(`${name}=${JSON.stringify(text)}: ${JSON.stringify(bad)} is not allowed; give ${what} from ${String(options.min)} to ${String(options.max)}, comma-separated (e.g. ${name}=${fallback})`);
  }
  return numbers;
}

/** One number from `min` to `max`. */
export function numberSetting(name: string, fallback: number, options: { min: number; max: number; integer: boolean }): number {
  const values = numberList(name, String(fallback), options);
  if (values.length !== 1) throw new BenchConfigError(`${name}=${JSON.stringify(process.env[name])}: give one number from ${String(options.min)} to ${String(options.max)}`);
  return values[0] ?? fallback;
}

/** BENCH_QUICK=1 (or true) shrinks every default to a run of a few minutes. */
export function quickMode(): boolean {
  const text = process.env.BENCH_QUICK ?? "";
  if (text === "" || text === "0" || text === "false") return false;
  if (text === "1" || text === "true") return true;
  throw new BenchConfigError(`BENCH_QUICK=${JSON.stringify(text)}: give 1 (quick run) or 0`);
}

export function progress(tag: string, line: string): void {
  process.stderr.write(`[${tag}] ${new Date().toISOString().slice(11, 19)} ${line}\n`);
}

/** dist/ as `make build` leaves it; compiled here when missing or older than a source file. */
export function ensureBuilt(tag: string): void {
  const newest = (dir: string): number =>
    Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)));
  let built = 0;
  try {
    built = statSync(MANAGER_ENTRY).mtimeMs;
  } catch {
    // not built yet
  }
  if (built >= newest(join(repoRoot, "src"))) return;
  progress(tag, "compiling dist/ (npx tsc -p tsconfig.build.json)");
  const result = spawnSync(join(repoRoot, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.build.json"], { cwd: repoRoot, stdio: "inherit" });
  if (result.status !== 0) throw new Error("tsc -p tsconfig.build.json failed");
}

/** The commit measured, and whether src/ differs from it. */
export function commitMeasured(): string {
  const git = (...args: string[]): string | undefined => {
    const result = spawnSync("git", args, { cwd: repoRoot, encoding: "utf8" });
    return result.status === 0 ? result.stdout.trim() : undefined;
  };
  const head = git("rev-parse", "--short=12", "HEAD");
  if (head === undefined) return "not a git checkout";
  return git("status", "--porcelain", "--", "src") === "" ? head : `${head} with uncommitted changes in src/`;
}

/** Cores, memory and the 1-minute load: other work on the machine moves every figure. */
export function machineLine(): string {
  return `${String(cpus().length)} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, load ${loadavg()[0]?.toFixed(2) ?? "?"}`;
}

export function newClient(env: TestEnv, fieldManager: string): KubeClient {
  return new KubeClient({
    transport: new KubeTransport({ kubeConfig: env.kubeConfig() }),
    fieldManager,
    kinds: [MAAS_MACHINE, CAPI_CLUSTER, CAPI_MACHINE, SECRET, NAMESPACE_KIND, EVENT],
  });
}

/** The TCP port of a URL (the API server's, MAAS's), to tell the manager's sockets apart. */
export function portOf(url: string): number {
  const parsed = new URL(url);
  return Number(parsed.port || (parsed.protocol === "https:" ? 443 : 80));
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs the cleanups last-first, each even when an earlier one failed; reports failures. */
export async function runCleanups(tag: string, cleanups: Array<() => Promise<void> | void>): Promise<void> {
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (err) {
      progress(tag, `cleanup failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  cleanups.length = 0;
}
