// The binaries the sandbox runs: the control plane's (kube-apiserver, etcd, kubectl), the
// booted machines' (etcd, kube-apiserver, kubelet-stub) and Cluster API's (clusterctl, the core and kubeadm managers). `make testenv` builds them
// all; when .cache/testenv/current.json lacks one, hack/testenv/build.sh all runs first,
// as `make test` would have (a cold build takes minutes).
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { locateBinaries, repoRoot, type CapiBinaries, type TestEnvBinaries } from "../../test/testenv/binaries.ts";

const NEEDED = ["kube-apiserver", "etcd", "kubectl", "kubelet-stub", "clusterctl", "cluster-api-controller", "kubeadm-bootstrap-controller", "kubeadm-control-plane-controller"];

function allBuilt(): boolean {
  const current = join(repoRoot, ".cache", "testenv", "current.json");
  if (!existsSync(current)) return false;
  const { binDir } = JSON.parse(readFileSync(current, "utf8")) as { binDir: string };
  return NEEDED.every((name) => existsSync(join(binDir, name)));
}

function buildAll(log: (line: string) => void): Promise<void> {
  const script = join(repoRoot, "hack", "testenv", "build.sh");
  log(`building the control plane and Cluster API binaries: ${script} all (a cold build takes several minutes)`);
  return new Promise((resolve, reject) => {
    const build = spawn(script, ["all"], { cwd: repoRoot, stdio: ["ignore", "inherit", "inherit"] });
    build.once("error", reject);
    build.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${script} all exited with ${String(code)}; run make testenv to see why`))));
  });
}

export async function sandboxBinaries(log: (line: string) => void): Promise<TestEnvBinaries & { capi: CapiBinaries }> {
  if (!allBuilt()) await buildAll(log);
  const binaries = await locateBinaries(log);
  const capi = binaries.capi;
  if (capi === undefined) throw new Error("the Cluster API binaries are missing after the build: run make testenv");
  return { ...binaries, capi };
}
