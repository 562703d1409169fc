// The processes of one booted control-plane machine: etcd, kube-apiserver and a
// kubelet stub that answers port-forward, each started from a binary directory
// (hack/testenv/build.sh's bin directory) and bound to the machine's own
// address, so every machine keeps the standard ports (2379/2380, 6443, 10250).
// The flags are kubeadm's (k8s.io/kubernetes v1.34.2 cmd/kubeadm/app/phases:
// etcd/local.go getEtcdCommand, controlplane/manifests.go getAPIServerCommand),
// with the certificate file names of cmd/kubeadm/app/constants/constants.go under
// certificatesDir, and extraArgs merged as kubeadmutil.ArgumentsToCommand does.
// Where emulation must differ (every machine shares the host's 127.0.0.1), the
// comment at that flag says so.
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { BootChild } from "./child-process.ts";
import { waitUntilReady, type TlsProbe } from "./readiness.ts";

/** A command-line argument, as kubeadm v1beta4 `extraArgs` hold them. */
export interface Arg {
  name: string;
  value: string;
}

export interface ClientCertFiles {
  certFile: string;
  keyFile: string;
}

export interface EtcdMember {
  name: string;
  peerUrl: string;
}

export type ProcessName = "etcd" | "kube-apiserver" | "kubelet-stub";

export interface MachineProcessesOptions {
  /** The machine's name in errors ("etcd of machine node-1"). */
  machine: string;
  /** Holds the etcd, kube-apiserver and kubelet-stub binaries. */
  binDir: string;
  /** Each process writes <name>.log here; it is also their working directory. */
  logDir: string;
  /** Between SIGTERM and SIGKILL when stopping; default 10 s. */
  stopGraceMs?: number;
}

export interface EtcdSpec {
  /** The member name; kubeadm uses the Node name, and KubeadmControlPlane matches members to Nodes by it. */
  name: string;
  /** The machine's address: the client and peer URLs are on it. */
  address: string;
  clientPort?: number;
  peerPort?: number;
  dataDir: string;
  /** kubeadm's PKI directory: etcd/ca.crt, etcd/server.{crt,key}, etcd/peer.{crt,key}. */
  certificatesDir: string;
  /** Every member including this one (kubeadm join: state "existing"); absent, a new cluster of this member alone (kubeadm init). */
  initialCluster?: readonly EtcdMember[];
  /** ClusterConfiguration etcd.local.extraArgs. */
  extraArgs?: readonly Arg[];
  /** "ready" (default): /readyz, a voting member that reads through consensus. "live": /livez, which a learner still catching up passes. */
  waitFor?: "ready" | "live";
  /** A client certificate of the etcd CA for the readiness probe; default kubeadm's apiserver-etcd-client. */
  probeClient?: ClientCertFiles;
  readyTimeoutMs?: number;
}

export interface ApiServerSpec {
  /** The machine's address: advertised and bound. */
  address: string;
  /** localAPIEndpoint.bindPort; default 6443. */
  bindPort?: number;
  /** kubeadm's PKI directory: ca.crt, apiserver.*, apiserver-kubelet-client.*, front-proxy-*, sa.*, and for local etcd etcd/ca.crt and apiserver-etcd-client.*. */
  certificatesDir: string;
  /** networking.serviceSubnet. */
  serviceSubnet: string;
  /** networking.dnsDomain. */
  dnsDomain: string;
  /** etcd.external; absent, the machine's own member at https://<address>:2379 with kubeadm's client certificate. */
  externalEtcd?: { endpoints: readonly string[]; caFile?: string; certFile?: string; keyFile?: string };
  /** apiServer.extraArgs. */
  extraArgs?: readonly Arg[];
  /** A client certificate of the cluster CA allowed to read /readyz (the admin's, group system:masters). */
  probeClient: ClientCertFiles;
  readyTimeoutMs?: number;
}

export interface KubeletStubSpec {
  /** The machine's address (the Node's InternalIP): served on, and every forwarded port is dialled on it. */
  address: string;
  /** node.status.daemonEndpoints.kubeletEndpoint.Port; default 10250. */
  port?: number;
  /** The kubelet's serving certificate and key. */
  certFile: string;
  keyFile: string;
  /** When set, port-forward needs a client certificate this CA signed (kubelet x509 authentication, kubeadm: ca.crt). */
  clientCaFile?: string;
  readyTimeoutMs?: number;
}

