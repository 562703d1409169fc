// capmaas-manager's settings: flags and environment → one validated config. Every
// refusal is one line that names the setting and the fix; the caller exits 2 with it.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

/** controller-runtime's default, where cert-manager's Secret is mounted in the release. */
export const DEFAULT_WEBHOOK_CERT_DIR = "/tmp/k8s-webhook-server/serving-certs";
export const DEFAULT_WEBHOOK_PORT = 9443;

export const MANAGER_HELP = `Usage: capmaas-manager [flags]

Runs the Cluster API infrastructure provider for MAAS: reconciles MaasCluster,
MaasMachine and MaasMachineTemplate objects against a MAAS server.

Kubernetes:
  --kubeconfig FILE                   kubeconfig to use (default: $KUBECONFIG, else the in-cluster service account)
  --namespace NS                      watch only this namespace (default: all)
  --watch-filter VALUE                only objects labelled cluster.x-k8s.io/watch-filter=VALUE
  --leader-elect                      run leader election (for more than one replica)
  --leader-elect-namespace NS         namespace of the Lease (default: the pod's namespace, else capmaas-system)
  --leader-elect-id NAME              name of the Lease (default: capmaas-manager-leader)
  --sync-period DURATION              re-reconcile everything this often (default 10m)
  --machine-concurrency N             MaasMachines reconciled at once (default 10)
  --cluster-concurrency N             MaasClusters reconciled at once (default 5)
  --metrics-bind-address ADDR         serve /metrics here, "0" to turn off (default :8080)
  --health-probe-bind-address ADDR    serve /healthz and /readyz (and /metrics) here (default :8081)
  --log-level LEVEL                   trace, debug, info, warn, error (default: $LOG_LEVEL, else info)

MAAS:
  MAAS_ENDPOINT, MAAS_API_KEY         environment: the MAAS URL and API key (consumer:token:secret)
  --maas-credentials-secret NS/NAME   read MAAS_ENDPOINT and MAAS_API_KEY from this Secret instead (re-read on change)
  --maas-ca-file FILE                 extra CA certificate(s), PEM, for an https endpoint with a private CA
  --maas-insecure-skip-tls-verify     do not verify MAAS's certificate (logged as a warning)
  --ephemeral-min-memory QUANTITY     warn when a machine deployed to memory has less (default 16Gi)
  --maas-watch-interval DURATION      read machines at rest in MAAS this often, to see changes made outside (default 60s;
                                      machines in a transition are read every 0.5s)

Webhooks:
  --webhook-port N                    serve the admission webhooks over HTTPS on this port, 0 to turn off (default 9443)
  --webhook-cert-dir DIR              serving certificate directory with tls.crt and tls.key, reloaded when they
                                      change (default ${DEFAULT_WEBHOOK_CERT_DIR})
`;

export type MaasCredentialsSource =
  | { kind: "env"; endpoint: string; apiKey: string }
  | { kind: "secret"; namespace: string; name: string };

export interface BindAddress {
  host: string | undefined;
  port: number;
}

export interface ManagerConfig {
  kubeconfig: string | undefined;
  namespace: string | undefined;
  watchFilter: string | undefined;
  leaderElect: boolean;
  leaderElectNamespace: string;
  leaderElectId: string;
  syncPeriodMs: number;
  maasWatchIntervalMs: number;
  machineConcurrency: number;
  clusterConcurrency: number;
  metricsBindAddress: BindAddress | undefined;
  healthProbeBindAddress: BindAddress | undefined;
  logLevel: string;
  maasCredentials: MaasCredentialsSource;
  maasCaFile: string | undefined;
  maasInsecureSkipTlsVerify: boolean;
  ephemeralMinMemoryMiB: number;
  /** undefined with --webhook-port 0. */
  webhook: WebhookConfig | undefined;
}

export interface WebhookConfig {
  port: number;
  certDir: string;
  /** --webhook-cert-dir was given: missing files are then an error, not a warning. */
  certDirGiven: boolean;
}

