// The built kubectl, pointed at one kubeconfig and nothing else from the
// caller's environment, so a developer's own cluster is never touched.
import { spawn } from "node:child_process";

export interface KubectlResult {
  stdout: string;
  stderr: string;
  /** Exit code; null when kubectl died of a signal. */
  code: number | null;
}

export interface KubectlOptions {
  /** Written to kubectl's stdin, e.g. for `apply -f -`. */
  input?: string;
  timeoutMs?: number;
  /** Added to kubectl's environment, e.g. HTTPS_PROXY. */
  env?: Record<string, string>;
}

export function runKubectl(binary: string, kubeconfigPath: string, args: string[], options: KubectlOptions = {}): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, {
      env: { ...process.env, ...options.env, KUBECONFIG: kubeconfigPath },
      stdio: ["pipe", "pipe", "pipe"],
      timeout: options.timeoutMs ?? 60_000,
      killSignal: "SIGKILL",
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");
    child.once("error", reject);
    child.once("close", (code) => {
      resolve({ stdout: Buffer.concat(stdout).toString("utf8"), stderr: Buffer.concat(stderr).toString("utf8"), code });
    });
  });
}