// cmd/kubeadm/app/constants/constants.go
export const KUBEADM_PKI = {
  ca: "ca.crt",
  apiServerCert: "apiserver.crt",
  apiServerKey: "apiserver.key",
  apiServerKubeletClientCert: "apiserver-kubelet-client.crt",
  apiServerKubeletClientKey: "apiserver-kubelet-client.key",
  apiServerEtcdClientCert: "apiserver-etcd-client.crt",
  apiServerEtcdClientKey: "apiserver-etcd-client.key",
  frontProxyCa: "front-proxy-ca.crt",
  frontProxyClientCert: "front-proxy-client.crt",
  frontProxyClientKey: "front-proxy-client.key",
  serviceAccountPub: "sa.pub",
  serviceAccountKey: "sa.key",
  etcdCa: "etcd/ca.crt",
  etcdServerCert: "etcd/server.crt",
  etcdServerKey: "etcd/server.key",
  etcdPeerCert: "etcd/peer.crt",
  etcdPeerKey: "etcd/peer.key",
} as const;

// kubeadm's EtcdListenClientPort, EtcdListenPeerPort, KubeAPIServerPort and the kubelet's port.
const ETCD_CLIENT_PORT = 2379;
const ETCD_PEER_PORT = 2380;
const API_SERVER_PORT = 6443;
const KUBELET_PORT = 10250;

/**
 * kubeadmutil.ArgumentsToCommand: an override replaces every base argument of
 * its name (repeated names allowed), then all are sorted by name, then value.
 */
export function kubeadmArgs(base: readonly Arg[], overrides: readonly Arg[] = []): string[] {
  const overridden = new Set(overrides.map((arg) => arg.name));
  const args = [...overrides, ...base.filter((arg) => !overridden.has(arg.name))];
  args.sort((a, b) => (a.name === b.name ? compare(a.value, b.value) : compare(a.name, b.name)));
  return args.map((arg) => `--${arg.name}=${arg.value}`);
}

// Go's string order (bytes), not the locale's.
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** https://<address>:<port>, with brackets for IPv6. */
export function httpsUrl(address: string, port: number): string {
  return `https://${address.includes(":") ? `[${address}]` : address}:${String(port)}`;
}

/** getEtcdCommand's arguments for one member. */
export function etcdArgs(spec: EtcdSpec): string[] {
  const pki = (file: string): string => join(spec.certificatesDir, file);
  const clientUrl = httpsUrl(spec.address, spec.clientPort ?? ETCD_CLIENT_PORT);
  const peerUrl = httpsUrl(spec.address, spec.peerPort ?? ETCD_PEER_PORT);
  const base: Arg[] = [
    { name: "name", value: spec.name },
    // kubeadm also listens on 127.0.0.1:2379 and serves metrics on 127.0.0.1:2381;
    // emulated machines share the host's 127.0.0.1, so they use their own address only.
    { name: "listen-client-urls", value: clientUrl },
    { name: "advertise-client-urls", value: clientUrl },
    { name: "listen-peer-urls", value: peerUrl },
    { name: "initial-advertise-peer-urls", value: peerUrl },
    { name: "data-dir", value: spec.dataDir },
    { name: "cert-file", value: pki(KUBEADM_PKI.etcdServerCert) },
    { name: "key-file", value: pki(KUBEADM_PKI.etcdServerKey) },
    { name: "trusted-ca-file", value: pki(KUBEADM_PKI.etcdCa) },
    { name: "client-cert-auth", value: "true" },
    { name: "peer-cert-file", value: pki(KUBEADM_PKI.etcdPeerCert) },
    { name: "peer-key-file", value: pki(KUBEADM_PKI.etcdPeerKey) },
    { name: "peer-trusted-ca-file", value: pki(KUBEADM_PKI.etcdCa) },
    { name: "peer-client-cert-auth", value: "true" },
    { name: "snapshot-count", value: "10000" },
    // etcd ≥ 3.6.0 (the testenv's is 3.6.16).
    { name: "feature-gates", value: "InitialCorruptCheck=true" },
    { name: "watch-progress-notify-interval", value: "5s" },
  ];
  if (spec.initialCluster === undefined || spec.initialCluster.length === 0) {
    base.push({ name: "initial-cluster", value: `${spec.name}=${peerUrl}` });
  } else {
    base.push({ name: "initial-cluster", value: spec.initialCluster.map((m) => `${m.name}=${m.peerUrl}`).join(",") });
    base.push({ name: "initial-cluster-state", value: "existing" });
  }
  return kubeadmArgs(base, spec.extraArgs);
}

