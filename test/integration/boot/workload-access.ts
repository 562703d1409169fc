// How the management side reaches a booted workload cluster, with the identities Cluster
// API gives itself from the cluster's CAs: the `<cluster>-kubeconfig` user (CN
// kubernetes-admin, O system:masters: util/kubeconfig New) and KubeadmControlPlane's etcd
// client (CN cluster-api.x-k8s.io: pkg/etcd_client_generator newClientCert), plus the
// real kubectl's port-forward, stopped by pid.
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { KubeConfig } from "@kubernetes/client-node";
import { issueCertificate, loadAuthority, newKeyPair, type CaPair, type IssuedCertificate } from "../../../src/sim/boot/x509.ts";

async function clientCertificate(ca: CaPair, commonName: string, organizations: string[]): Promise<IssuedCertificate> {
  const authority = await loadAuthority(ca, "ca");
  const keys = await newKeyPair("RSA-2048");
  const now = Date.now();
  const certPem = await issueCertificate(authority, { commonName, organizations, usages: ["clientAuth"], notBefore: new Date(now - 60_000), notAfter: new Date(now + 24 * 3_600_000) }, keys.publicKeyDer);
  return { certPem, keyPem: keys.privateKeyPem };
}

/** The cluster's admin, as `<cluster>-kubeconfig` holds it. */
export async function adminKubeConfig(ca: CaPair, server: string): Promise<KubeConfig> {
  const admin = await clientCertificate(ca, "kubernetes-admin", ["system:masters"]);
  const b64 = (text: string): string => Buffer.from(text).toString("base64");
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "workload", server, caData: b64(ca.certPem) }],
    users: [{ name: "admin", certData: b64(admin.certPem), keyData: b64(admin.keyPem) }],
    contexts: [{ name: "admin@workload", cluster: "workload", user: "admin" }],
    currentContext: "admin@workload",
  });
  return kc;
}

/** KubeadmControlPlane's etcd client certificate. */
export function etcdClient(etcdCa: CaPair): Promise<IssuedCertificate> {
  return clientCertificate(etcdCa, "cluster-api.x-k8s.io", []);
}

/** `kubectl port-forward -n kube-system pod/<pod> :<port>`; resolves with the local port and a stop by pid. */
export async function kubectlPortForward(kubectl: string, kc: KubeConfig, kubeconfigPath: string, pod: string, port: number): Promise<{ localPort: number; stop(): Promise<void> }> {
  await writeFile(kubeconfigPath, kc.exportConfig(), { mode: 0o600 });
  const proc = spawn(kubectl, ["--kubeconfig", kubeconfigPath, "-n", "kube-system", "port-forward", `pod/${pod}`, `:${port}`, "--address", "127.0.0.1"], { stdio: ["ignore", "pipe", "pipe"] });
  return forwardedPort(proc, 60_000);
}

/**
 * Waits for a started `kubectl port-forward` to print its local port; the stop ends it by pid
 * (also when it printed none within `timeoutMs` or exited first).
 */
export async function forwardedPort(proc: ChildProcessByStdio<null, Readable, Readable>, timeoutMs: number): Promise<{ localPort: number; stop(): Promise<void> }> {
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null && proc.pid !== undefined) process.kill(proc.pid, "SIGKILL");
    await exited;
  };
  let stderr = "";
  proc.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  try {
    const localPort = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`kubectl port-forward printed no local port in ${String(timeoutMs / 1000)} s: ${stderr}`)), timeoutMs);
      createInterface({ input: proc.stdout }).on("line", (line) => {
        const match = /^Forwarding from 127\.0\.0\.1:(\d+) ->/.exec(line);
        if (match?.[1] !== undefined) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`kubectl port-forward exited: ${stderr}`));
      });
    });
    return { localPort, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
