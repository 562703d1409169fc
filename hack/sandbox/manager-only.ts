// `make run` with KUBECONFIG, MAAS_ENDPOINT and MAAS_API_KEY set: only the provider's
// manager, against that cluster and that MAAS, in the foreground. Ctrl-C reaches the
// manager from the terminal; a SIGTERM sent to this process alone is passed on.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "../../test/testenv/binaries.ts";

export function wantsManagerOnly(env: NodeJS.ProcessEnv): boolean {
  return [env.KUBECONFIG, env.MAAS_ENDPOINT, env.MAAS_API_KEY].every((v) => v !== undefined && v.trim() !== "");
}

/** Runs bin/capmaas-manager.mjs with these arguments; resolves with its exit code. */
export function runManagerOnly(args: readonly string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot, "bin", "capmaas-manager.mjs"), ...args], { stdio: "inherit" });
    const forward = (signal: NodeJS.Signals): void => {
      if (child.exitCode === null) child.kill(signal);
    };
    process.on("SIGINT", forward);
    process.on("SIGTERM", forward);
    child.once("error", (err) => {
      process.stderr.write(`capmaas sandbox: cannot start the manager: ${err.message}\n`);
      resolve(1);
    });
    child.once("exit", (code, signal) => {
      process.off("SIGINT", forward);
      process.off("SIGTERM", forward);
      resolve(code ?? (signal === "SIGINT" || signal === "SIGTERM" ? 0 : 1));
    });
  });
}
