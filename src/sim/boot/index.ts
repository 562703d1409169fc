// Booting simulated machines: what happens after a machine is Deployed, when its user
// data is the kubeadm bootstrap provider's cloud-init. This folder reads that user data
// as a MAAS machine's cloud-init would (cloud-init.ts: files and the kubeadm command)
// and the kubeadm config it runs with (kubeadm-config.ts), and the boot stage (boot.ts)
// runs it: kubeadm init and join (init.ts, join.ts) with real etcd and kube-apiserver
// processes (processes.ts) on the machine's address, the objects the kubelet and
// kubeadm write (workload-objects.ts), the controlPlaneEndpoint VIP
// (endpoint-forwarder.ts), power-off and release. It is an opt-in feature of the
// simulator (--boot-binaries); nothing here imports test/ or the provider.
export { BootStage, type BootPhase, type BootState, type ClusterStatus, type MachineBootStatus } from "./boot.ts";
export { CloudInitError, readUserData, userDataAsServed, type BootFile, type KubeadmCommand, type MachineIdentity, type NotEmulated, type UserDataReading } from "./cloud-init.ts";
export {
  KubeadmConfigError,
  readKubeadmConfig,
  type ApiEndpoint,
  type BootstrapToken,
  type ClusterConfig,
  type Discovery,
  type EtcdConfig,
  type KubeadmApiVersion,
  type KubeadmArg,
  type KubeadmNode,
  type NodeRegistration,
  type ReadOptions,
  type Taint,
} from "./kubeadm-config.ts";
