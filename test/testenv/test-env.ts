// One private control plane: etcd + kube-apiserver in a directory of their
// own, a kubeconfig for them, and the CRDs the tests need installed.
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { locateBinaries, repoRoot } from "./binaries.ts";
import type { TestEnvBinaries, TestEnvVersions } from "./binaries.ts";
import { writeControlPlaneSecrets } from "./certs.ts";
import type { ControlPlaneSecrets } from "./certs.ts";
import { disownDir, ownDir } from "./children.ts";
import type { Child } from "./children.ts";
import { startApiServer, startApiServerOnFreePort, startEtcd } from "./control-plane.ts";
import { installCrds } from "./crds.ts";
import { loadKubeConfig, writeKubeconfig } from "./kubeconfig.ts";
import { MANAGER_USER, bindManagerClusterRole, hasGeneratedRole } from "./manager-identity.ts";
import { runKubectl } from "./kubectl.ts";
import type { KubectlOptions, KubectlResult } from "./kubectl.ts";

export interface StartTestEnvOptions {
  /** Where keys, logs, etcd data and the kubeconfig go; kept after stop(). Default: a fresh temp dir, removed by stop(). */
  dir?: string;
  /** Install the CRDs found in crdDirs. Default true. */
  installCrds?: boolean;
  /** Default: this repository's config/crd/bases when it exists, then Cluster API's CRDs. */
  crdDirs?: string[];
  /** Bind the manager's user to config/rbac/role.yaml's ClusterRole (manager-identity.ts). Default: with installCrds, when the file exists. */
  bindManagerRole?: boolean;
  /** Progress and timing lines. Default: stderr. */
  log?: (line: string) => void;
  /** How long stop() waits after SIGTERM before SIGKILL. Default 5000. */
  stopGraceMs?: number;
  /** Per process. Default 60000. */
  readyTimeoutMs?: number;
}

/** What every test needs from a control plane, private or shared. */
export interface TestEnvHandle {
  readonly kubeconfigPath: string;
  /** A kubeconfig for the manager's user, which holds only the generated role (manager-identity.ts). */
  readonly managerKubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  kubeConfig(): KubeConfig;
  kubectl(args: string[], options?: KubectlOptions): Promise<KubectlResult>;
  /** Idempotent. */
  stop(): Promise<void>;
}

export interface TestEnv extends TestEnvHandle {
  readonly dir: string;
  readonly versions: TestEnvVersions;
  readonly apiServerPid: number;
  readonly etcdPid: number;
  /** Names of the CRDs installed at start. */
  readonly crds: readonly string[];
  /** SIGKILLs kube-apiserver only and waits until it is gone; etcd keeps the data. */
  killApiServer(): Promise<void>;
  /** Starts kube-apiserver again on the same port against the same etcd, and waits for /readyz. */
  startApiServer(): Promise<void>;
  /**
   * Starts one more kube-apiserver on a port of its own against the same etcd (as in an
   * HA control plane): writes made through it while the first is down are what the
   * first serves when it is back. stop() stops it; the env's stop() does too.
   */
  startSecondApiServer(): Promise<SecondApiServer>;
}

/** A further kube-apiserver of a private control plane, with a kubeconfig of its own. */
export interface SecondApiServer {
  readonly kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  readonly pid: number;
  kubeConfig(): KubeConfig;
  /** Idempotent. */
  stop(): Promise<void>;
}

const defaultLog = (line: string): void => {
  process.stderr.write(`[testenv] ${line}\n`);
};

export async function startTestEnv(options: StartTestEnvOptions = {}): Promise<TestEnv> {
  const log = options.log ?? defaultLog;
  const started = Date.now();
  const binaries = await locateBinaries(log);
  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "testenv-")));
  if (ownsDir) ownDir(dir);
  else await mkdir(dir, { recursive: true });

  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  let etcd: Child | undefined;
  let apiServer: Child | undefined;
  try {
    const secrets = await writeControlPlaneSecrets(dir);
    const etcdStart = Date.now();
    const etcdInstance = await startEtcd(binaries.etcd, dir, readyTimeoutMs);
    etcd = etcdInstance.child;
    const apiStart = Date.now();
    const api = await startApiServerOnFreePort({
      binary: binaries.kubeApiServer, dir, etcdUrl: etcdInstance.clientUrl, secrets, readyTimeoutMs,
    });
    apiServer = api.child;
    const ready = Date.now();
    const server = `https://127.0.0.1:${String(api.port)}`;
    const kubeconfigPath = join(dir, "kubeconfig");
    const caPem = await readFile(secrets.caCertPath, "utf8");
    await writeKubeconfig({ path: kubeconfigPath, server, caPem, token: secrets.adminToken });
    await writeKubeconfig({ path: managerKubeconfigPathIn(dir), server, caPem, token: secrets.managerToken, userName: MANAGER_USER });
    log(`control plane ready in ${String(ready - started)} ms (etcd ${String(apiStart - etcdStart)} ms, kube-apiserver ${String(ready - apiStart)} ms) at ${server}`);

    let crds: string[] = [];
    if (options.installCrds ?? true) {
      const crdStart = Date.now();
      crds = await installCrds({ server, caPem, token: secrets.adminToken }, options.crdDirs ?? defaultCrdDirs(binaries));
      log(`${String(crds.length)} CRDs Established in ${String(Date.now() - crdStart)} ms`);
    }
    if (options.bindManagerRole ?? ((options.installCrds ?? true) && hasGeneratedRole())) {
      await bindManagerClusterRole({ server, caPem, token: secrets.adminToken });
    }
    return new PrivateTestEnv({
      dir, ownsDir, binaries, secrets, server, kubeconfigPath, crds, etcd, apiServer, etcdUrl: etcdInstance.clientUrl,
      port: api.port, readyTimeoutMs, stopGraceMs: options.stopGraceMs ?? 5000,
    });
  } catch (err) {
    await apiServer?.kill();
    await etcd?.kill();
    if (ownsDir) {
      await rm(dir, { recursive: true, force: true, maxRetries: 5 });
      disownDir(dir);
    }
    throw err;
  }
}

