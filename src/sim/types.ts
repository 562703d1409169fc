// Public types of the simulator: options, the running handle, inventory, state,
// faults and the request log. Re-exported from index.ts.
import type { Clock } from "../clock/index.ts";
import type { Logger } from "../observability/index.ts";
import type { BootState } from "./boot/boot.ts";

export type FaultKind = "latency" | "unavailable" | "reset" | "timeout";

/** One fault-injection rule, matched against each MAAS API request. */
export interface FaultRule {
  /** HTTP method, e.g. "POST"; any when absent. */
  method?: string;
  /** Regex tested against the path below /MAAS/api/2.0, e.g. "^/machines/$". */
  path?: string;
  /** Operation, e.g. "allocate". */
  op?: string;
  kind: FaultKind;
  /** latency: delay then serve normally; timeout: hold this long (default one hour), then drop the connection. */
  latencyMs?: number;
  /** unavailable: 503 text/plain with this Retry-After. */
  retryAfterSeconds?: number;
  /** 0..1, default 1, drawn from the seeded generator. */
  probability?: number;
  /** Fire at most this many times; unlimited when absent. */
  times?: number;
}

export interface RequestLogEntry {
  /** 1, 2, 3… in arrival order. */
  seq: number;
  /** ISO time from the simulator clock. */
  time: string;
  method: string;
  /** Full request path, e.g. /MAAS/api/2.0/machines/abc123/. */
  path: string;
  op: string | null;
  /** Query and form parameters as decoded (op and oauth_* left out); repeated keys are arrays. */
  params: Record<string, string | string[]>;
  /** Response status; null when a fault reset or held the connection. */
  status: number | null;
  fault: FaultKind | null;
  /** Authenticated username, or null. */
  user: string | null;
}

export interface InventoryMachine {
  hostname?: string;
  systemId?: string;
  cpuCount?: number;
  cpuSpeedMhz?: number;
  memoryMiB?: number;
  /**
   * Disks in decimal GB, the first holding the root filesystem; [] makes a diskless
   * machine. Default: one 500 GB disk. `tags` are the block device's tags that MAAS's
   * storage constraint matches, e.g. ["ssd"] (the default) or ["rotary", "7200rpm"].
   */
  disks?: Array<{ name?: string; sizeGB: number; model?: string; tags?: string[] }>;
  architecture?: string;
  zone?: string;
  pool?: string;
  domain?: string;
  tags?: string[];
  powerType?: string;
  /** One-word status (ready, new, broken, allocated, deployed, …); default ready. */
  status?: string;
  owner?: string;
  osystem?: string;
  distroSeries?: string;
  /** Address the boot interface gets when deployed. */
  ip?: string;
  macAddress?: string;
  description?: string;
  locked?: boolean;
  deploySeconds?: number;
  releaseSeconds?: number;
  failDeployment?: boolean;
}

export interface InventoryBootResource {
  /** "ubuntu/jammy", "centos/centos8-stream", "custom/rhel9" */
  name: string;
  /** Default "amd64/generic". */
  architecture?: string;
  /** Default "synced" for ubuntu/*, else "uploaded". */
  type?: "synced" | "uploaded";
  /** squashfs, root-tgz, root-txz, root-tbz, root-dd, ddgz, ddraw, … Default squashfs (synced) / root-tgz (uploaded). */
  filetype?: string;
  title?: string;
  /** e.g. "22.04" for ubuntu/jammy. */
  alias?: string;
}

export interface InventoryGenerate {
  count: number;
  cpuCounts?: number[];
  memoryMiB?: number[];
  diskGB?: number[];
  zones?: string[];
  pools?: string[];
  tags?: string[];
}

/** A MAAS to simulate: what exists at start. Every list is optional. */
export interface Inventory {
  zones?: Array<{ name: string; description?: string }>;
  pools?: Array<{ name: string; description?: string }>;
  domains?: Array<{ name: string; ttl?: number | null; authoritative?: boolean; default?: boolean }>;
  tags?: Array<{ name: string; comment?: string; definition?: string; kernelOpts?: string }>;
  bootResources?: InventoryBootResource[];
  /** Used when deploy has no distro_series (MAAS Config default_distro_series). Default "jammy". */
  defaultDistroSeries?: string;
  /** The network machines boot on. Default 10.20.0.0/16, gateway .0.1. */
  subnet?: { cidr: string; gateway?: string };
  /** Extra API users (the admin from apiKey always exists). */
  users?: Array<{ username: string; apiKey: string; admin?: boolean }>;
  machines?: InventoryMachine[];
  generate?: InventoryGenerate;
}

export interface SimZone {
  id: number;
  name: string;
  description: string;
}

export type SimPool = SimZone;

export interface SimDomain {
  id: number;
  name: string;
  ttl: number | null;
  authoritative: boolean;
  isDefault: boolean;
}

export interface SimTag {
  name: string;
  definition: string;
  comment: string;
  kernelOpts: string;
}

export interface SimBootResource {
  id: number;
  type: "Synced" | "Uploaded";
  name: string;
  architecture: string;
  filetype: string;
  title: string;
  alias: string | null;
}

export interface SimDnsResource {
  id: number;
  name: string;
  domainId: number;
  addressTtl: number | null;
  ipAddresses: string[];
  /** When the addresses were reserved, in MAAS's JSON time format (2026-01-01T00:00:00.000). */
  created: string;
}

export interface SimDisk {
  id: number;
  name: string;
  sizeBytes: number;
  model: string;
  serial: string;
  partitionId: number;
  /** Block device tags; absent (state files from before disks had tags) means ["ssd"]. */
  tags?: string[];
}

