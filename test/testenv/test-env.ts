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

  stop(): Promise<void> {
    this.stopping ??= this.teardown();
    return this.stopping;
  }

  private async teardown(): Promise<void> {
    // kube-apiserver first: without etcd it would spend its grace period retrying.
    await this.apiServer.stop(this.state.stopGraceMs);
    await this.etcd.stop(this.state.stopGraceMs);
    if (this.state.ownsDir) {
      await rm(this.dir, { recursive: true, force: true, maxRetries: 5 });
      disownDir(this.dir);
    }
  }
}
