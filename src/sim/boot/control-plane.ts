// The steps kubeadm init and a control-plane kubeadm join share on the machine:
// certificates (phases/certs), the superuser kubeconfig (phases/kubeconfig,
// super-admin.conf), the static Pods started as processes (phases/etcd, phases/
// controlplane; the flags are processes.ts's), the kubelet, and the mirror Pods it
// would post (k8s.io/kubernetes v1.34.2 cmd/kubeadm/app).
import { join } from "node:path";
import { stringify } from "yaml";
import { BootError, type BootContext } from "./boot-context.ts";
import type { Cluster } from "./clusters.ts";
import type { StaticPodFacts } from "./control-plane-objects.ts";
import type { ClusterConfig } from "./kubeadm-config.ts";
import { KubeApi } from "./kube-api.ts";
import { caPairFrom } from "./machine-dirs.ts";
import { KUBELET_PORT } from "./node-objects.ts";
import { mintNodeCertificates, writeNodeCertificates, type CaPair, type NodeCertificates } from "./pki.ts";
import { httpsUrl, type EtcdMember } from "./processes.ts";

export interface ClusterCas {
  cluster: CaPair;
  frontProxy: CaPair;
  etcd?: CaPair;
}

/** The CAs CABPK writes under certificatesDir (secret.Certificates.AsFiles); etcd's only with a local etcd. */
export function readCas(ctx: BootContext, cluster: ClusterConfig): ClusterCas {
  const pair = (name: string): CaPair => {
    const found = caPairFrom(ctx.files, cluster.certificatesDir, name);
    if ("missing" in found) {
      throw new BootError(`kubeadm ${ctx.command.phase}: ${found.missing} is not among the files cloud-init wrote; the bootstrap provider writes the cluster's CAs under certificatesDir (${cluster.certificatesDir})`);
    }
    return found;
  };
  return { cluster: pair("ca"), frontProxy: pair("front-proxy-ca"), ...("local" in cluster.etcd ? { etcd: pair("etcd/ca") } : {}) };
}

/** localAPIEndpoint.advertiseAddress must be the machine's own: it is where the API server binds. */
export function advertiseAddress(ctx: BootContext): string {
  const written = ctx.node.localAPIEndpoint?.advertiseAddress ?? "";
  if (written !== "" && written !== ctx.machine.address) {
    throw new BootError(`localAPIEndpoint.advertiseAddress is ${written}, which is not this machine's address (${ctx.machine.address}); leave it empty for kubeadm to take the machine's address`);
  }
  return ctx.machine.address;
}

export function bindPort(ctx: BootContext): number {
  return ctx.node.localAPIEndpoint?.bindPort ?? 6443;
}

const superAdminFiles = (ctx: BootContext): { certFile: string; keyFile: string } => ({ certFile: join(ctx.dirs.sim, "super-admin.crt"), keyFile: join(ctx.dirs.sim, "super-admin.key") });

/** phases/certs for this node, written in kubeadm's layout, plus super-admin.conf. */
export async function mintCertificates(ctx: BootContext, cluster: ClusterConfig, cas: ClusterCas): Promise<NodeCertificates> {
  const local = "local" in cluster.etcd ? cluster.etcd.local : undefined;
  const certs = await mintNodeCertificates({
    cas,
    nodeName: ctx.node.nodeName,
    advertiseAddress: advertiseAddress(ctx),
    serviceSubnet: cluster.networking.serviceSubnet,
    dnsDomain: cluster.networking.dnsDomain,
    controlPlaneEndpoint: cluster.controlPlaneEndpoint,
    apiServerCertSANs: cluster.apiServer.certSANs,
    etcdServerCertSANs: local?.serverCertSANs,
    etcdPeerCertSANs: local?.peerCertSANs,
    encryptionAlgorithm: cluster.encryptionAlgorithm,
    hostname: ctx.machine.hostname,
  });
  await writeNodeCertificates(certs, { certificatesDir: ctx.dirs.path(cluster.certificatesDir), kubeletPkiDir: ctx.dirs.path("/var/lib/kubelet/pki") });
  const files = superAdminFiles(ctx);
  await ctx.dirs.writeHostFile(files.certFile, certs.superAdmin.certPem, 0o600);
  await ctx.dirs.writeHostFile(files.keyFile, certs.superAdmin.keyPem, 0o600);
  // GetControlPlaneEndpoint: the controlPlaneEndpoint when set, else this API server.
  const server = cluster.controlPlaneEndpoint === "" ? httpsUrl(ctx.machine.address, bindPort(ctx)) : `https://${cluster.controlPlaneEndpoint}`;
  const b64 = (pem: string): string => Buffer.from(pem).toString("base64");
  const kubeconfig = stringify({
    apiVersion: "v1",
    clusters: [{ cluster: { "certificate-authority-data": b64(cas.cluster.certPem), server }, name: cluster.clusterName }],
    contexts: [{ context: { cluster: cluster.clusterName, user: "kubernetes-super-admin" }, name: `kubernetes-super-admin@${cluster.clusterName}` }],
    "current-context": `kubernetes-super-admin@${cluster.clusterName}`,
    kind: "Config",
    users: [{ name: "kubernetes-super-admin", user: { "client-certificate-data": b64(certs.superAdmin.certPem), "client-key-data": b64(certs.superAdmin.keyPem) } }],
  });
  await ctx.dirs.writeFile("/etc/kubernetes/super-admin.conf", kubeconfig, 0o600);
  return certs;
}