/** getAPIServerCommand's arguments for one machine. */
export function apiServerArgs(spec: ApiServerSpec): string[] {
  const pki = (file: string): string => join(spec.certificatesDir, file);
  const base: Arg[] = [
    { name: "advertise-address", value: spec.address },
    // kubeadm binds every address; emulated machines share the host, so each binds its own.
    { name: "bind-address", value: spec.address },
    { name: "enable-admission-plugins", value: "NodeRestriction" },
    { name: "service-cluster-ip-range", value: spec.serviceSubnet },
    { name: "service-account-key-file", value: pki(KUBEADM_PKI.serviceAccountPub) },
    { name: "service-account-signing-key-file", value: pki(KUBEADM_PKI.serviceAccountKey) },
    { name: "service-account-issuer", value: `https://kubernetes.default.svc.${spec.dnsDomain}` },
    { name: "client-ca-file", value: pki(KUBEADM_PKI.ca) },
    { name: "tls-cert-file", value: pki(KUBEADM_PKI.apiServerCert) },
    { name: "tls-private-key-file", value: pki(KUBEADM_PKI.apiServerKey) },
    { name: "kubelet-client-certificate", value: pki(KUBEADM_PKI.apiServerKubeletClientCert) },
    { name: "kubelet-client-key", value: pki(KUBEADM_PKI.apiServerKubeletClientKey) },
    { name: "enable-bootstrap-token-auth", value: "true" },
    { name: "secure-port", value: String(spec.bindPort ?? API_SERVER_PORT) },
    { name: "allow-privileged", value: "true" },
    { name: "kubelet-preferred-address-types", value: "InternalIP,ExternalIP,Hostname" },
    { name: "requestheader-username-headers", value: "X-Remote-User" },
    { name: "requestheader-group-headers", value: "X-Remote-Group" },
    { name: "requestheader-extra-headers-prefix", value: "X-Remote-Extra-" },
    { name: "requestheader-client-ca-file", value: pki(KUBEADM_PKI.frontProxyCa) },
    { name: "requestheader-allowed-names", value: "front-proxy-client" },
    { name: "proxy-client-cert-file", value: pki(KUBEADM_PKI.frontProxyClientCert) },
    { name: "proxy-client-key-file", value: pki(KUBEADM_PKI.frontProxyClientKey) },
  ];
  const external = spec.externalEtcd;
  if (external !== undefined) {
    base.push({ name: "etcd-servers", value: external.endpoints.join(",") });
    if (external.caFile) base.push({ name: "etcd-cafile", value: external.caFile });
    if (external.certFile && external.keyFile) {
      base.push({ name: "etcd-certfile", value: external.certFile }, { name: "etcd-keyfile", value: external.keyFile });
    }
  } else {
    // kubeadm points at https://127.0.0.1:2379, where its member also listens; here the member is on the machine's address.
    base.push(
      { name: "etcd-servers", value: httpsUrl(spec.address, ETCD_CLIENT_PORT) },
      { name: "etcd-cafile", value: pki(KUBEADM_PKI.etcdCa) },
      { name: "etcd-certfile", value: pki(KUBEADM_PKI.apiServerEtcdClientCert) },
      { name: "etcd-keyfile", value: pki(KUBEADM_PKI.apiServerEtcdClientKey) },
    );
  }
  // Node,RBAC unless a structured authorization config is given; an authorization-mode
  // in extraArgs then replaces it in the merge (getAuthzModes' answer is overridden too).
  if (!(spec.extraArgs ?? []).some((arg) => arg.name === "authorization-config")) {
    base.push({ name: "authorization-mode", value: "Node,RBAC" });
  }
  return kubeadmArgs(base, spec.extraArgs);
}

/** The kubelet stub's flags (hack/testenv/kube/cmd/kubelet-stub). */
export function kubeletStubArgs(spec: KubeletStubSpec): string[] {
  const args = [
    `--address=${spec.address}`,
    `--port=${String(spec.port ?? KUBELET_PORT)}`,
    `--tls-cert-file=${spec.certFile}`,
    `--tls-private-key-file=${spec.keyFile}`,
    `--target-host=${spec.address}`,
  ];
  if (spec.clientCaFile !== undefined) args.push(`--client-ca-file=${spec.clientCaFile}`);
  return args;
}

/** Starts and stops the processes of one machine, each at most once at a time. */
export class MachineProcesses {
  private readonly options: MachineProcessesOptions;
  private readonly children = new Map<ProcessName, BootChild>();