/** A setting is missing or malformed; the message names it and the fix. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

const LOG_LEVELS = new Set(["trace", "debug", "info", "warn", "error", "fatal", "silent"]);
// Kubernetes' own limits: a namespace is a DNS label (63), most other names a DNS subdomain (253).
const DNS_LABEL = /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export function parseManagerConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ManagerConfig | "help" {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: "boolean", short: "h" },
        kubeconfig: { type: "string" },
        namespace: { type: "string" },
        "watch-filter": { type: "string" },
        "leader-elect": { type: "boolean" },
        "leader-elect-namespace": { type: "string" },
        "leader-elect-id": { type: "string" },
        "sync-period": { type: "string" },
        "maas-watch-interval": { type: "string" },
        "machine-concurrency": { type: "string" },
        "cluster-concurrency": { type: "string" },
        "metrics-bind-address": { type: "string" },
        "health-probe-bind-address": { type: "string" },
        "log-level": { type: "string" },
        "maas-credentials-secret": { type: "string" },
        "maas-ca-file": { type: "string" },
        "maas-insecure-skip-tls-verify": { type: "boolean" },
        "ephemeral-min-memory": { type: "string" },
        "webhook-port": { type: "string" },
        "webhook-cert-dir": { type: "string" },
      },
    }));
  } catch (err) {
    // parseArgs explains some refusals over several lines; the caller prints exactly one.
    const message = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, " ").replace(/\.$/, "");
    throw new ConfigError(`${message}; see --help for the flags`);
  }
  if (values.help === true) return "help";
  const str = (name: string): string | undefined => {
    const value = values[name];
    return typeof value === "string" ? value : undefined;
  };

  const namespace = str("namespace");
  if (namespace !== undefined) requireMatch("--namespace", namespace, DNS_LABEL, "a namespace name, e.g. --namespace capmaas-system");
  const watchFilter = str("watch-filter");
  if (watchFilter !== undefined && (watchFilter === "" || !LABEL_VALUE.test(watchFilter) || watchFilter.length > 63)) {
    throw new ConfigError(`--watch-filter ${JSON.stringify(watchFilter)}: expected a label value (letters, digits, -, _, .; at most 63), e.g. --watch-filter team-a`);
  }
  const leaderElectNamespace = str("leader-elect-namespace") ?? env.POD_NAMESPACE ?? "capmaas-system";
  requireMatch("--leader-elect-namespace", leaderElectNamespace, DNS_LABEL, "a namespace name");
  const leaderElectId = str("leader-elect-id") ?? "capmaas-manager-leader";
  requireMatch("--leader-elect-id", leaderElectId, DNS_SUBDOMAIN, "a Lease name, e.g. capmaas-manager-leader");
  const logLevel = (str("log-level") ?? env.LOG_LEVEL ?? "info").toLowerCase();
  if (!LOG_LEVELS.has(logLevel)) {
    throw new ConfigError(`${str("log-level") === undefined ? "LOG_LEVEL" : "--log-level"} ${JSON.stringify(logLevel)}: expected one of trace, debug, info, warn, error`);
  }

  return {
    kubeconfig: nonEmpty("--kubeconfig", str("kubeconfig"), "a kubeconfig file path"),
    namespace,
    watchFilter,
    leaderElect: values["leader-elect"] === true,
    leaderElectNamespace,
    leaderElectId,
    syncPeriodMs: parseDuration("--sync-period", str("sync-period") ?? "10m", { minMs: 1000 }),
    maasWatchIntervalMs: parseDuration("--maas-watch-interval", str("maas-watch-interval") ?? "60s", { minMs: 1000 }),
    machineConcurrency: parseCount("--machine-concurrency", str("machine-concurrency") ?? "10"),
    clusterConcurrency: parseCount("--cluster-concurrency", str("cluster-concurrency") ?? "5"),
    metricsBindAddress: parseBindAddress("--metrics-bind-address", str("metrics-bind-address") ?? ":8080"),
    healthProbeBindAddress: parseBindAddress("--health-probe-bind-address", str("health-probe-bind-address") ?? ":8081"),
    logLevel,
    maasCredentials: parseCredentials(str("maas-credentials-secret"), env),
    maasCaFile: nonEmpty("--maas-ca-file", str("maas-ca-file"), "a PEM file path"),
    maasInsecureSkipTlsVerify: values["maas-insecure-skip-tls-verify"] === true,
    ephemeralMinMemoryMiB: parseMemoryMiB("--ephemeral-min-memory", str("ephemeral-min-memory") ?? "16Gi"),
    webhook: parseWebhook(str("webhook-port"), str("webhook-cert-dir")),
  };
}

function parseWebhook(portText: string | undefined, certDir: string | undefined): WebhookConfig | undefined {
  const port = portText === undefined ? DEFAULT_WEBHOOK_PORT : Number(portText);
  if (portText !== undefined && (portText.trim() === "" || !Number.isInteger(port) || port < 0 || port > 65535)) {
    throw new ConfigError(`--webhook-port ${JSON.stringify(portText)}: expected a port from 0 to 65535 (0 turns the webhook server off), e.g. --webhook-port 9443`);
  }
  if (port === 0) return undefined;
  const dir = nonEmpty("--webhook-cert-dir", certDir, "a directory holding tls.crt and tls.key");
  return { port, certDir: dir ?? DEFAULT_WEBHOOK_CERT_DIR, certDirGiven: dir !== undefined };
}

/**
 * Whether the webhook server can start: its certificate files exist. Missing in a
 * directory given with --webhook-cert-dir → ConfigError (exit 2); missing in the
 * default directory → a warning to log, and no webhooks, so a manager run outside a
 * cluster (make manager, tests) starts without certificates.
 */