/** Starts the node's etcd member (local etcd only), waited for as kubeadm waits for it. */
export async function startEtcd(ctx: BootContext, cluster: ClusterConfig, initialCluster?: EtcdMember[]): Promise<void> {
  if (!("local" in cluster.etcd)) return;
  ctx.step("etcd");
  await ctx.processes.startEtcd({
    name: ctx.node.nodeName,
    address: ctx.machine.address,
    dataDir: ctx.dirs.path(cluster.etcd.local.dataDir),
    certificatesDir: ctx.dirs.path(cluster.certificatesDir),
    initialCluster,
    // A learner passes /livez but not /readyz until promoted.
    waitFor: initialCluster === undefined ? "ready" : "live",
    extraArgs: cluster.etcd.local.extraArgs,
  });
}

/** Starts the node's kube-apiserver and waits for its /readyz, as kubeadm's wait-control-plane does. */
export async function startApiServer(ctx: BootContext, cluster: ClusterConfig): Promise<void> {
  ctx.step("kube-apiserver");
  const external = "external" in cluster.etcd ? cluster.etcd.external : undefined;
  await ctx.processes.startApiServer({
    address: ctx.machine.address,
    bindPort: bindPort(ctx),
    certificatesDir: ctx.dirs.path(cluster.certificatesDir),
    serviceSubnet: cluster.networking.serviceSubnet,
    dnsDomain: cluster.networking.dnsDomain,
    extraArgs: cluster.apiServer.extraArgs,
    probeClient: superAdminFiles(ctx),
    ...(external === undefined
      ? {}
      : {
          externalEtcd: {
            endpoints: external.endpoints,
            caFile: external.caFile === "" ? undefined : ctx.dirs.path(external.caFile),
            certFile: external.certFile === "" ? undefined : ctx.dirs.path(external.certFile),
            keyFile: external.keyFile === "" ? undefined : ctx.dirs.path(external.keyFile),
          },
        }),
  });
}

/** The kubelet, as far as the API server reaches it: port-forward on :10250 with x509 client authentication (kubeadm's clientCAFile). */
export async function startKubelet(ctx: BootContext, cluster: ClusterConfig): Promise<void> {
  ctx.step("kubelet");
  await ctx.processes.startKubeletStub({
    address: ctx.machine.address,
    port: KUBELET_PORT,
    certFile: ctx.dirs.path("/var/lib/kubelet/pki/kubelet.crt"),
    keyFile: ctx.dirs.path("/var/lib/kubelet/pki/kubelet.key"),
    clientCaFile: join(ctx.dirs.path(cluster.certificatesDir), "ca.crt"),
  });
}

/** A superuser client of this machine's own API server. */
export function ownApi(ctx: BootContext, cluster: Cluster): KubeApi {
  return new KubeApi({
    server: httpsUrl(ctx.machine.address, bindPort(ctx)),
    identity: { caPem: cluster.caPem, certPem: cluster.admin.certPem, keyPem: cluster.admin.keyPem },
    signal: ctx.signal,
  });
}

export function staticPodFacts(ctx: BootContext, cluster: ClusterConfig, nodeUid: string): StaticPodFacts {
  const local = "local" in cluster.etcd ? cluster.etcd.local : undefined;
  return {
    nodeName: ctx.node.nodeName,
    nodeUid,
    address: ctx.machine.address,
    bindPort: bindPort(ctx),
    imageRepository: cluster.imageRepository,
    kubernetesVersion: cluster.kubernetesVersion,
    ...(local === undefined ? {} : { etcdImage: { repository: local.imageRepository, tag: local.imageTag } }),
    now: new Date(),
  };
}

/** CABPK's `&& echo success > /run/cluster-api/bootstrap-success.complete`, once kubeadm succeeded. */
export async function writeSentinel(ctx: BootContext): Promise<void> {
  if (ctx.command.sentinelPath !== null) await ctx.dirs.writeFile(ctx.command.sentinelPath, "success\n", 0o644);
}
