// `with-testenv.ts -- <command…>`: one control plane for a whole test run.
// The command sees TESTENV_KUBECONFIG (read by useSharedTestEnv) and
// KUBECONFIG; its exit code becomes ours, and the control plane goes away
// however the command ends.
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { sharedKubeconfigEnv } from "./shared.ts";
import { startTestEnv } from "./test-env.ts";

const log = (line: string): void => {
  process.stderr.write(`[testenv] ${line}\n`);
};

async function main(argv: string[]): Promise<number> {
  const separator = argv.indexOf("--");
  const command = separator >= 0 ? argv.slice(separator + 1) : argv;
  const [file, ...args] = command;
  if (file === undefined) {
    log("usage: with-testenv.ts -- <command> [args…]");
    return 2;
  }
  // Registered before the control plane starts, so a Ctrl-C during start-up
  // is ours to handle (stop, then exit) rather than a hard kill.
  let interrupted: NodeJS.Signals | undefined;
  let forward: (signal: NodeJS.Signals) => void = (signal) => {
    interrupted = signal;
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => forward(signal));

  const env = await startTestEnv({ log });
  try {
    if (interrupted) return 128 + constants.signals[interrupted];
    const child = spawn(file, args, {
      stdio: "inherit",
      env: { ...process.env, [sharedKubeconfigEnv]: env.kubeconfigPath, KUBECONFIG: env.kubeconfigPath },
    });
    forward = (signal) => {
      child.kill(signal);
    };
    return await new Promise<number>((resolve) => {
      child.once("error", (err) => {
        log(`${file}: ${err.message}`);
        resolve(127);
      });
      child.once("exit", (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
    });
  } finally {
    await env.stop();
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  log(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
}
