// The control plane a test file should use. Under `make test-integration`,
// with-testenv.ts starts one for the whole run and passes its kubeconfig in
// TESTENV_KUBECONFIG; a test file run on its own starts a private one.
import { dirname } from "node:path";
import { locateBinaries } from "./binaries.ts";
import { loadKubeConfig, serverOf } from "./kubeconfig.ts";
import { runKubectl } from "./kubectl.ts";
import { managerKubeconfigPathIn, startTestEnv } from "./test-env.ts";
import type { StartTestEnvOptions, TestEnvHandle } from "./test-env.ts";

export const sharedKubeconfigEnv = "TESTENV_KUBECONFIG";

/**
 * Call in before(); call stop() on the result in after(). stop() is a no-op
 * for the shared control plane, which with-testenv.ts owns. Tests sharing one
 * control plane must not assume an empty cluster: use a namespace per test.
 */
export async function useSharedTestEnv(options: StartTestEnvOptions = {}): Promise<TestEnvHandle> {
  const kubeconfigPath = process.env[sharedKubeconfigEnv];
  if (!kubeconfigPath) return startTestEnv(options);
  const server = await serverOf(kubeconfigPath);
  return {
    kubeconfigPath,
    managerKubeconfigPath: managerKubeconfigPathIn(dirname(kubeconfigPath)),
    server,
    kubeConfig: () => loadKubeConfig(kubeconfigPath),
    kubectl: async (args, kubectlOptions) => {
      const binaries = await locateBinaries(options.log ?? (() => undefined));
      return runKubectl(binaries.kubectl, kubeconfigPath, args, kubectlOptions);
    },
    stop: () => Promise.resolve(),
  };
}
