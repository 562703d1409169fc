// The real Cluster API managers (core, kubeadm bootstrap, kubeadm control plane) that
// `make testenv` builds, run against a test control plane. Their admission webhooks
// are served with a throwaway certificate but not registered with the API server, so
// objects are written as given; each manager is a child tied to this process and
// stopped by pid.
import { mkdtemp, copyFile, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { locateBinaries } from "./binaries.ts";
import { writeControlPlaneSecrets } from "./certs.ts";
import { Child, disownDir, ownDir } from "./children.ts";
import { freePorts } from "./ports.ts";

export type CapiManagerName = "core" | "kubeadm-bootstrap" | "kubeadm-control-plane";

export interface StartCapiManagersOptions {
  kubeconfigPath: string;
  managers: readonly CapiManagerName[];
  /** e.g. ["ClusterTopology=true"] for the core manager. */
  featureGates?: readonly string[];
  /** Added to every manager's environment, e.g. HTTPS_PROXY to reach workload clusters by their MAAS DNS names. */
  env?: Record<string, string>;
  /** Extra flags per manager, e.g. a shorter --sync-period. */
  extraArgs?: Partial<Record<CapiManagerName, readonly string[]>>;
}

export interface CapiManagers {
  /** The output of one manager so far (for diagnosing a failed test). */
  log(name: CapiManagerName): Promise<string>;
  stop(): Promise<void>;
}

export async function startCapiManagers(options: StartCapiManagersOptions): Promise<CapiManagers> {
  const binaries = await locateBinaries();
  const capi = binaries.capi;
  if (capi === undefined) throw new Error("the Cluster API managers are not built: run `make testenv` (hack/testenv/build.sh all)");
  const dir = await mkdtemp(join(tmpdir(), "capi-managers-"));
  ownDir(dir);
  const certs = await writeControlPlaneSecrets(dir);
  await copyFile(certs.servingCertPath, join(dir, "tls.crt"));
  await copyFile(certs.servingKeyPath, join(dir, "tls.key"));
  const commands: Record<CapiManagerName, string> = {
    core: capi.coreManager,
    "kubeadm-bootstrap": capi.kubeadmBootstrapManager,
    "kubeadm-control-plane": capi.kubeadmControlPlaneManager,
  };
  const children = new Map<CapiManagerName, Child>();
  try {
    for (const name of options.managers) {
      const [webhookPort, healthPort] = await freePorts(2);
      const args = [
        `--kubeconfig=${options.kubeconfigPath}`,
        "--leader-elect=false",
        `--webhook-port=${String(webhookPort)}`,
        `--webhook-cert-dir=${dir}`,
        `--health-addr=127.0.0.1:${String(healthPort)}`,
        "--diagnostics-address=0",
        ...(name === "core" && options.featureGates !== undefined ? [`--feature-gates=${options.featureGates.join(",")}`] : []),
        ...(options.extraArgs?.[name] ?? []),
      ];
      children.set(name, new Child({ name, command: commands[name], args, logPath: join(dir, `${name}.log`), ...(options.env === undefined ? {} : { env: options.env }) }));
    }
  } catch (err) {
    await Promise.all([...children.values()].map((c) => c.stop(5000)));
    await rm(dir, { recursive: true, force: true });
    disownDir(dir);
    throw err;
  }
  return {
    log: async (name) => {
      const child = children.get(name);
      return child === undefined ? "" : readFile(child.logPath, "utf8");
    },
    stop: async () => {
      await Promise.all([...children.values()].map((c) => c.stop(10_000)));
      await rm(dir, { recursive: true, force: true });
      disownDir(dir);
    },
  };
}
