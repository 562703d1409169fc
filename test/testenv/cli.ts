// `testenv up [--dir D]`: a control plane for working by hand or from another
// tool. Prints exactly one line, KUBECONFIG=<path>, on stdout once ready (logs
// go to stderr), serves until SIGTERM or SIGINT (or until its parent process
// exits), then tears down and exits 0 — also when nothing reads its output any
// more (`testenv up | head -1`, a harness that died): writing to a closed pipe
// must not crash it before it has stopped its children.
import { parseArgs } from "node:util";
import { installStreamGuards } from "../../src/observability/index.ts";
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
  let stopping = false;
  let requestStop: (reason: string) => void = () => undefined;
  const stopRequested = new Promise<string>((resolve) => {
    requestStop = (reason) => {
      if (stopping) {
        // A second request: leave now; the exit handler kills the children.
        process.exit(1);
      }
      stopping = true;
      resolve(reason);
    };
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => requestStop(signal));
  // `npx testenv up` runs us under npm and `sh -c`, which do not pass SIGTERM
  // on: when our parent goes away we are reparented, and stop as if told to.
  // The interval also keeps this process alive, which the children (kept
  // unreferenced so a forgotten test env cannot hang a test run) do not.
  const parent = process.ppid;
  const watchParent = setInterval(() => {
    if (process.ppid !== parent) requestStop("parent process exited");
  }, 500);
  try {
    const env = await startTestEnv({ dir: values.dir, installCrds: !values["no-crds"], log });
    process.stdout.write(`KUBECONFIG=${env.kubeconfigPath}\n`);
    const reason = await stopRequested;
    log(`${reason}: stopping`);
    await env.stop();
    return 0;
  } finally {
    clearInterval(watchParent);
  }
}

installStreamGuards();
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