  constructor(options: MachineProcessesOptions) {
    this.options = options;
  }

  /** Starts etcd and waits until /readyz (or /livez) answers over mutual TLS. */
  async startEtcd(spec: EtcdSpec): Promise<BootChild> {
    const probeClient = spec.probeClient ?? {
      certFile: join(spec.certificatesDir, KUBEADM_PKI.apiServerEtcdClientCert),
      keyFile: join(spec.certificatesDir, KUBEADM_PKI.apiServerEtcdClientKey),
    };
    const probe: TlsProbe = {
      url: `${httpsUrl(spec.address, spec.clientPort ?? ETCD_CLIENT_PORT)}/${spec.waitFor === "live" ? "livez" : "readyz"}`,
      caPem: await readPem(join(spec.certificatesDir, KUBEADM_PKI.etcdCa), "etcd CA"),
      ...(await clientPems(probeClient, "etcd readiness probe")),
    };
    return this.start("etcd", etcdArgs(spec), probe, spec.readyTimeoutMs ?? 60_000);
  }

  /** Starts kube-apiserver and waits until /readyz answers to probeClient. */
  async startApiServer(spec: ApiServerSpec): Promise<BootChild> {
    const probe: TlsProbe = {
      url: `${httpsUrl(spec.address, spec.bindPort ?? API_SERVER_PORT)}/readyz`,
      caPem: await readPem(join(spec.certificatesDir, KUBEADM_PKI.ca), "cluster CA"),
      ...(await clientPems(spec.probeClient, "kube-apiserver readiness probe")),
    };
    return this.start("kube-apiserver", apiServerArgs(spec), probe, spec.readyTimeoutMs ?? 120_000);
  }

  /** Starts the kubelet stub and waits until /healthz answers. */
  async startKubeletStub(spec: KubeletStubSpec): Promise<BootChild> {
    // The kubelet's serving certificate is its own (self-signed unless serverTLSBootstrap), so it is not verified.
    const probe: TlsProbe = { url: `${httpsUrl(spec.address, spec.port ?? KUBELET_PORT)}/healthz`, bodyIncludes: "ok" };
    return this.start("kubelet-stub", kubeletStubArgs(spec), probe, spec.readyTimeoutMs ?? 30_000);
  }

  /** The running process of that name, if any. */
  get(name: ProcessName): BootChild | undefined {
    const child = this.children.get(name);
    return child?.exitStatus === undefined ? child : undefined;
  }

  /** Stops one process (SIGTERM, then SIGKILL after the grace); nothing if it is not running. */
  async stop(name: ProcessName): Promise<void> {
    const child = this.children.get(name);
    if (child === undefined) return;
    this.children.delete(name);
    await child.stop(this.options.stopGraceMs ?? 10_000);
  }

  /** Stops the kubelet stub, then kube-apiserver, then etcd, as a machine shutting down would lose them. */
  async stopAll(): Promise<void> {
    for (const name of ["kubelet-stub", "kube-apiserver", "etcd"] as const) await this.stop(name);
  }

  private async start(name: ProcessName, args: string[], probe: TlsProbe, readyTimeoutMs: number): Promise<BootChild> {
    const label = `${name} of machine ${this.options.machine}`;
    const running = this.get(name);
    if (running !== undefined) throw new Error(`${label} is already running (pid ${String(running.pid)})`);
    const command = join(this.options.binDir, name);
    if (!existsSync(command)) {
      throw new Error(`${label}: ${command} does not exist; the binary directory must hold ${name} (hack/testenv/build.sh core builds it)`);
    }
    await mkdir(this.options.logDir, { recursive: true });
    const child = new BootChild({ label, command, args, logPath: join(this.options.logDir, `${name}.log`), cwd: this.options.logDir });
    this.children.set(name, child);
    try {
      await waitUntilReady(child, probe, readyTimeoutMs);
      return child;
    } catch (err) {
      this.children.delete(name);
      await child.stop(this.options.stopGraceMs ?? 10_000);
      throw err;
    }
  }
}

async function readPem(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new Error(`cannot read the ${what} at ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

async function clientPems(files: ClientCertFiles, what: string): Promise<{ clientCertPem: string; clientKeyPem: string }> {
  return {
    clientCertPem: await readPem(files.certFile, `${what}'s client certificate`),
    clientKeyPem: await readPem(files.keyFile, `${what}'s client key`),
  };
}
