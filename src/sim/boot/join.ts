// `kubeadm join --config FILE` (k8s.io/kubernetes v1.34.2 cmd/kubeadm/app/cmd/join.go
// and phases/join): discovery, then for a worker the kubelet's registration, for a
// control-plane node also its certificates, etcd member and control-plane processes.
// Discovery (cmd/kubeadm/app/discovery/token/token.go RetrieveValidatedConfigInfo) is
// kept to what can fail for a reason the management side controls: the endpoint must
// lead to a booted cluster, that cluster's CA must match a pin in caCertHashes, and the
// bootstrap token must authenticate against the API server over TLS verified with that
// CA (the kubelet's TLS bootstrap does, and so a deleted or expired token fails the
// join). cluster-info's JWS signature is not checked: no bootstrap signer runs.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { parse } from "yaml";
import { BootError, type BootContext } from "./boot-context.ts";
import { splitEndpoint, type Cluster } from "./clusters.ts";
import { advertiseAddress, bindPort, mintCertificates, ownApi, readCas, startApiServer, startEtcd, startKubelet, staticPodFacts, writeSentinel } from "./control-plane.ts";
import { addLearner, promote } from "./etcd-members.ts";
import { HttpsRequestError, requestJson, type TlsIdentity } from "./https-json.ts";
import { readKubeadmConfig, type ClusterConfig } from "./kubeadm-config.ts";
import type { KubeApi } from "./kube-api.ts";
import { nodeTaints, type NodeFacts } from "./node-objects.ts";
import { httpsUrl } from "./processes.ts";
import { mirrorStaticPods, registerNode } from "./workload-objects.ts";

/** kubeadm's default discovery timeout (timeouts.discovery, 5 minutes). */
const DISCOVERY_TIMEOUT_MS = 5 * 60_000;
const DISCOVERY_RETRY_MS = 2000;

interface Discovered {
  cluster: Cluster;
  /** ClusterConfiguration as the cluster's kubeadm-config holds it. */
  config: ClusterConfig;
}

export async function kubeadmJoin(ctx: BootContext): Promise<{ cluster: Cluster; config: ClusterConfig }> {
  const { cluster, config } = await discover(ctx);
  ctx.signal.throwIfAborted();
  if (ctx.node.role === "control-plane-join") await joinControlPlane(ctx, cluster, config);
  else await registerKubelet(ctx, cluster, config);
  await writeSentinel(ctx);
  return { cluster, config };
}

/** Discovery and the token check, retried until the cluster answers, as kubeadm retries for its discovery timeout. */
async function discover(ctx: BootContext): Promise<Discovered> {
  ctx.step("discovery");
  const discovery = ctx.node.discovery;
  const token = discovery?.bootstrapToken;
  if (token === undefined) throw new BootError("discovery.file is not emulated; use discovery.bootstrapToken (what the bootstrap provider writes)");
  const deadline = Date.now() + DISCOVERY_TIMEOUT_MS;
  for (;;) {
    const cluster = ctx.clusters.findByEndpoint(token.apiServerEndpoint, ctx.resolve);
    let waiting = `no booted cluster serves discovery.bootstrapToken.apiServerEndpoint ${token.apiServerEndpoint}`;
    if (cluster !== undefined) {
      if (!token.unsafeSkipCAVerification && !token.caCertHashes.includes(cluster.key)) {
        throw new BootError(`the cluster at ${token.apiServerEndpoint} has a CA whose public key (${cluster.key}) is not pinned in discovery.bootstrapToken.caCertHashes; list that hash (the bootstrap provider writes the cluster CA's)`);
      }
      const answer = await tokenCheck(ctx, cluster, token.apiServerEndpoint, discovery?.tlsBootstrapToken ?? token.token);
      if (answer.kind === "ok") return { cluster, config: answer.config };
      waiting = answer.why;
    }
    if (Date.now() >= deadline) throw new BootError(`kubeadm join gave up after its discovery timeout: ${waiting}`);
    await sleep(DISCOVERY_RETRY_MS, undefined, { signal: ctx.signal });
  }
}

type TokenAnswer = { kind: "ok"; config: ClusterConfig } | { kind: "retry"; why: string };

/**
 * With the bootstrap token as its bearer credential, over TLS verified with the
 * cluster's CA: who am I (a SelfSubjectReview: 401 means the token is unknown or
 * expired), then kube-system/kubeadm-config, which kubeadm join reads with that token
 * (kubeadm:nodes-kubeadm-config lets bootstrap tokens get it).
 */
