// What the release tests share: running this repository's hack/ scripts and the built
// clusterctl as child processes (awaited, with a timeout, so none outlives a test),
// a release rendered into a temporary folder, and YAML streams as plain objects.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { repoRoot } from "../../testenv/binaries.ts";

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** Runs a program to its end; a non-zero exit is a result, not a throw. */
export function run(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      [...args],
      { cwd: options.cwd ?? repoRoot, env: options.env ?? process.env, timeout: options.timeoutMs ?? 120_000, killSignal: "SIGKILL", maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err !== null && typeof err.code !== "number") {
          reject(err);
          return;
        }
        resolve({ code: err === null ? 0 : (err.code as number), stdout, stderr });
      },
    );
  });
}

/** `node --import tsx hack/<script>.ts …` in the repository. */
export function runHackScript(script: string, args: readonly string[]): Promise<ProcessResult> {
  return run(process.execPath, ["--import", "tsx", join(repoRoot, "hack", script), ...args]);
}

export async function packageVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8")) as { version: string };
  return `v${pkg.version}`;
}

/**
 * The repository's metadata.yaml when it exists; else a stand-in in `dir` mapping this
 * version's minor series to the v1beta2 contract (what clusterctl v1.14 installs).
 */
export async function metadataFor(dir: string): Promise<{ path: string; temporary: boolean }> {
  const real = join(repoRoot, "metadata.yaml");
  if (existsSync(real)) return { path: real, temporary: false };
  const [major, minor] = (await packageVersion()).slice(1).split(".");
  const path = join(dir, "metadata.yaml");
  await writeFile(
    path,
    `apiVersion: clusterctl.cluster.x-k8s.io/v1alpha3\nkind: Metadata\nreleaseSeries:\n  - major: ${major ?? "0"}\n    minor: ${minor ?? "0"}\n    contract: v1beta2\n`,
  );
  return { path, temporary: true };
}

export function parseObjects(text: string, source: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors[0]?.message ?? "invalid YAML"}`);
    const obj = doc.toJS() as K8sObject | null;
    if (obj !== null) objects.push(obj);
  }
  return objects;
}

export function byKind(objects: readonly K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

export function onlyOne(objects: readonly K8sObject[], kind: string): K8sObject {
  const found = byKind(objects, kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${String(found.length)}`);
  return found[0] as K8sObject;
}

/** clusterctl's variable substitution for the variables our components use (no defaults among them). */
export function substitute(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(/\$\{([A-Z0-9_]+)\}/g, (whole, name: string) => values[name] ?? whole);
}
