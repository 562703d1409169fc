// What kubeadm init and join run with on one machine: the machine as MAAS deployed it,
// its directories and processes, what cloud-init wrote, the kubeadm config, and the
// clusters the other machines formed.
import type { BootFile, KubeadmCommand } from "./cloud-init.ts";
import type { ClusterRegistry } from "./clusters.ts";
import type { KubeadmNode } from "./kubeadm-config.ts";
import type { MachineDirs } from "./machine-dirs.ts";
import type { MachineProcesses } from "./processes.ts";

/** The machine as MAAS describes it. */
export interface BootMachine {
  systemId: string;
  /** The short host name cloud-init sets (kubeadm's default node name). */
  hostname: string;
  /** meta-data local-hostname. */
  fqdn: string;
  /** The boot interface's address: every process of the machine listens there. */
  address: string;
  /** "amd64/generic" */
  architecture: string;
  cpuCount: number;
  memoryMiB: number;
  /** "ubuntu/jammy" */
  osImage: string;
}

export interface BootContext {
  machine: BootMachine;
  dirs: MachineDirs;
  files: ReadonlyMap<string, BootFile>;
  command: KubeadmCommand;
  node: KubeadmNode;
  processes: MachineProcesses;
  clusters: ClusterRegistry;
  /** Aborted when the machine goes down mid-boot. */
  signal: AbortSignal;
  /** The simulator's DNS records: the addresses of a name (a DNS controlPlaneEndpoint). */
  resolve(name: string): string[];
  /** Whether a machine holds that address (a VIP must not be one). */
  isMachineAddress(ip: string): boolean;
  /** How far the boot got, for /_sim/boot. */
  step(name: string): void;
}

/** A kubeadm failure the user data can fix; the message names the field or file and what to do. */
export class BootError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BootError";
  }
}
