// The two management clusters of a `clusterctl move`, and the marks `clusterctl init` leaves
// on a management cluster that move relies on. The test control planes install the CRDs
// from their sources, without those marks; a real one gets them from clusterctl:
// - every object of a provider's components, its CRDs included, is labelled
//   `clusterctl.cluster.x-k8s.io` and `cluster.x-k8s.io/provider=<type>-<name>`
//   (cmd/clusterctl/client/repository/components.go addCommonLabels). Move looks only at
//   the kinds of the CRDs with the first label, plus Secrets and ConfigMaps
//   (client/cluster/objectgraph.go getDiscoveryTypes → getCRDList), and takes what a
//   Cluster owns through owner references or, for Secrets, by a `<cluster>-` name
//   (setSoftOwnership, setTenants). Without the label our objects stay behind, and move
//   still exits 0;
// - one `providers.clusterctl.cluster.x-k8s.io` inventory object per provider
//   (repository/components.go InventoryObject), and move refuses a target that lacks a
//   provider of the source or holds an older version (client/cluster/mover.go
//   checkTargetProviders). clusterctl creates the inventory CRD itself the first time it
//   meets a management cluster (client/move.go getClusterClient →
//   client/cluster/inventory.go EnsureCustomResourceDefinitions).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import { repoRoot } from "../../testenv/binaries.ts";
import { startTestEnv, type TestEnv } from "../../testenv/index.ts";
import type { ClusterctlSandbox } from "../clusterctl/clusterctl-harness.ts";
import { Testbed } from "../controllers/provider-harness.ts";
import { KUBEADM_CONTROL_PLANE, MACHINE_DEPLOYMENT, MACHINE_HEALTH_CHECK } from "./e2e-bed.ts";

const CLUSTERCTL_LABEL = "clusterctl.cluster.x-k8s.io";
const PROVIDER_LABEL = "cluster.x-k8s.io/provider";

interface InstalledProvider {
  /** Provider.providerName and Provider.type, as `clusterctl init` writes them. */
  name: string;
  type: "CoreProvider" | "BootstrapProvider" | "ControlPlaneProvider" | "InfrastructureProvider";
  /** The manifest label (api/v1alpha3/labels.go ManifestLabel): the inventory object's name and the provider label's value. */
  label: string;
  /** Where `clusterctl init` installs it by default. */
  namespace: string;
  /** The API groups of its CRDs. */
  groups: readonly string[];
}

const PROVIDERS: readonly InstalledProvider[] = [
  { name: "cluster-api", type: "CoreProvider", label: "cluster-api", namespace: "capi-system", groups: ["cluster.x-k8s.io", "addons.cluster.x-k8s.io", "ipam.cluster.x-k8s.io", "runtime.cluster.x-k8s.io"] },
  { name: "kubeadm", type: "BootstrapProvider", label: "bootstrap-kubeadm", namespace: "capi-kubeadm-bootstrap-system", groups: ["bootstrap.cluster.x-k8s.io"] },
  { name: "kubeadm", type: "ControlPlaneProvider", label: "control-plane-kubeadm", namespace: "capi-kubeadm-control-plane-system", groups: ["controlplane.cluster.x-k8s.io"] },
  { name: "maas", type: "InfrastructureProvider", label: "infrastructure-maas", namespace: "capmaas-system", groups: ["infrastructure.cluster.x-k8s.io"] },
];

/** Labels the env's CRDs and writes the provider inventory as `clusterctl init` of these four providers would. */
export async function asClusterctlInitLeavesIt(env: TestEnv, clusterctl: ClusterctlSandbox): Promise<void> {
  for (const provider of PROVIDERS) {
    const crds = env.crds.filter((name) => provider.groups.includes(name.slice(name.indexOf(".") + 1)));
    const labelled = await env.kubectl(["label", "crd", ...crds, `${CLUSTERCTL_LABEL}=`, `${PROVIDER_LABEL}=${provider.label}`, "--overwrite"]);
    if (labelled.code !== 0) throw new Error(`labelling the ${provider.label} CRDs failed: ${labelled.stderr}`);
  }
  const unlabelled = env.crds.filter((name) => !PROVIDERS.some((p) => p.groups.includes(name.slice(name.indexOf(".") + 1))));
  if (unlabelled.length > 0) throw new Error(`CRDs of no known provider (add their group to PROVIDERS): ${unlabelled.join(", ")}`);

  // clusterctl's first contact with a management cluster, and nothing more: a dry run of
  // an empty namespace reads and writes no object.
  const contact = await clusterctl.clusterctlRun(["move", "--dry-run", "--kubeconfig", env.kubeconfigPath, "--namespace", "default"], { timeoutMs: 120_000 });
  if (contact.code !== 0) throw new Error(`clusterctl move --dry-run failed: ${contact.stderr}`);

  const maasVersion = `v${(JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8")) as { version: string }).version}`;
  const objects = PROVIDERS.flatMap((provider) => [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: provider.namespace } },
    {
      apiVersion: "clusterctl.cluster.x-k8s.io/v1alpha3",
      kind: "Provider",
      metadata: {
        name: provider.label,
        namespace: provider.namespace,
        labels: { [CLUSTERCTL_LABEL]: "", [`${CLUSTERCTL_LABEL}/core`]: "inventory", [PROVIDER_LABEL]: provider.label },
      },
      providerName: provider.name,
      type: provider.type,
      version: provider.type === "InfrastructureProvider" ? maasVersion : env.versions.clusterApi,
    },
  ]);
  const applied = await env.kubectl(["apply", "-f", "-"], { input: objects.map((o) => stringify(o)).join("---\n") });
  if (applied.code !== 0) throw new Error(`writing the provider inventory failed: ${applied.stderr}`);
}

export interface ManagementCluster {
  env: TestEnv;
  bed: Testbed;
}

/**
 * A management cluster on a private control plane: the Cluster API managers and ours,
 * as startE2eBed runs them, in front of `source`'s simulator (the same MAAS, the same DNS
 * proxy) and reconciling what carries `source`'s watch filter, so that it takes over the
 * objects moved to it. It starts no simulator and stops none.
 */
export async function startSecondManagement(source: Testbed, prefix: string): Promise<ManagementCluster> {
  const env = await startTestEnv({ log: () => undefined });
  const bed = new Testbed({
    prefix,
    env,
    sharedSimulator: source.sim,
    watchFilter: source.filter,
    capiManagers: ["core", "kubeadm-bootstrap", "kubeadm-control-plane"],
    workloadsThroughSimDns: true,
  });
  try {
    await bed.start();
  } catch (err) {
    await bed.stop().catch(() => undefined);
    await env.stop();
    throw err;
  }
  for (const kind of [KUBEADM_CONTROL_PLANE, MACHINE_DEPLOYMENT, MACHINE_HEALTH_CHECK]) bed.client.registerKind(kind);
  return { env, bed };
}