async function tokenCheck(ctx: BootContext, cluster: Cluster, endpoint: string, token: string): Promise<TokenAnswer> {
  const { host, port } = splitEndpoint(endpoint);
  const address = /^[\d.]+$/.test(host) || host.includes(":") ? host : ctx.resolve(host)[0];
  if (address === undefined) return { kind: "retry", why: `${host} has no address among the simulator's DNS records` };
  const identity: TlsIdentity = { caPem: cluster.caPem, bearerToken: token, ...(address === host ? {} : { serverName: host }) };
  const base = httpsUrl(address, port ?? 6443);
  try {
    const review = await requestJson(identity, { method: "POST", url: `${base}/apis/authentication.k8s.io/v1/selfsubjectreviews`, body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" }, timeoutMs: 15_000 });
    if (review.status === 401) throw new BootError(`the API server at ${endpoint} refused the bootstrap token (discovery.bootstrapToken.token): its Secret kube-system/bootstrap-token-<id> is missing, expired or not for authentication`);
    if (review.status !== 201) return { kind: "retry", why: `the API server at ${endpoint} answered the token check with HTTP ${review.status}` };
    const configMap = await requestJson(identity, { method: "GET", url: `${base}/api/v1/namespaces/kube-system/configmaps/kubeadm-config`, timeoutMs: 15_000 });
    if (configMap.status !== 200) return { kind: "retry", why: `kube-system/kubeadm-config answered HTTP ${configMap.status} to the bootstrap token` };
    const text = ((configMap.body as { data?: Record<string, string> } | undefined)?.data ?? {}).ClusterConfiguration ?? "";
    return { kind: "ok", config: clusterConfig(ctx, text) };
  } catch (error) {
    if (!(error instanceof HttpsRequestError)) throw error;
    return { kind: "retry", why: error.message };
  }
}

/** The ClusterConfiguration document kubeadm-config holds, read as kubeadm reads it (FetchInitConfigurationFromCluster). */
function clusterConfig(ctx: BootContext, text: string): ClusterConfig {
  const kind = (parse(text, { version: "1.1" }) as { kind?: unknown } | null)?.kind;
  if (kind !== "ClusterConfiguration") throw new BootError("kube-system/kubeadm-config holds no ClusterConfiguration document; kubeadm join cannot read the cluster's configuration");
  const read = readKubeadmConfig(text, { phase: "init", source: "kube-system/kubeadm-config", hostname: ctx.machine.hostname });
  if (read.cluster === undefined) throw new BootError("kube-system/kubeadm-config holds no ClusterConfiguration");
  return read.cluster;
}

export function nodeFacts(ctx: BootContext, config: ClusterConfig, controlPlane: boolean): NodeFacts {
  return {
    nodeName: ctx.node.nodeName,
    address: ctx.machine.address,
    hostname: ctx.machine.hostname,
    architecture: ctx.machine.architecture,
    // The kubelet on the image; the emulation takes the cluster's version.
    kubeletVersion: config.kubernetesVersion,
    osImage: ctx.machine.osImage,
    cpuCount: ctx.machine.cpuCount,
    memoryMiB: ctx.machine.memoryMiB,
    controlPlane,
    taints: nodeTaints(ctx.node.role, ctx.node.nodeRegistration.taints),
    kubeletExtraArgs: ctx.node.nodeRegistration.kubeletExtraArgs,
    bootId: randomUUID(),
    now: new Date(),
  };
}

/** A worker: the kubelet registers its Node, with --register-with-taints = nodeRegistration.taints. */
async function registerKubelet(ctx: BootContext, cluster: Cluster, config: ClusterConfig): Promise<void> {
  ctx.step("node");
  const api = ctx.clusters.api(cluster, { signal: ctx.signal });
  if (api === undefined) throw new BootError(`no API server of cluster ${cluster.name} runs any more; the kubelet cannot register`);
  cluster.members.set(ctx.machine.systemId, { systemId: ctx.machine.systemId, nodeName: ctx.node.nodeName, address: ctx.machine.address, running: true });
  await registerNode(api, nodeFacts(ctx, config, false));
}

/**
 * phases/join controlplaneprepare (certs from the CAs cloud-init wrote), etcd
 * (AddMemberAsLearner, the member started with the cluster's members, then promoted),
 * control-plane, kubelet-start, mark-control-plane.
 */
async function joinControlPlane(ctx: BootContext, cluster: Cluster, config: ClusterConfig): Promise<void> {
  ctx.step("certs");
  const cas = readCas(ctx, config);
  await mintCertificates(ctx, config, cas);
  ctx.signal.throwIfAborted();
  let initialCluster;
  let learner: { id: string; clientUrl: string; identity: TlsIdentity } | undefined;
  if ("local" in config.etcd) {
    ctx.step("etcd-member-add");
    const certificatesDir = config.certificatesDir;
    const identity: TlsIdentity = {
      caPem: cas.etcd?.certPem ?? "",
      certPem: (await ctx.dirs.readFile(`${certificatesDir}/apiserver-etcd-client.crt`)) ?? "",
      keyPem: (await ctx.dirs.readFile(`${certificatesDir}/apiserver-etcd-client.key`)) ?? "",
    };
    const clientUrl = [...cluster.members.values()].find((m) => m.running && m.etcdClientUrl !== undefined)?.etcdClientUrl;
    if (clientUrl === undefined) throw new BootError(`no etcd member of cluster ${cluster.name} runs; a control-plane join needs one to add itself to`);
    const added = await addLearner(identity, clientUrl, ctx.node.nodeName, httpsUrl(ctx.machine.address, 2380));
    initialCluster = added.initialCluster;
    learner = { id: added.id, clientUrl, identity };
  }
  await startEtcd(ctx, config, initialCluster);
  if (learner !== undefined) {
    ctx.step("etcd-promote");
    await promote(learner.identity, learner.clientUrl, learner.id, ctx.signal);
  }
  // kubeadm writes the API server's manifest first and the kubelet restarts it until its
  // local member serves (a learner refuses reads); started once the member votes, it
  // comes up at the first try.
  await startApiServer(ctx, config);
  cluster.members.set(ctx.machine.systemId, {
    systemId: ctx.machine.systemId,
    nodeName: ctx.node.nodeName,
    address: advertiseAddress(ctx),
    apiServerPort: bindPort(ctx),
    ...(learner === undefined ? {} : { etcdClientUrl: httpsUrl(ctx.machine.address, 2379) }),
    running: true,
  });
  await startKubelet(ctx, config);
  ctx.step("node");
  const api: KubeApi = ownApi(ctx, cluster);
  const node = await registerNode(api, nodeFacts(ctx, config, true));
  ctx.step("mirror-pods");
  await mirrorStaticPods(api, staticPodFacts(ctx, config, node.metadata?.uid ?? ""));
}
