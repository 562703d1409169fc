// The sandbox's MAAS: the simulator in this process, with machines big enough to run
// from memory and the names the example cluster's clusterctl variables ask for. Deployed
// machines boot (kubeadm init runs a real etcd and kube-apiserver on the machine's
// address, join registers a Node), and the simulator's DNS proxy is how this host
// reaches a workload cluster by its MAAS DNS name.
import { randomInt } from "node:crypto";
import type { Logger } from "../../src/observability/index.ts";
import { startSimulator } from "../../src/sim/index.ts";
import type { Inventory, RunningSimulator } from "../../src/sim/types.ts";
import type { SandboxOptions } from "./options.ts";

/** The MAAS version the simulator behaves like: the newest, where any image may run from memory. */
export const SANDBOX_MAAS_VERSION = "3.6.0";

/** What the clusterctl variables name; the inventory below provides each. */
export const MAAS_NAMES = {
  pool: "default",
  controlPlaneTag: "control-plane",
  workerTag: "worker",
  image: "ubuntu/jammy",
  dnsDomain: "sandbox.maas",
} as const;

/** The zones machines are spread over. MAAS always has "default", and the MaasCluster offers every zone as a failure domain. */
const ZONES = ["default", "zone-a", "zone-b"] as const;

/**
 * Machines round-robin over every zone, each tagged for both roles: Cluster API may
 * place a control-plane machine in any failure domain the MaasCluster offers, so every
 * zone must hold machines that fit (a zone without them leaves the Machine waiting for
 * capacity), and any free machine may serve either pool.
 */
export function sandboxInventory(options: Pick<SandboxOptions, "machines" | "machineMemoryGiB">): Inventory {
  return {
    zones: ZONES.filter((z) => z !== "default").map((name) => ({ name })),
    domains: [{ name: MAAS_NAMES.dnsDomain, ttl: 30, authoritative: true, default: true }],
    tags: [{ name: MAAS_NAMES.controlPlaneTag }, { name: MAAS_NAMES.workerTag }],
    bootResources: [{ name: MAAS_NAMES.image }, { name: "ubuntu/noble" }],
    machines: Array.from({ length: options.machines }, (_, i) => ({
      hostname: `maas-${String(i + 1).padStart(2, "0")}`,
      cpuCount: 8,
      memoryMiB: options.machineMemoryGiB * 1024,
      zone: ZONES[i % ZONES.length] ?? "default",
      pool: MAAS_NAMES.pool,
      tags: [MAAS_NAMES.controlPlaneTag, MAAS_NAMES.workerTag],
    })),
  };
}

/**
 * A loopback /16, so what a booted machine serves on its address is reachable from this
 * host; random, so two sandboxes (or a sandbox and a test run) on one host rarely share
 * machine addresses and ports.
 */
export function sandboxSubnet(): string {
  return `127.${String(randomInt(20, 250))}.0.0/16`;
}

export interface SandboxBoot {
  /** Holds etcd, kube-apiserver and kubelet-stub: the control plane's bin directory. */
  binDir: string;
  /** The machines' files, certificates and process logs; inside the sandbox directory, so removed with it. */
  dir: string;
}

export function startSandboxMaas(options: SandboxOptions, boot: SandboxBoot, logger: Logger): Promise<RunningSimulator> {
  return startSimulator({
    port: 0,
    subnet: sandboxSubnet(),
    dnsProxyPort: 0,
    boot: { binDir: boot.binDir, dir: boot.dir },
    seed: 1,
    maasVersion: SANDBOX_MAAS_VERSION,
    deploySeconds: options.deploySeconds,
    releaseSeconds: Math.min(options.deploySeconds, 2),
    inventory: sandboxInventory(options),
    logger,
  });
}
