// The kubeconfig a control plane hands to tests, kubectl and controllers:
// token auth as the static admin (or the manager's user), the CA inlined so the
// file stands alone.
import { readFile, writeFile } from "node:fs/promises";
import { stringify } from "yaml";
import { KubeConfig } from "@kubernetes/client-node";

export interface KubeconfigOptions {
  path: string;
  server: string;
  caPem: string;
  token: string;
  /** The user entry's name (default admin); the token decides who it is. */
  userName?: string;
}

export async function writeKubeconfig(options: KubeconfigOptions): Promise<void> {
  const name = "testenv";
  const user = options.userName ?? "admin";
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster: { server: options.server, "certificate-authority-data": Buffer.from(options.caPem).toString("base64") } }],
    users: [{ name: user, user: { token: options.token } }],
    contexts: [{ name, context: { cluster: name, user } }],
    "current-context": name,
    preferences: {},
  };
  await writeFile(options.path, stringify(config), { mode: 0o600 });
}

export function loadKubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

/** The server URL of the kubeconfig's current cluster. */
export async function serverOf(path: string): Promise<string> {
  const kc = new KubeConfig();
  kc.loadFromString(await readFile(path, "utf8"));
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error(`${path} names no current cluster`);
  return server;
}
