// `testenv up [--dir D]`: a control plane for working by hand or from another
// tool. Prints exactly one line, KUBECONFIG=<path>, on stdout once ready (logs
// go to stderr), serves until SIGTERM or SIGINT, then tears down and exits 0.
import { parseArgs } from "node:util";
import { startTestEnv } from "./test-env.ts";

const usage = "usage: testenv up [--dir DIR] [--no-crds]";

async function up(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { dir: { type: "string" }, "no-crds": { type: "boolean", default: false } },
  });
  const log = (line: string): void => {
    process.stderr.write(`[testenv] ${line}\n`);
  };
  // Children are unreferenced so forgotten test envs cannot hang a test
  // process; here the process must stay up until told to stop.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  let stopping = false;
  const stopRequested = new Promise<NodeJS.Signals>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.on(signal, () => {
        if (stopping) {
          // A second signal: leave now; the exit handler kills the children.
          process.exit(1);
        }
        stopping = true;
        resolve(signal);
      });
    }
  });
  try {
    const env = await startTestEnv({ dir: values.dir, installCrds: !values["no-crds"], log });
    process.stdout.write(`KUBECONFIG=${env.kubeconfigPath}\n`);
    const signal = await stopRequested;
    log(`${signal}: stopping`);
    await env.stop();
    return 0;
  } finally {
    clearInterval(keepAlive);
  }
}

const [command, ...rest] = process.argv.slice(2);
if (command !== "up") {
  process.stderr.write(`${usage}\n`);
  process.exit(2);
}
try {
  process.exitCode = await up(rest);
} catch (err) {
  process.stderr.write(`[testenv] ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
