// Where hack/testenv/build.sh put the binaries and CAPI CRDs. Its
// .cache/testenv/current.json is the one source of truth; when it or a binary
// is missing, build.sh core runs first, so a fresh checkout just works (the
// first time takes minutes: kube-apiserver is built from source).
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const currentPath = join(repoRoot, ".cache", "testenv", "current.json");
const buildScript = join(repoRoot, "hack", "testenv", "build.sh");

export interface TestEnvVersions {
  kubernetes: string;
  etcd: string;
  clusterApi: string;
}

export interface TestEnvBinaries {
  binDir: string;
  /** CAPI's CRDs: core, kubeadm bootstrap, kubeadm control plane. */
  capiCrdDir: string;
  versions: TestEnvVersions;
  kubeApiServer: string;
  etcd: string;
  kubectl: string;
  /** Serves kubelet port-forward for emulated machines (src/sim/boot). */
  kubeletStub: string;
  /** Present after `make testenv` (build.sh all), for end-to-end tests. */
  capi?: CapiBinaries;
}

export interface CapiBinaries {
  clusterctl: string;
  coreManager: string;
  kubeadmBootstrapManager: string;
  kubeadmControlPlaneManager: string;
}

interface CurrentJson {
  binDir: string;
  crdDir: string;
  versions: TestEnvVersions;
}

let located: Promise<TestEnvBinaries> | undefined;

/** Finds the core binaries, building them once per process if absent; the CAPI ones only if built. */
export function locateBinaries(log: (line: string) => void = () => undefined): Promise<TestEnvBinaries> {
  located ??= locate(log).catch((err: unknown) => {
    located = undefined;
    throw err;
  });
  return located;
}

async function locate(log: (line: string) => void): Promise<TestEnvBinaries> {
  const found = readCurrent();
  if (found) return found;
  log(`binaries missing; running ${buildScript} core (a cold build takes several minutes)`);
  await runBuild(log);
  const built = readCurrent();
  if (!built) throw new Error(`${buildScript} core finished but ${currentPath} does not list the binaries`);
  return built;
}

function readCurrent(): TestEnvBinaries | undefined {
  if (!existsSync(currentPath)) return undefined;
  const current = JSON.parse(readFileSync(currentPath, "utf8")) as CurrentJson;
  const binaries: TestEnvBinaries = {
    binDir: current.binDir,
    capiCrdDir: current.crdDir,
    versions: current.versions,
    kubeApiServer: join(current.binDir, "kube-apiserver"),
    etcd: join(current.binDir, "etcd"),
    kubectl: join(current.binDir, "kubectl"),
    kubeletStub: join(current.binDir, "kubelet-stub"),
  };
  const capi: CapiBinaries = {
    clusterctl: join(current.binDir, "clusterctl"),
    coreManager: join(current.binDir, "cluster-api-controller"),
    kubeadmBootstrapManager: join(current.binDir, "kubeadm-bootstrap-controller"),
    kubeadmControlPlaneManager: join(current.binDir, "kubeadm-control-plane-controller"),
  };
  if (Object.values(capi).every((path) => existsSync(path))) binaries.capi = capi;
  const needed = [binaries.kubeApiServer, binaries.etcd, binaries.kubectl, binaries.kubeletStub, join(current.crdDir, ".complete")];
  return needed.every((path) => existsSync(path)) ? binaries : undefined;
}

function runBuild(log: (line: string) => void): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const build = spawn(buildScript, ["core"], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
    let tail = "";
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString("utf8");
      tail = (tail + text).slice(-4000);
      for (const line of text.split("\n")) if (line.trim() !== "") log(line.replace(/^\[testenv\] /, ""));
    };
    build.stdout.on("data", onData);
    build.stderr.on("data", onData);
    build.once("error", reject);
    build.once("exit", (code) => {
      if (code === 0) resolvePromise();
      else reject(new Error(`${buildScript} core exited with ${String(code)}:\n${tail}`));
    });
  });
}
