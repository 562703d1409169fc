// The real clusterctl (the one hack/testenv/build.sh builds) run in a sandbox: a private
// HOME and XDG_CONFIG_HOME in a temp dir, a config file of its own, the version check
// off, and proxies pointing at a closed port, so clusterctl never reads or writes the
// user's configuration and any attempt to reach the network fails the test instead of
// hanging it. Nothing of the caller's environment leaks in: a developer's exported
// WORKER_MACHINE_COUNT must not change what a test sees.
import { spawn } from "node:child_process";
import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { repoRoot } from "../../testenv/binaries.ts";
import { disownDir, ownDir } from "../../testenv/children.ts";
import { locateBinaries } from "../../testenv/index.ts";

export const templatesDir = join(repoRoot, "templates");

/** The flavors as docs/clusterctl.md names them, and their files. */
export const FLAVOR_FILES = {
  disk: "cluster-template.yaml",
  ephemeral: "cluster-template-ephemeral.yaml",
  hybrid: "cluster-template-hybrid.yaml",
  endpoint: "cluster-template-endpoint.yaml",
  topology: "cluster-template-topology.yaml",
} as const;
export type Flavor = keyof typeof FLAVOR_FILES;
export const FLAVORS = Object.keys(FLAVOR_FILES) as Flavor[];

/** The export list of the ephemeral deployment feature's "Usage with clusterctl", as written there (docs/clusterctl.md repeats it). */
export const SPEC_EXPORTS = `export MAAS_ENDPOINT="http://your-maas-server:5240/MAAS"
export MAAS_API_KEY="your-api-key"
export CLUSTER_NAME="ephemeral-cluster"
export NAMESPACE="default"
export KUBERNETES_VERSION="v1.28.0"
export CONTROL_PLANE_MACHINE_COUNT=1
export WORKER_MACHINE_COUNT=2
export DNS_DOMAIN="example.com"
export CONTROL_PLANE_MACHINE_MINCPU=2
export CONTROL_PLANE_MACHINE_MINMEMORY=4096
export CONTROL_PLANE_MACHINE_IMAGE="ubuntu/focal"
export CONTROL_PLANE_MACHINE_RESOURCEPOOL="default"
export CONTROL_PLANE_MACHINE_TAG="control-plane"
export WORKER_MACHINE_MINCPU=2
export WORKER_MACHINE_MINMEMORY=4096
export WORKER_MACHINE_IMAGE="ubuntu/focal"
export WORKER_MACHINE_RESOURCEPOOL="default"
export WORKER_MACHINE_TAG="worker"`;

/** Its generate command, as written there. */
export const SPEC_COMMAND = `clusterctl generate cluster $CLUSTER_NAME \\
  --from templates/cluster-template-ephemeral.yaml \\
  --target-namespace $NAMESPACE > ephemeral-cluster.yaml`;

/** SPEC_EXPORTS as variables, for running clusterctl without a shell. */
export const SPEC_VARIABLES: Readonly<Record<string, string>> = Object.fromEntries(
  SPEC_EXPORTS.split("\n").map((line) => {
    const match = /^export ([A-Z_]+)=("?)(.*)\2$/.exec(line);
    if (match === null) throw new Error(`not an export line: ${line}`);
    return [match[1] ?? "", match[3] ?? ""];
  }),
);

export interface RunResult {
  stdout: string;
  stderr: string;
  /** Exit code; null when the process died of a signal (e.g. the timeout). */
  code: number | null;
}

export interface RunOptions {
  /** Template variables and anything else the command should see, on top of the sandbox's. */
  env?: Record<string, string>;
  /** Default: the sandbox directory. */
  cwd?: string;
  timeoutMs?: number;
}

/** A KubeObject as the tests read generated YAML: only what they look at is typed. */
export interface GeneratedObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
}

export class ClusterctlSandbox {
  private constructor(
    readonly dir: string,
    readonly clusterctl: string,
    readonly binDir: string,
    readonly configPath: string,
  ) {}

  /** A fresh sandbox with an empty clusterctl config and `templates` linked to the repository's. */
  static async create(config = "{}\n"): Promise<ClusterctlSandbox> {
    const binaries = await locateBinaries();
    if (binaries.capi === undefined) throw new Error("clusterctl is not built: run `make testenv` (hack/testenv/build.sh all)");
    const dir = await mkdtemp(join(tmpdir(), "clusterctl-"));
    ownDir(dir);
    const configPath = join(dir, "clusterctl.yaml");
    await writeFile(configPath, config);
    // The spec's command names templates/ relative to the working directory.
    await symlink(templatesDir, join(dir, "templates"));
    return new ClusterctlSandbox(dir, binaries.capi.clusterctl, binaries.binDir, configPath);
  }