export function checkWebhookCertDir(webhook: WebhookConfig, exists: (path: string) => boolean = existsSync): { serve: true } | { serve: false; warning: string } {
  const missing = ["tls.crt", "tls.key"].filter((name) => !exists(join(webhook.certDir, name)));
  if (missing.length === 0) return { serve: true };
  const what = `${webhook.certDir} has no ${missing.join(" or ")}`;
  if (webhook.certDirGiven) {
    throw new ConfigError(`--webhook-cert-dir ${webhook.certDir}: ${missing.join(" and ")} missing; put the serving certificate there (tls.crt, tls.key, e.g. cert-manager's Secret), or pass --webhook-port 0 to serve no webhooks`);
  }
  return { serve: false, warning: `webhooks not served: ${what}; mount the serving certificate there or pass --webhook-cert-dir DIR (--webhook-port 0 turns webhooks off without this warning)` };
}

function parseCredentials(secret: string | undefined, env: NodeJS.ProcessEnv): MaasCredentialsSource {
  if (secret !== undefined) {
    const parts = secret.split("/");
    if (parts.length !== 2 || !DNS_LABEL.test(parts[0] ?? "") || !DNS_SUBDOMAIN.test(parts[1] ?? "")) {
      throw new ConfigError(`--maas-credentials-secret ${JSON.stringify(secret)}: expected NAMESPACE/NAME, e.g. --maas-credentials-secret capmaas-system/capmaas-maas-credentials`);
    }
    return { kind: "secret", namespace: parts[0] as string, name: parts[1] as string };
  }
  const endpoint = env.MAAS_ENDPOINT ?? "";
  const apiKey = env.MAAS_API_KEY ?? "";
  if (endpoint === "") {
    throw new ConfigError("MAAS_ENDPOINT is not set: export MAAS_ENDPOINT=http://<maas>:5240/MAAS (and MAAS_API_KEY), or pass --maas-credentials-secret NAMESPACE/NAME");
  }
  if (apiKey === "") {
    throw new ConfigError("MAAS_API_KEY is not set: export MAAS_API_KEY=<consumer>:<token>:<secret> (from the MAAS UI, or `maas apikey --username <user>`), or pass --maas-credentials-secret NAMESPACE/NAME");
  }
  return { kind: "env", endpoint, apiKey };
}

function requireMatch(flag: string, value: string, pattern: RegExp, what: string): void {
  if (!pattern.test(value)) throw new ConfigError(`${flag} ${JSON.stringify(value)}: expected ${what}`);
}

function nonEmpty(flag: string, value: string | undefined, what: string): string | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === "") throw new ConfigError(`${flag} is empty: expected ${what}`);
  return value;
}

/** A positive whole number, e.g. "10". */
export function parseCount(flag: string, text: string): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isInteger(n) || n < 1 || n > 1000) {
    throw new ConfigError(`${flag} ${JSON.stringify(text)}: expected a whole number from 1 to 1000, e.g. ${flag} 10`);
  }
  return n;
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go-style durations as other CAPI providers take them: "30s", "10m", "1h30m", "500ms". */
export function parseDuration(flag: string, text: string, options: { minMs: number }): number {
  const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(text)) !== null) {
    total += Number(match[1]) * (DURATION_UNITS_MS[match[2] ?? ""] ?? 0);
    matched = pattern.lastIndex;
  }
  if (text === "" || matched !== text.length || total < options.minMs) {
    throw new ConfigError(`${flag} ${JSON.stringify(text)}: expected a duration of at least ${options.minMs / 1000}s such as 30s, 10m or 1h`);
  }
  return total;
}

/** ":8080" (every interface), "127.0.0.1:8080", or "0" (off). */
export function parseBindAddress(flag: string, text: string): BindAddress | undefined {
  if (text === "0") return undefined;
  const colon = text.lastIndexOf(":");
  const host = colon <= 0 ? undefined : text.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  const portText = colon === -1 ? "" : text.slice(colon + 1);
  const port = Number(portText);
  if (colon === -1 || portText === "" || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`${flag} ${JSON.stringify(text)}: expected [HOST]:PORT such as :8080 or 127.0.0.1:8080, or 0 to turn it off`);
  }
  return { host, port };
}

const MEMORY_UNITS_MIB: Record<string, number> = { Mi: 1, Gi: 1024, Ti: 1024 * 1024, M: 1e6 / 2 ** 20, G: 1e9 / 2 ** 20 };

/** A Kubernetes memory quantity ("16Gi", "16384Mi", "16G") or plain MiB ("16384"), as MiB. */
export function parseMemoryMiB(flag: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)(Mi|Gi|Ti|M|G)?$/.exec(text.trim());
  const value = match === null ? Number.NaN : Number(match[1]) * (MEMORY_UNITS_MIB[match[2] ?? "Mi"] ?? Number.NaN);
  if (!Number.isFinite(value) || value < 0) {
    throw new ConfigError(`${flag} ${JSON.stringify(text)}: expected a memory size such as 16Gi, 8192Mi or 16384 (MiB)`);
  }
  return Math.round(value);
}