/** A transition the lifecycle will apply at dueAtMs (simulator clock). */
export interface PendingTransition {
  kind: "deploy" | "release" | "erase";
  dueAtMs: number;
  /** deploy only: decided at deploy start (failDeployment knob or deployFailureRate). */
  fail?: boolean;
}

export interface SimMachine {
  systemId: string;
  hostname: string;
  domainId: number;
  description: string;
  architecture: string;
  cpuCount: number;
  cpuSpeedMhz: number;
  memoryMiB: number;
  disks: SimDisk[];
  zoneId: number;
  poolId: number;
  tags: string[];
  powerType: string;
  powerState: "on" | "off" | "unknown" | "error";
  status: number;
  statusMessage: string;
  owner: string | null;
  agentName: string;
  osystem: string;
  distroSeries: string;
  hweKernel: string | null;
  ephemeralDeploy: boolean;
  enableHwSync: boolean;
  installKvm: boolean;
  registerVmhost: boolean;
  /** user_data exactly as sent with deploy or power_on. */
  userData: string | null;
  locked: boolean;
  netboot: boolean;
  swapSize: number | null;
  ownerData: Record<string, string>;
  interfaceId: number;
  macAddress: string;
  /** The address the boot interface holds while deployed. */
  deployIp: string;
  ipAddresses: string[];
  installationResultId: number | null;
  /** What is written on the disks: "ubuntu/jammy" after a disk deploy; null when blank or erased. */
  osOnDisk: string | null;
  deploySeconds: number | null;
  releaseSeconds: number | null;
  failDeployment: boolean;
  pending: PendingTransition | null;
}

export interface SimUser {
  username: string;
  email: string;
  admin: boolean;
}

/** Everything the simulator holds (no secrets): GET /_sim/state and state(). */
export interface SimulatorState {
  maasVersion: string;
  users: SimUser[];
  zones: SimZone[];
  pools: SimPool[];
  domains: SimDomain[];
  tags: SimTag[];
  bootResources: SimBootResource[];
  dnsResources: SimDnsResource[];
  machines: SimMachine[];
  defaultDistroSeries: string;
  subnet: { cidr: string; gateway: string };
}

export interface SimulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** consumer_key:token_key:token_secret of the admin user; generated when absent. */
  apiKey?: string;
  /** Default "3.6.0". */
  maasVersion?: string;
  /** Machines to generate when the inventory lists none. Default 10. */
  machines?: number;
  inventory?: Inventory;
  /** YAML or JSON inventory file (ignored when inventory is given). */
  inventoryFile?: string;
  /**
   * The network deployed machines get addresses from, as the inventory's subnet.cidr
   * (which must then be absent), e.g. "127.10.0.0/16": loopback addresses, so that what
   * a booted machine serves on its address is reachable from this host. Default
   * 10.20.0.0/16; a state file keeps the subnet it was made with.
   */
  subnet?: string;
  /** Deploying → Deployed delay. Default 5. */
  deploySeconds?: number;
  /** Releasing / Disk erasing → Ready delay. Default 2. */
  releaseSeconds?: number;
  /** Seeds inventory generation, faults and deployment failures. Default 1. */
  seed?: number;
  clock?: Clock;
  /**
   * Loaded at start when present. Every answer waits until the changes made so far
   * are written and fsynced there (as MAAS commits before it answers).
   */
  stateFile?: string;
  /** Time allowed to receive a whole request, headers and body; then 408 and the connection closes. Default 60 000. */
  requestTimeoutMs?: number;
  /** Largest request body; a bigger one gets 413 at once and the connection closes. Default 10 MiB (MAAS's nginx). */
  maxBodyBytes?: number;
  /**
   * Open connections at most; past it the oldest idle connection is closed, or the new
   * one when none is idle. Default 768 per CPU (MAAS's nginx: worker_connections 768,
   * one worker per CPU).
   */
  maxConnections?: number;
  faults?: FaultRule[];
  /**
   * An HTTP CONNECT proxy on this port (0: a free one) that resolves MAAS DNS names from
   * the simulator's records (dns-proxy.ts), for HTTPS_PROXY; off when absent.
   */
  dnsProxyPort?: number;
  /** Boot deployed machines whose user data runs kubeadm (the boot stage, boot/boot.ts); off when absent. */
  boot?: BootOptions;
  /** 0..1: share of deployments that end in Failed deployment. Default 0. */
  deployFailureRate?: number;
  logger?: Logger;
}

export interface BootOptions {
  /** Directory holding the etcd, kube-apiserver and kubelet-stub binaries (hack/testenv/build.sh core builds them). */
  binDir: string;
  /** Where each machine's files, certificates, etcd data and process logs go (machines/<system_id>/); kept. Default: a new temporary directory, removed on close. */
  dir?: string;
  /** Control-plane machines (an etcd and a kube-apiserver each) booting or running at once, at most. Default 3. */
  maxControlPlanes?: number;
}

export interface RunningSimulator {
  /** e.g. http://127.0.0.1:5240/MAAS */
  endpoint: string;
  apiKey: string;
  port: number;
  /** e.g. http://127.0.0.1:5240/_sim */
  adminUrl: string;
  setFaults(rules: FaultRule[], seed?: number): void;
  clearFaults(): void;
  requestLog(): RequestLogEntry[];
  clearRequestLog(): void;
  state(): SimulatorState;
  /** Booted machines and their clusters (GET /_sim/boot); null when booting is off. */
  bootState(): BootState | null;
  /** The DNS proxy's URL (http://host:port), for HTTPS_PROXY; null when dnsProxyPort was not given. */
  dnsProxyUrl: string | null;
  close(): Promise<void>;
}
