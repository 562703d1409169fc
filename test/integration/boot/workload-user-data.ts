// User data for booting simulated machines, as the kubeadm bootstrap provider writes it
// (src/sim/boot/test-support.ts lays it out from CABPK's Go templates) with real key
// material where the template has placeholders: the cluster's four CA pairs made as
// Cluster API makes them (makeCa) and a service-account key pair.
import { createHash, generateKeyPairSync, X509Certificate } from "node:crypto";
import { makeCa } from "../../../src/sim/boot/pki-test-support.ts";
import { cabpkUserData, storedUserData, type CabpkInput } from "../../../src/sim/boot/test-support.ts";
import type { CaPair } from "../../../src/sim/boot/x509.ts";

export interface ClusterSecrets {
  ca: CaPair;
  etcdCa: CaPair;
  frontProxyCa: CaPair;
  sa: { publicPem: string; privatePem: string };
  /** discovery.bootstrapToken.caCertHashes[0]. */
  caHash: string;
}

export async function makeClusterSecrets(): Promise<ClusterSecrets> {
  const [ca, etcdCa, frontProxyCa] = await Promise.all([makeCa(), makeCa(), makeCa()]);
  const sa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    ca,
    etcdCa,
    frontProxyCa,
    sa: { publicPem: sa.publicKey.export({ type: "spki", format: "pem" }).toString(), privatePem: sa.privateKey.export({ type: "pkcs1", format: "pem" }).toString() },
    // kubeadm's pubkeypin: SHA-256 of the CA's SubjectPublicKeyInfo.
    caHash: `sha256:${createHash("sha256").update(new X509Certificate(ca.certPem).publicKey.export({ type: "spki", format: "der" })).digest("hex")}`,
  };
}

/** The text each certificate file holds, by the name certificateFiles() uses. */
function realContent(secrets: ClusterSecrets): Record<string, string> {
  return {
    "ca.crt": secrets.ca.certPem,
    "ca.key": secrets.ca.keyPem,
    "etcd/ca.crt": secrets.etcdCa.certPem,
    "etcd/ca.key": secrets.etcdCa.keyPem,
    "front-proxy-ca.crt": secrets.frontProxyCa.certPem,
    "front-proxy-ca.key": secrets.frontProxyCa.keyPem,
    "sa.pub": secrets.sa.publicPem,
    "sa.key": secrets.sa.privatePem,
  };
}

/** CABPK's user data for `input`, its certificate files holding `secrets`; base64, as the provider sends it to MAAS. */
export function userDataWith(input: CabpkInput, secrets: ClusterSecrets): string {
  let text = cabpkUserData(input);
  if (input.kind !== "worker-join") {
    for (const [name, pem] of Object.entries(realContent(secrets))) {
      const placeholder = `placeholder for ${name}\n      second line`;
      if (!text.includes(placeholder)) throw new Error(`the CABPK template has no placeholder for ${name}`);
      text = text.replace(placeholder, pem.trimEnd().split("\n").join("\n      "));
    }
  }
  return storedUserData(text);
}

export function clusterConfigurationFor(o: { name: string; endpoint: string }): string {
  return [
    "apiServer: {}",
    "apiVersion: kubeadm.k8s.io/v1beta4",
    `clusterName: ${o.name}`,
    `controlPlaneEndpoint: ${o.endpoint}`,
    "controllerManager: {}",
    "dns: {}",
    "etcd: {}",
    "kind: ClusterConfiguration",
    "kubernetesVersion: v1.34.2",
    "networking:\n  dnsDomain: cluster.local\n  podSubnet: 192.168.0.0/16\n  serviceSubnet: 10.128.0.0/12",
    "proxy: {}",
    "scheduler: {}",
    "",
  ].join("\n");
}

/** A worker's JoinConfiguration as CABPK writes it (the uninitialized taint always added). */
export function workerJoinConfiguration(o: { endpoint: string; token: string; caHash: string }): string {
  return [
    "apiVersion: kubeadm.k8s.io/v1beta4",
    `discovery:\n  bootstrapToken:\n    apiServerEndpoint: ${o.endpoint}\n    caCertHashes:\n    - ${o.caHash}\n    token: ${o.token}`,
    "kind: JoinConfiguration",
    "nodeRegistration:\n  name: '{{ v1.local_hostname }}'\n  taints:\n  - effect: NoSchedule\n    key: node.cluster.x-k8s.io/uninitialized",
    "",
  ].join("\n");
}
