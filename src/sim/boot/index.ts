// Booting simulated machines: what happens after a machine is Deployed, when its user
// data is the kubeadm bootstrap provider's cloud-init. This folder reads that user data
// as a MAAS machine's cloud-init would (cloud-init.ts: files and the kubeadm command)
// and the kubeadm config it runs with (kubeadm-config.ts). It is an opt-in feature of
// the simulator; nothing here imports test/ or the provider.
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
