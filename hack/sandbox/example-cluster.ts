// The sandbox's example cluster: clusterctl generates it from the repository's flavor
// with the variables a user would export, and the testenv's kubectl applies it. Its
// machines boot in the simulator, so the cluster comes up for real: the control plane is
// reached at the flavor's MAAS DNS endpoint, <cluster>.<DNS_DOMAIN>:6443.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments, stringify } from "yaml";
import { repoRoot } from "../../test/testenv/binaries.ts";
import { MAAS_NAMES } from "./maas.ts";
import type { SandboxOptions } from "./options.ts";

const execFileAsync = promisify(execFile);

export interface ExampleClusterSpec {
  name: string;
  namespace: string;
  kubernetesVersion: string;
  maasEndpoint: string;
  maasApiKey: string;
}

type Doc = Record<string, unknown> & { kind?: string; metadata?: Record<string, unknown>; spec?: Record<string, unknown> };

/** The variables of /work/shared/spec/ephemeral-deployment.md, "Usage with clusterctl", as the sandbox sets them. */
export function clusterctlVariables(spec: ExampleClusterSpec, options: SandboxOptions): Record<string, string> {
  return {
    MAAS_ENDPOINT: spec.maasEndpoint,
    MAAS_API_KEY: spec.maasApiKey,
    CLUSTER_NAME: spec.name,
    NAMESPACE: spec.namespace,
    KUBERNETES_VERSION: spec.kubernetesVersion,
    CONTROL_PLANE_MACHINE_COUNT: String(options.controlPlaneCount),
    WORKER_MACHINE_COUNT: String(options.workerCount),
    DNS_DOMAIN: MAAS_NAMES.dnsDomain,
    CONTROL_PLANE_MACHINE_MINCPU: "2",
    CONTROL_PLANE_MACHINE_MINMEMORY: "4096",
    CONTROL_PLANE_MACHINE_IMAGE: MAAS_NAMES.image,
    CONTROL_PLANE_MACHINE_RESOURCEPOOL: MAAS_NAMES.pool,
    CONTROL_PLANE_MACHINE_TAG: MAAS_NAMES.controlPlaneTag,
    WORKER_MACHINE_MINCPU: "2",
    WORKER_MACHINE_MINMEMORY: "4096",
    WORKER_MACHINE_IMAGE: MAAS_NAMES.image,
    WORKER_MACHINE_RESOURCEPOOL: MAAS_NAMES.pool,
    WORKER_MACHINE_TAG: MAAS_NAMES.workerTag,
  };
}

export function templatePath(options: SandboxOptions): string {
  const path = isAbsolute(options.template) ? options.template : join(repoRoot, options.template);
  if (!existsSync(path)) throw new Error(`--template ${options.template}: no such file; pass --template FILE with a clusterctl flavor, or --no-cluster`);
  return path;
}

/** `clusterctl generate cluster` with a config and home of its own, so a user's ~/.cluster-api is neither read nor written. */
export async function generateCluster(options: {
  clusterctl: string;
  template: string;
  kubeconfigPath: string;
  dir: string;
  variables: Record<string, string>;
  spec: ExampleClusterSpec;
  sandbox: SandboxOptions;
}): Promise<string> {
  const home = join(options.dir, "clusterctl-home");
  await mkdir(home, { recursive: true });
  const config = join(home, "clusterctl.yaml");
  await writeFile(config, "# empty: every variable comes from the environment\n");
  const args = [
    "generate", "cluster", options.spec.name,
    "--from", options.template,
    "--target-namespace", options.spec.namespace,
    "--kubernetes-version", options.spec.kubernetesVersion,
    "--control-plane-machine-count", String(options.sandbox.controlPlaneCount),
    "--worker-machine-count", String(options.sandbox.workerCount),
    "--kubeconfig", options.kubeconfigPath,
    "--config", config,
  ];
  try {
    const { stdout } = await execFileAsync(options.clusterctl, args, {
      env: { ...process.env, ...options.variables, HOME: home, XDG_CONFIG_HOME: join(home, ".config"), CLUSTERCTL_DISABLE_VERSIONCHECK: "true" },
      maxBuffer: 16 * 1024 * 1024,
      timeout: 60_000,
    });
    return stdout;
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? String(err);
    throw new Error(`clusterctl generate cluster --from ${options.template} failed: ${stderr.trim()}`, { cause: err });
  }
}

/**
 * The generated documents with the rollout strategies Cluster API's own defaulting
 * webhooks would add: its webhooks are not registered in the sandbox, so nothing else
 * fills them in.
 */
export function prepareDocuments(generated: string): Doc[] {
  const docs: Doc[] = [];
  for (const parsed of parseAllDocuments(generated)) {
    if (parsed.errors.length > 0) throw new Error(`clusterctl output is not YAML: ${parsed.errors[0]?.message ?? ""}`);
    const doc = parsed.toJS() as Doc | null;
    if (doc === null) continue;
    // CAPI's MachineDeployment webhook default: RollingUpdate, one extra machine at a time, none taken away first.
    if (doc.kind === "MachineDeployment") defaultRollout(doc, { maxSurge: 1, maxUnavailable: 0 });
    // CAPI's KubeadmControlPlane webhook default: RollingUpdate with one extra machine.
    if (doc.kind === "KubeadmControlPlane") defaultRollout(doc, { maxSurge: 1 });
    docs.push(doc);
  }
  return docs;
}

function defaultRollout(doc: Doc, rollingUpdate: Record<string, number>): void {
  const spec = doc.spec ?? {};
  const rollout = (spec.rollout ?? {}) as Record<string, unknown>;
  if (rollout.strategy === undefined) spec.rollout = { ...rollout, strategy: { type: "RollingUpdate", rollingUpdate } };
  doc.spec = spec;
}

export function toYaml(docs: readonly Doc[]): string {
  return docs.map((d) => stringify(d)).join("---\n");
}