/** Where a control plane started in `dir` keeps the manager's kubeconfig (the shared one is found by this too). */
export function managerKubeconfigPathIn(dir: string): string {
  return join(dir, "manager.kubeconfig");
}

function defaultCrdDirs(binaries: TestEnvBinaries): string[] {
  const ours = join(repoRoot, "config", "crd", "bases");
  return existsSync(ours) ? [ours, binaries.capiCrdDir] : [binaries.capiCrdDir];
}

interface PrivateTestEnvState {
  dir: string;
  ownsDir: boolean;
  binaries: TestEnvBinaries;
  secrets: ControlPlaneSecrets;
  server: string;
  kubeconfigPath: string;
  crds: string[];
  etcd: Child;
  apiServer: Child;
  etcdUrl: string;
  port: number;
  readyTimeoutMs: number;
  stopGraceMs: number;
}

class PrivateTestEnv implements TestEnv {
  readonly dir: string;
  readonly server: string;
  readonly kubeconfigPath: string;
  readonly managerKubeconfigPath: string;
  readonly versions: TestEnvVersions;
  readonly crds: readonly string[];
  private apiServer: Child;
  private readonly etcd: Child;
  private readonly seconds = new Set<Child>();
  private stopping: Promise<void> | undefined;

  constructor(private readonly state: PrivateTestEnvState) {
    this.dir = state.dir;
    this.server = state.server;
    this.kubeconfigPath = state.kubeconfigPath;
    this.managerKubeconfigPath = managerKubeconfigPathIn(state.dir);
    this.versions = state.binaries.versions;
    this.crds = state.crds;
    this.apiServer = state.apiServer;
    this.etcd = state.etcd;
  }

  get apiServerPid(): number {
    return this.apiServer.pid;
  }

  get etcdPid(): number {
    return this.etcd.pid;
  }

  kubeConfig(): KubeConfig {
    return loadKubeConfig(this.kubeconfigPath);
  }

  kubectl(args: string[], options?: KubectlOptions): Promise<KubectlResult> {
    return runKubectl(this.state.binaries.kubectl, this.kubeconfigPath, args, options);
  }

  async killApiServer(): Promise<void> {
    await this.apiServer.kill();
  }

  async startApiServer(): Promise<void> {
    if (this.stopping) throw new Error("the test env is stopped");
    if (!this.apiServer.hasExited) throw new Error(`kube-apiserver is still running (pid ${String(this.apiServer.pid)}); killApiServer() first`);
    const s = this.state;
    this.apiServer = await startApiServer({
      binary: s.binaries.kubeApiServer, dir: s.dir, port: s.port, etcdUrl: s.etcdUrl, secrets: s.secrets, readyTimeoutMs: s.readyTimeoutMs,
    });
  }

  async startSecondApiServer(): Promise<SecondApiServer> {
    if (this.stopping) throw new Error("the test env is stopped");
    const s = this.state;
    // A directory of its own: its log and kubeconfig must not mix with the first one's.
    const dir = join(s.dir, `apiserver-${String(this.seconds.size + 2)}`);
    await mkdir(dir, { recursive: true });
    const { child, port } = await startApiServerOnFreePort({
      binary: s.binaries.kubeApiServer, dir, etcdUrl: s.etcdUrl, secrets: s.secrets, readyTimeoutMs: s.readyTimeoutMs,
    });
    this.seconds.add(child);
    const server = `https://127.0.0.1:${String(port)}`;
    const kubeconfigPath = join(dir, "kubeconfig");
    await writeKubeconfig({ path: kubeconfigPath, server, caPem: await readFile(s.secrets.caCertPath, "utf8"), token: s.secrets.adminToken });
    return {
      kubeconfigPath,
      server,
      pid: child.pid,
      kubeConfig: () => loadKubeConfig(kubeconfigPath),
      stop: async () => {
        await child.stop(s.stopGraceMs);
        this.seconds.delete(child);
      },
    };
  }

  stop(): Promise<void> {
    this.stopping ??= this.teardown();
    return this.stopping;
  }

  private async teardown(): Promise<void> {
    // kube-apiservers first: without etcd they would spend their grace period retrying.
    await Promise.all([...this.seconds].map((child) => child.stop(this.state.stopGraceMs)));
    await this.apiServer.stop(this.state.stopGraceMs);
    await this.etcd.stop(this.state.stopGraceMs);
    if (this.state.ownsDir) {
      await rm(this.dir, { recursive: true, force: true, maxRetries: 5 });
      disownDir(this.dir);
    }
  }
}
