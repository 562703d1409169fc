// maas-sim: run the MAAS API simulator from the command line.
// Prints exactly one line on stdout (MAAS_ENDPOINT=… MAAS_API_KEY=…), logs to
// stderr, serves until SIGTERM/SIGINT, then flushes its state and exits 0 —
// also when nothing reads its stdout/stderr any more (a closed pipe never keeps
// it alive). Bad flags exit 2 with a message naming the flag and the fix.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createLogger, installStreamGuards, shutdownLogger } from "../observability/index.ts";
import { InventoryError, loadInventoryFile, parseFaultSpec, startSimulator, type FaultRule, type SimulatorOptions } from "../sim/index.ts";
import { parseSubnetCidr } from "../sim/inventory-schema.ts";
import { parseMaasVersion } from "../sim/maas-version.ts";
import { StateFileError } from "../sim/persistence.ts";
import { parseApiKey } from "../sim/simulator.ts";

const HELP = `Usage: maas-sim [options]

Runs a MAAS 2.0 REST API simulator (MAAS 3.x behaviour) for tests and local use.
On start it prints one line: MAAS_ENDPOINT=<url> MAAS_API_KEY=<key> [HTTPS_PROXY=<url>]

Options:
  --host HOST                 address to listen on (default 127.0.0.1)
  --port N                    port, 0 for a free one (default 5240)
  --api-key CK:TK:TS          admin API key (default: generated)
  --machines N                machines to generate when the inventory lists none (default 10)
  --inventory FILE            YAML or JSON inventory (zones, pools, tags, images, machines)
  --subnet CIDR               network deployed machines get addresses from (default 10.20.0.0/16);
                              a loopback one such as 127.10.0.0/16 lets this host reach what a
                              booted machine serves on its address (instead of subnet: in the inventory)
  --state FILE                load state from FILE if present; keep it saved there (every
                              change is fsynced before the answer, as MAAS commits first)
  --maas-version X.Y.Z        MAAS version to behave like (default 3.6.0)
  --deploy-seconds S          Deploying → Deployed delay (default 5)
  --release-seconds S         Releasing / Disk erasing → Ready delay (default 2)
  --seed N                    seed for generated inventory, faults and failures (default 1)
  --fault SPEC                fault rule, repeatable: kind=unavailable,op=allocate,times=2,retryAfterSeconds=1
                              or JSON: {"kind":"reset","method":"POST","path":"^/machines/.+/$","op":"deploy"}
  --deploy-failure-rate R     share of deployments that fail, 0..1 (default 0)
  --request-timeout-seconds S time to receive a whole request, body included; then 408 (default 60)
  --max-body-bytes N          largest request body; larger gets 413 at once (default 10485760, MAAS's 10M)
  --max-connections N         open connections at most; past it the oldest idle one is closed, or
                              the new one if none is idle (default 768 per CPU, as MAAS's nginx)
  --dns-proxy-port N          also serve an HTTP CONNECT proxy on port N (0: a free one) that resolves
                              MAAS DNS names (DNS resources, machine FQDNs) from this simulator's
                              records; point HTTPS_PROXY at it to reach e.g. <cluster>.<domain>:6443
                              (printed as HTTPS_PROXY=<url> on the first line)
  --boot-binaries DIR         boot deployed machines whose user data runs kubeadm init/join: real etcd
                              and kube-apiserver on each control-plane machine's address, from DIR
                              (etcd, kube-apiserver, kubelet-stub: hack/testenv/build.sh core); use
                              with a loopback --subnet
  --boot-dir DIR              where booted machines keep their files and logs (default: a temporary
                              directory, removed at exit)
  --max-control-planes N      control-plane machines running at once, at most (default 3)
  -h, --help                  show this help

Admin API: <endpoint without /MAAS>/_sim/ (state, requests, faults, machines).
`;

class UsageError extends Error {}

