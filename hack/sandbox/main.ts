// `make run`: the provider's local sandbox, or only the manager when a cluster and a
// MAAS are configured (KUBECONFIG, MAAS_ENDPOINT and MAAS_API_KEY all set). The
// sandbox prints how to reach it, shows the example cluster's machines live as they
// deploy, boot and become Nodes, writes the workload kubeconfig once the Cluster is
// Available, and on Ctrl-C (SIGINT) or SIGTERM stops every process it started, removes
// its directory and exits 0. A second signal stops at once (the children are killed by pid).
import { installStreamGuards } from "../../src/observability/index.ts";
import { announceAvailable, writeEnvFile } from "./access.ts";
import { LiveView, isAvailable, type Observation } from "./live-view.ts";
import { runManagerOnly, wantsManagerOnly } from "./manager-only.ts";
import { SANDBOX_HELP, UsageError, parseSandboxOptions, type SandboxOptions } from "./options.ts";
import { startSandbox, type RunningSandbox } from "./sandbox.ts";

const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const progress = (line: string): void => out(`  ${line}`);

async function runSandbox(options: SandboxOptions): Promise<number> {
  const startedAt = Date.now();
  const abort = new AbortController();
  let signalled: (reason: string) => void = () => undefined;
  const stopRequested = new Promise<string>((resolve) => {
    signalled = resolve;
  });
  let signals = 0;
  // SIGHUP: the terminal closed; stop as cleanly as on Ctrl-C rather than die with children and files left.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      signals += 1;
      // The second signal: leave now; the exit handler of test/testenv/children.ts kills the children and removes the directory.
      if (signals > 1) process.exit(130);
      abort.abort();
      signalled(signal);
    });
  }
  out("capmaas sandbox: starting a local control plane, the MAAS simulator, Cluster API and the provider");
  let sandbox: RunningSandbox;
  try {
    sandbox = await startSandbox(options, progress, abort.signal);
  } catch (err) {
    if (abort.signal.aborted) {
      out("capmaas sandbox: stopped while starting");
      return 0;
    }
    process.stderr.write(`capmaas sandbox: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const envFile = await writeEnvFile(sandbox);
  out(`capmaas sandbox: ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s (directory ${sandbox.dir}, logs there: *.log, control-plane/*.log)`);
  out(`pids: ${sandbox.pids.map((p) => `${p.name}=${String(p.pid)}`).join(" ")}`);
  out("Reach it with (or: source " + envFile + "):");
  out(`  KUBECONFIG=${sandbox.kubeconfigPath}`);
  out(`  MAAS_ENDPOINT=${sandbox.maasEndpoint}`);
  out(`  MAAS_API_KEY=${sandbox.maasApiKey}`);
  out(`  e.g. KUBECONFIG=${sandbox.kubeconfigPath} ${sandbox.kubectlPath} get clusters,machines,maasmachines -A`);
  out(`Workload clusters are reached through the simulator's DNS proxy ${sandbox.dnsProxyUrl} (HTTPS_PROXY for that command only; see ${envFile})`);
  out("");

  let announced = false;
  const observe = async (): Promise<Observation> => {
    const seen = await sandbox.observe();
    if (!announced && isAvailable(seen.cluster)) {
      announced = true;
      const elapsed = Date.now() - startedAt;
      // Printed through the view, so a terminal's redrawn block stays below it.
      void sandbox.workloadKubeconfig()
        .then((kubeconfig) => announceAvailable(sandbox, kubeconfig, elapsed))
        .then((lines) => view.print(lines), (err: unknown) => view.print([`capmaas sandbox: the Cluster is Available but its kubeconfig could not be written: ${err instanceof Error ? err.message : String(err)}`]));
    }
    return seen;
  };
  const view = new LiveView({ observe, write: (text) => process.stdout.write(text), tty: process.stdout.isTTY === true, startedAt });
  view.start();
  const managerExit = sandbox.provider.child.exited.then((exit) => `capmaas-manager exited (code ${String(exit.code)}, signal ${String(exit.signal)}; log ${sandbox.provider.logPath})`);
  const reason = await Promise.race([stopRequested, managerExit]);
  await view.stop();
  const failed = !(reason === "SIGINT" || reason === "SIGTERM" || reason === "SIGHUP");
  out(`capmaas sandbox: ${reason}; stopping`);
  await sandbox.stop();
  out(`capmaas sandbox: stopped, ${sandbox.dir} removed`);
  return failed ? 1 : 0;
}

async function main(): Promise<number> {
  installStreamGuards();
  const argv = process.argv.slice(2);
  if (wantsManagerOnly(process.env)) {
    out("capmaas sandbox: KUBECONFIG, MAAS_ENDPOINT and MAAS_API_KEY are set: running only the manager against them");
    return runManagerOnly(argv);
  }
  let options: SandboxOptions;
  try {
    const parsed = parseSandboxOptions(argv);
    if (parsed === "help") {
      process.stdout.write(SANDBOX_HELP);
      return 0;
    }
    options = parsed;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`capmaas sandbox: ${err.message}\n`);
    return 2;
  }
  return runSandbox(options);
}

process.exitCode = await main();
