// The local control plane for tests: a real etcd and kube-apiserver built from
// source by hack/testenv/build.sh, started per test file (startTestEnv) or once
// per run (with-testenv.ts + useSharedTestEnv), with CAPI's and our CRDs
// installed. Every child is tied to this process, so none outlives a run.
export { startTestEnv } from "./test-env.ts";
export type { SecondApiServer, StartTestEnvOptions, TestEnv, TestEnvHandle } from "./test-env.ts";
export { useSharedTestEnv, sharedKubeconfigEnv } from "./shared.ts";
export type { KubectlOptions, KubectlResult } from "./kubectl.ts";
export { locateBinaries } from "./binaries.ts";
export type { CapiBinaries, TestEnvBinaries, TestEnvVersions } from "./binaries.ts";