  /** The whole environment a command gets: nothing is inherited from the test process. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      PATH: `${this.binDir}:/usr/bin:/bin`,
      HOME: this.dir,
      XDG_CONFIG_HOME: join(this.dir, ".config"),
      CLUSTERCTL_DISABLE_VERSIONCHECK: "true",
      HTTP_PROXY: "http://127.0.0.1:9",
      HTTPS_PROXY: "http://127.0.0.1:9",
      ...extra,
    };
  }

  /** `clusterctl <args> --config <sandbox config>`. */
  clusterctlRun(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    return run(this.clusterctl, [...args, "--config", this.configPath], { ...options, env: this.env(options.env), cwd: options.cwd ?? this.dir });
  }

  /** `generate cluster NAME --from templates/<flavor file> --target-namespace NS` with the given variables. */
  generate(flavor: Flavor, variables: Record<string, string>, options: { name?: string; namespace?: string; extraArgs?: readonly string[] } = {}): Promise<RunResult> {
    return this.clusterctlRun([
      "generate", "cluster", options.name ?? "c1",
      "--from", join(templatesDir, FLAVOR_FILES[flavor]),
      "--target-namespace", options.namespace ?? "default",
      ...(options.extraArgs ?? []),
    ], { env: variables });
  }

  /** A bash script run in the sandbox with its environment (clusterctl on PATH). */
  bash(script: string, options: RunOptions = {}): Promise<RunResult> {
    return run("/bin/bash", ["-c", script], { ...options, env: this.env(options.env), cwd: options.cwd ?? this.dir });
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
    disownDir(this.dir);
  }
}

function run(command: string, args: readonly string[], options: RunOptions & { env: Record<string, string>; cwd: string }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    // spawn's timeout sends the signal to this child's pid only.
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"], timeout: options.timeoutMs ?? 60_000, killSignal: "SIGKILL" });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.once("error", reject);
    child.once("close", (code) => {
      resolve({ stdout: Buffer.concat(stdout).toString("utf8"), stderr: Buffer.concat(stderr).toString("utf8"), code });
    });
  });
}

/** Every document of a multi-document YAML stream; fails on a YAML error. */
export function parseObjects(text: string): GeneratedObject[] {
  const objects: GeneratedObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`invalid YAML: ${doc.errors[0]?.message ?? ""}`);
    const value = doc.toJS() as GeneratedObject | null;
    if (value !== null) objects.push(value);
  }
  return objects;
}

/** The one object of this kind and name; fails naming what was there instead. */
export function findObject(objects: readonly GeneratedObject[], kind: string, name?: string): GeneratedObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) {
    throw new Error(`expected one ${kind}${name === undefined ? "" : ` ${name}`}, found ${String(found.length)} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(", ")}`);
  }
  return found[0] as GeneratedObject;
}

/** Reads a nested field: at(obj, "spec", "template", "spec"). */
export function at(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

const WATCH_FILTER_LABEL = "cluster.x-k8s.io/watch-filter";

/**
 * Labels every object, and the Machines KCP and the MachineDeployment make, with the
 * test's watch filter (the managers here see only those); writes the rollout strategies
 * Cluster API's defaulting webhooks would (they are not registered with the test control
 * plane); names the zones with machines as the MaasCluster's failure domains.
 */
export function forTestbed(objects: GeneratedObject[], filter: string): GeneratedObject[] {
  return objects.map((object) => {
    const copy = structuredClone(object);
    copy.metadata.labels = { ...copy.metadata.labels, [WATCH_FILTER_LABEL]: filter };
    const templateMeta = (holder: unknown): void => {
      const record = holder as { metadata?: { labels?: Record<string, string> } };
      record.metadata = { ...record.metadata, labels: { ...record.metadata?.labels, [WATCH_FILTER_LABEL]: filter } };
    };
    const rollingUpdate = (spec: unknown, rolling: Record<string, number>): void => {
      (spec as Record<string, unknown>).rollout = { strategy: { type: "RollingUpdate", rollingUpdate: rolling } };
    };
    if (copy.kind === "MaasCluster") (copy.spec as Record<string, unknown>).failureDomains = ["zone-a", "zone-b"];
    if (copy.kind === "KubeadmControlPlane") {
      templateMeta(at(copy, "spec", "machineTemplate"));
      rollingUpdate(copy.spec, { maxSurge: 1 });
    }
    if (copy.kind === "MachineDeployment") {
      templateMeta(at(copy, "spec", "template"));
      rollingUpdate(copy.spec, { maxSurge: 1, maxUnavailable: 0 });
    }
    return copy;
  });
}
