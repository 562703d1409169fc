// How a user reaches what the sandbox runs: the env file, and once the example cluster is
// Available its kubeconfig on disk and the one command line that uses it. The workload
// cluster's endpoint is a MAAS DNS name (<cluster>.<domain>:6443) that only the
// simulator's DNS proxy resolves, so that command sets HTTPS_PROXY for itself alone:
// exported, it would send every https request of the user's shell through the proxy.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { RunningSandbox } from "./sandbox.ts";

/** What of a running sandbox the user is told about. */
export type SandboxAccess = Pick<RunningSandbox, "dir" | "kubeconfigPath" | "maasEndpoint" | "maasApiKey" | "dnsProxyUrl" | "kubectlPath" | "cluster">;

export function workloadKubeconfigPath(dir: string): string {
  return join(dir, "workload.kubeconfig");
}

/** `HTTPS_PROXY=… kubectl --kubeconfig … get nodes`: the proxy set for this one command. */
export function workloadCommand(access: Pick<SandboxAccess, "dnsProxyUrl" | "kubectlPath">, kubeconfig: string): string {
  return `HTTPS_PROXY=${access.dnsProxyUrl} ${access.kubectlPath} --kubeconfig ${kubeconfig} get nodes`;
}

/** The env file's text: the management cluster and MAAS exported; the proxy and workload kubeconfig under names no tool reads on its own. */
export function envFileText(access: SandboxAccess): string {
  const kubeconfig = access.cluster === undefined ? "WORKLOAD.kubeconfig" : "$WORKLOAD_KUBECONFIG";
  return [
    `export KUBECONFIG=${access.kubeconfigPath}`,
    `export MAAS_ENDPOINT=${access.maasEndpoint}`,
    `export MAAS_API_KEY=${access.maasApiKey}`,
    "# The simulator's DNS proxy, the one way to a workload cluster's endpoint (a MAAS DNS name).",
    "# Not exported as HTTPS_PROXY, which would send all of this shell's https traffic through it;",
    "# set it for one command instead:",
    `#   ${workloadCommand({ dnsProxyUrl: "$SANDBOX_DNS_PROXY", kubectlPath: access.kubectlPath }, kubeconfig)}`,
    `export SANDBOX_DNS_PROXY=${access.dnsProxyUrl}`,
    ...(access.cluster === undefined
      ? []
      : [`# The example cluster ${access.cluster.namespace}/${access.cluster.name}'s kubeconfig, written once the Cluster is Available.`, `export WORKLOAD_KUBECONFIG=${workloadKubeconfigPath(access.dir)}`]),
    "",
  ].join("\n");
}

export async function writeEnvFile(access: SandboxAccess): Promise<string> {
  const path = join(access.dir, "env");
  await writeFile(path, envFileText(access), { mode: 0o600 });
  return path;
}

/** Writes the workload kubeconfig (owner-only: it holds the cluster's admin credentials) and returns what to print. */
export async function announceAvailable(access: SandboxAccess, kubeconfig: string, elapsedMs: number): Promise<string[]> {
  const path = workloadKubeconfigPath(access.dir);
  await writeFile(path, kubeconfig, { mode: 0o600 });
  const cluster = access.cluster === undefined ? "the cluster" : `Cluster ${access.cluster.namespace}/${access.cluster.name}`;
  return [
    `capmaas sandbox: ${cluster} Available ${(elapsedMs / 1000).toFixed(1)} s after start; its kubeconfig: ${path}`,
    "Reach the workload cluster through the simulator's DNS proxy (HTTPS_PROXY for that command only):",
    `  ${workloadCommand(access, path)}`,
    "",
  ];
}
