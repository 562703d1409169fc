// The sandbox's flags → one validated options object. A bad flag is one line naming
// the flag and a value that works; main.ts exits 2 with it.
import { parseArgs } from "node:util";

export const SANDBOX_HELP = `Usage: make run   (or: node --import tsx hack/sandbox/main.ts [flags])

With nothing configured: a local sandbox — a kube-apiserver + etcd, the MAAS simulator,
the Cluster API core and kubeadm managers, this provider's manager (with its webhooks),
and an example cluster from templates/cluster-template-ephemeral.yaml made by clusterctl,
every machine deployed into memory and booted by the simulator (kubeadm init runs a real
etcd and kube-apiserver, kubeadm join registers a Node). Shows the machines live until
the Cluster is Available, then writes the workload kubeconfig into the sandbox directory
and prints the kubectl command that reaches it; Ctrl-C tears it all down.

With KUBECONFIG, MAAS_ENDPOINT and MAAS_API_KEY all set: runs only the manager against them.

Flags (sandbox):
  --machines N            MAAS machines in the simulator (default 6)
  --machine-memory-gib N  memory of each machine, GiB (default 32)
  --deploy-seconds S      how long MAAS takes to deploy a machine (default 4)
  --control-plane N       control-plane machines of the example cluster (default 1)
  --workers N             worker machines of the example cluster (default 2)
  --template FILE         the clusterctl flavor (default templates/cluster-template-ephemeral.yaml)
  --no-cluster            start everything but create no example cluster
  -h, --help              show this help
`;

export interface SandboxOptions {
  machines: number;
  machineMemoryGiB: number;
  deploySeconds: number;
  controlPlaneCount: number;
  workerCount: number;
  /** Path of the clusterctl template, relative to the repository root unless absolute. */
  template: string;
  createCluster: boolean;
}

export const DEFAULT_TEMPLATE = "templates/cluster-template-ephemeral.yaml";

/** A flag is malformed; the message names it and a value that works. */
export class UsageError extends Error {}

export function parseSandboxOptions(argv: readonly string[]): SandboxOptions | "help" {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        machines: { type: "string" },
        "machine-memory-gib": { type: "string" },
        "deploy-seconds": { type: "string" },
        "control-plane": { type: "string" },
        workers: { type: "string" },
        template: { type: "string" },
        "no-cluster": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    throw new UsageError(`${err instanceof Error ? err.message : String(err)}; run with --help for the flags`);
  }
  if (values.help === true) return "help";
  const text = (name: string): string | undefined => {
    const value = values[name];
    return typeof value === "string" ? value : undefined;
  };
  const options: SandboxOptions = {
    machines: count("machines", text("machines"), 6, 1, "6"),
    machineMemoryGiB: count("machine-memory-gib", text("machine-memory-gib"), 32, 1, "32"),
    deploySeconds: seconds("deploy-seconds", text("deploy-seconds"), 4),
    controlPlaneCount: count("control-plane", text("control-plane"), 1, 1, "1"),
    workerCount: count("workers", text("workers"), 2, 0, "2"),
    template: text("template") ?? DEFAULT_TEMPLATE,
    createCluster: values["no-cluster"] !== true,
  };
  const wanted = options.controlPlaneCount + options.workerCount;
  if (options.createCluster && wanted > options.machines) {
    throw new UsageError(
      `--machines ${String(options.machines)}: the example cluster needs ${String(wanted)} (--control-plane + --workers); pass --machines ${String(wanted)} or more`,
    );
  }
  return options;
}

function count(flag: string, value: string | undefined, fallback: number, min: number, example: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < min || n > 1000) {
    throw new UsageError(`--${flag} ${value}: expected a whole number from ${String(min)} to 1000, e.g. --${flag} ${example}`);
  }
  return n;
}

function seconds(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0 || n > 3600) {
    throw new UsageError(`--${flag} ${value}: expected seconds from 0 to 3600 (fractions allowed), e.g. --${flag} 4`);
  }
  return n;
}