function number(flag: string, value: string | undefined, opts: { min: number; max?: number; integer?: boolean; example: string }): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  const ok = value.trim() !== "" && Number.isFinite(n) && n >= opts.min && (opts.max === undefined || n <= opts.max) && (!opts.integer || Number.isInteger(n));
  if (!ok) {
    const range = opts.max === undefined ? `≥ ${opts.min}` : `from ${opts.min} to ${opts.max}`;
    throw new UsageError(`--${flag} ${value}: expected ${opts.integer ? "a whole number" : "a number"} ${range}, e.g. --${flag} ${opts.example}`);
  }
  return n;
}

function parseOptions(argv: string[]): SimulatorOptions | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: "string" },
        port: { type: "string" },
        "api-key": { type: "string" },
        machines: { type: "string" },
        inventory: { type: "string" },
        subnet: { type: "string" },
        state: { type: "string" },
        "maas-version": { type: "string" },
        "deploy-seconds": { type: "string" },
        "release-seconds": { type: "string" },
        seed: { type: "string" },
        fault: { type: "string", multiple: true },
        "deploy-failure-rate": { type: "string" },
        "request-timeout-seconds": { type: "string" },
        "max-body-bytes": { type: "string" },
        "max-connections": { type: "string" },
        "dns-proxy-port": { type: "string" },
        "boot-binaries": { type: "string" },
        "boot-dir": { type: "string" },
        "max-control-planes": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}; run maas-sim --help for the flags`);
  }
  const v = parsed.values;
  if (v.help === true) return "help";
  const options: SimulatorOptions = {
    host: v.host ?? "127.0.0.1",
    port: number("port", v.port, { min: 0, max: 65535, integer: true, example: "5240" }) ?? 5240,
    machines: number("machines", v.machines, { min: 0, integer: true, example: "10" }),
    deploySeconds: number("deploy-seconds", v["deploy-seconds"], { min: 0, example: "5" }),
    releaseSeconds: number("release-seconds", v["release-seconds"], { min: 0, example: "2" }),
    seed: number("seed", v.seed, { min: 0, integer: true, example: "42" }),
    deployFailureRate: number("deploy-failure-rate", v["deploy-failure-rate"], { min: 0, max: 1, example: "0.1" }),
    stateFile: v.state,
  };
  const timeoutSeconds = number("request-timeout-seconds", v["request-timeout-seconds"], { min: 0.001, example: "60" });
  if (timeoutSeconds !== undefined) options.requestTimeoutMs = Math.ceil(timeoutSeconds * 1000);
  options.maxBodyBytes = number("max-body-bytes", v["max-body-bytes"], { min: 0, integer: true, example: "10485760" });
  options.maxConnections = number("max-connections", v["max-connections"], { min: 1, integer: true, example: "1536" });
  if (v["api-key"] !== undefined) {
    try {
      parseApiKey(v["api-key"]);
    } catch {
      throw new UsageError("--api-key: expected consumer_key:token_key:token_secret (three non-empty parts of letters, digits, '.', '_', '~' or '-'), e.g. --api-key CK:TK:TS");
    }
    options.apiKey = v["api-key"];
  }
  if (v["maas-version"] !== undefined) {
    try {
      options.maasVersion = parseMaasVersion(v["maas-version"]).text;
    } catch (error) {
      throw new UsageError(`--maas-version: ${(error as Error).message}`);
    }
  }
  if (v.subnet !== undefined) {
    if (parseSubnetCidr(v.subnet) === null) {
      throw new UsageError(`--subnet ${v.subnet}: expected an IPv4 network with a /8 to /24 prefix, e.g. --subnet 127.10.0.0/16 (loopback) or --subnet 10.20.0.0/16`);
    }
    options.subnet = v.subnet;
  }
  options.dnsProxyPort = number("dns-proxy-port", v["dns-proxy-port"], { min: 0, max: 65535, integer: true, example: "0" });
  const maxControlPlanes = number("max-control-planes", v["max-control-planes"], { min: 1, integer: true, example: "3" });
  if (v["boot-binaries"] !== undefined) {
    const missing = ["etcd", "kube-apiserver", "kubelet-stub"].filter((name) => !existsSync(join(v["boot-binaries"] ?? "", name)));
    if (missing.length > 0) {
      throw new UsageError(`--boot-binaries ${v["boot-binaries"]}: no ${missing.join(", ")} there; pass the bin directory hack/testenv/build.sh core fills (see .cache/testenv/current.json binDir)`);
    }
    options.boot = { binDir: v["boot-binaries"], ...(v["boot-dir"] === undefined ? {} : { dir: v["boot-dir"] }), ...(maxControlPlanes === undefined ? {} : { maxControlPlanes }) };
  } else if (v["boot-dir"] !== undefined || maxControlPlanes !== undefined) {
    throw new UsageError(`--${v["boot-dir"] !== undefined ? "boot-dir" : "max-control-planes"} only applies with --boot-binaries DIR, which turns booting machines on`);
  }
  if (v.inventory !== undefined) {
    try {
      loadInventoryFile(v.inventory); // fail fast on syntax and field errors
    } catch (error) {
      if (error instanceof InventoryError) throw new UsageError(`--inventory: ${error.message}`);
      throw error;
    }
    options.inventoryFile = v.inventory;
  }
  const faults: FaultRule[] = [];
  for (const spec of v.fault ?? []) {
    try {
      faults.push(parseFaultSpec(spec));
    } catch (error) {
      throw new UsageError(`--fault: ${(error as Error).message}`);
    }
  }
  options.faults = faults;
  return options;
}

/**
 * A start-up failure that a different flag value fixes, as a message naming the flag:
 * the port taken or not allowed, an address this host does not have, a bad state file.
 */
function startupFlagError(error: unknown, options: SimulatorOptions): string | null {
  if (error instanceof StateFileError) return `--state: ${error.message}`;
  const code = (error as NodeJS.ErrnoException).code;
  const port = options.port ?? 5240;
  const host = options.host ?? "127.0.0.1";
  if (code === "EADDRINUSE") return `--port ${port}: the port is already in use on ${host}; stop what holds it, pick another port, or use --port 0 for a free one`;
  if (code === "EACCES") return `--port ${port}: not allowed to listen on this port; use a port above 1023, e.g. --port 5240`;
  if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return `--host ${host}: not an address of this machine; use 127.0.0.1 (loopback) or 0.0.0.0 (all interfaces)`;
  }
  return null;
}

async function main(): Promise<void> {
  installStreamGuards();
  let options: SimulatorOptions | "help";
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`maas-sim: ${error.message}\n`);
    process.exit(2);
  }
  if (options === "help") {
    process.stdout.write(HELP);
    return;
  }
  const logger = createLogger({ name: "maas-sim" });
  // Every exit goes through here: a bounded flush, so a gone reader cannot hold the process.
  const exit = async (code: number): Promise<never> => {
    await shutdownLogger(logger);
    process.exit(code);
  };
  let sim;
  try {
    sim = await startSimulator({ ...options, logger });
  } catch (error) {
    // Inventory references (zones, owners, duplicates) are only checked while building.
    if (error instanceof InventoryError) {
      process.stderr.write(`maas-sim: --inventory: ${error.message}\n`);
      return exit(2);
    }
    // Exit 1, as documented for start failures; the message still names the flag to change.
    process.stderr.write(`maas-sim: cannot start: ${startupFlagError(error, options) ?? (error as Error).message}\n`);
    return exit(1);
  }
  const running = sim;
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping");
    void running.close().then(
      () => exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "clean shutdown failed");
        return exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  // Only now: a caller may signal as soon as it has the line, and without a handler
  // the signal would kill the process before it saved its state.
  process.stdout.write(`MAAS_ENDPOINT=${sim.endpoint} MAAS_API_KEY=${sim.apiKey}${sim.dnsProxyUrl === null ? "" : ` HTTPS_PROXY=${sim.dnsProxyUrl}`}\n`);
}

await main();
