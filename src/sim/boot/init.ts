// `kubeadm init --config FILE` on a machine, in the order of its phases (k8s.io/kubernetes
// v1.34.2 cmd/kubeadm/app/cmd/init.go newInitData/NewInitPhases): certs, kubeconfig,
// etcd, control-plane, kubelet-start, wait-control-plane, upload-config,
// mark-control-plane, bootstrap-token, then the CABPK sentinel. Each object is written
// as the actor that owns it would write it (workload-objects.ts). One deliberate
// difference: kube-system/kubeadm-config is written last, not in upload-config, because
// Cluster API takes its existence as "the control plane is initialized"
// (controlplane/kubeadm/reconcilers status.go setControlPlaneInitialized), and every
// other object should be in place by then.
import { BootError, type BootContext } from "./boot-context.ts";
import { caCertHash, type Cluster } from "./clusters.ts";
import { bootstrapTokenSecrets, clusterInfo, kubeadmConfigMap, kubeadmRbac } from "./control-plane-objects.ts";
import { advertiseAddress, bindPort, mintCertificates, ownApi, readCas, startApiServer, startEtcd, startKubelet, staticPodFacts, writeSentinel } from "./control-plane.ts";
import type { ClusterConfig } from "./kubeadm-config.ts";
import { nodeFacts } from "./join.ts";
import { httpsUrl } from "./processes.ts";
import { applyAll, mirrorStaticPods, registerNode } from "./workload-objects.ts";

export async function kubeadmInit(ctx: BootContext): Promise<{ cluster: Cluster; config: ClusterConfig }> {
  const config = ctx.node.cluster;
  if (config === undefined) throw new BootError("kubeadm init: the config holds no ClusterConfiguration");
  ctx.step("certs");
  const cas = readCas(ctx, config);
  const certs = await mintCertificates(ctx, config, cas);
  ctx.signal.throwIfAborted();
  const cluster = ctx.clusters.add({
    key: caCertHash(cas.cluster.certPem),
    name: config.clusterName,
    controlPlaneEndpoint: config.controlPlaneEndpoint,
    caPem: cas.cluster.certPem,
    admin: certs.superAdmin,
  });
  await startEtcd(ctx, config);
  ctx.signal.throwIfAborted();
  await startApiServer(ctx, config);
  ctx.signal.throwIfAborted();
  cluster.members.set(ctx.machine.systemId, {
    systemId: ctx.machine.systemId,
    nodeName: ctx.node.nodeName,
    address: advertiseAddress(ctx),
    apiServerPort: bindPort(ctx),
    ...("local" in config.etcd ? { etcdClientUrl: httpsUrl(ctx.machine.address, 2379) } : {}),
    running: true,
  });
  await ctx.clusters.ensureEndpoint(cluster, ctx.isMachineAddress);
  await startKubelet(ctx, config);
  ctx.signal.throwIfAborted();

  const api = ownApi(ctx, cluster);
  ctx.step("node");
  const node = await registerNode(api, nodeFacts(ctx, config, true));
  ctx.step("mirror-pods");
  await mirrorStaticPods(api, staticPodFacts(ctx, config, node.metadata?.uid ?? ""));
  ctx.step("kubeadm-objects");
  const server = config.controlPlaneEndpoint === "" ? httpsUrl(ctx.machine.address, bindPort(ctx)) : `https://${config.controlPlaneEndpoint}`;
  await applyAll(api, [...kubeadmRbac(), clusterInfo(server, cas.cluster.certPem), ...bootstrapTokenSecrets(ctx.node.bootstrapTokens ?? [], new Date())]);
  ctx.signal.throwIfAborted();
  ctx.step("kubeadm-config");
  await applyAll(api, [kubeadmConfigMap(config.documentYaml)]);
  await writeSentinel(ctx);
  return { cluster, config };
}
