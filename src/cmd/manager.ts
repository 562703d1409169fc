// capmaas-manager: flags → config → the controller manager of the MAAS provider.
// A missing or malformed setting exits 2 with one line naming it and the fix. MAAS
// being unreachable at start is not fatal: conditions say so and reconciles retry.
// SIGTERM drains reconciles, releases the leader Lease and exits 0.
import { readFileSync } from "node:fs";
import { KubeConfig } from "@kubernetes/client-node";
import { Registry, collectDefaultMetrics } from "prom-client";
import { WatchFilterLabel } from "../api/v1beta1/index.ts";
import { CAPI_INDEXERS, SECRET } from "../capi/index.ts";
import { systemClock } from "../clock/index.ts";
import { DEFAULT_SETTINGS, MaasConnection, createProviderMetrics, setupProviderControllers } from "../controllers/index.ts";
import { createMaasClient, MaasConfigError, parseCaCertificates } from "../maas/index.ts";
import { createLogger, installStreamGuards, shutdownLogger, type Logger } from "../observability/index.ts";
import { Manager, startProbeServer, type InformerScope, type ProbeServer } from "../runtime/index.ts";
import { startProviderWebhooks, type WebhookServer } from "../webhooks/index.ts";
import { ConfigError, MANAGER_HELP, checkWebhookCertDir, parseManagerConfig, type ManagerConfig } from "./manager-config.ts";

async function main(): Promise<number> {
  installStreamGuards();
  let config: ManagerConfig;
  try {
    const parsed = parseManagerConfig(process.argv.slice(2), process.env);
    if (parsed === "help") {
      process.stdout.write(MANAGER_HELP);
      return 0;
    }
    config = parsed;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`capmaas-manager: ${err.message}\n`);
    return 2;
  }
  const logger = createLogger({ level: config.logLevel, name: "capmaas-manager" });
  try {
    return await run(config, logger);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`capmaas-manager: ${err.message}\n`);
      return 2;
    }
    logger.error({ err }, "manager failed");
    return 1;
  } finally {
    await shutdownLogger(logger);
  }
}

async function run(config: ManagerConfig, logger: Logger): Promise<number> {
  // A --webhook-cert-dir without its files is refused before anything runs or is logged.
  const webhookCerts = config.webhook === undefined ? undefined : checkWebhookCertDir(config.webhook);
  const kubeConfig = loadKubeConfig(config);
  const caCertificates = config.maasCaFile === undefined ? undefined : readCaFile(config.maasCaFile);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = createProviderMetrics(registry);
  const clock = systemClock;

  // Late-bound: the watcher exists before the controller it enqueues into.
  let enqueueMachine: (key: string) => void = () => undefined;
  let enqueueAll: () => void = () => undefined;
  const maas = new MaasConnection({
    clock,
    logger,
    watcher: { slowIntervalMs: config.maasWatchIntervalMs },
    onMachineChange: (key) => enqueueMachine(key),
    onConfigured: () => enqueueAll(),
    // MAAS went down or came back: objects at rest say so, and those backing off try now.
    onReadFailureChange: () => enqueueAll(),
    createClient: (credentials) =>
      createMaasClient({
        endpoint: credentials.endpoint,
        apiKey: credentials.apiKey,
        logger,
        ...(caCertificates === undefined ? {} : { caCertificates }),
        ...(config.maasInsecureSkipTlsVerify ? { insecureSkipTlsVerify: true } : {}),
        onResponse: (event) => metrics.maasRequests.inc({ operation: event.operation, code: String(event.status ?? event.code ?? "") }),
      }),
  });
  if (config.maasCredentials.kind === "env") {
    try {
      maas.configure({ endpoint: config.maasCredentials.endpoint, apiKey: config.maasCredentials.apiKey });
    } catch (err) {
      if (err instanceof MaasConfigError) throw new ConfigError(`MAAS_ENDPOINT / MAAS_API_KEY: ${err.message}`);
      throw err;
    }
  }

  // Once every setting is known good; served by every replica, leader or not.
  let webhooks: WebhookServer | undefined;
  try {
    webhooks = webhookCerts?.serve === true ? await startWebhooks(config, logger) : undefined;
  } catch (err) {
    maas.close();
    throw err;
  }
  if (webhookCerts?.serve === false) logger.warn(webhookCerts.warning);

  const probe = config.healthProbeBindAddress;
  const manager = new Manager({
    kubeConfig,
    logger,
    clock,
    metricsRegistry: registry,
    probesPort: probe === undefined ? false : probe.port,
    ...(probe?.host === undefined ? {} : { probesHost: probe.host }),
    ...(config.namespace === undefined ? {} : { namespace: config.namespace }),
    informers: { resyncPeriodMs: config.syncPeriodMs },
    indexers: CAPI_INDEXERS,
    eventSource: "capmaas-manager",
    fieldManager: "capmaas-manager",
    ...(config.leaderElect ? { leaderElection: { leaseName: config.leaderElectId, namespace: config.leaderElectNamespace } } : {}),
    // Not ready while the webhooks are not served: the API server would refuse our kinds' writes.
    ...(webhooks === undefined ? {} : { readyChecks: [{ name: "webhooks", check: () => webhooks?.readyReason() }] }),
  });
  const scope: InformerScope = config.watchFilter === undefined ? {} : { labelSelector: `${WatchFilterLabel}=${config.watchFilter}` };
  const provider = setupProviderControllers({
    manager,
    deps: {
      client: manager.client,
      events: manager.events,
      maas,
      clock,
      metrics,
      settings: { ...DEFAULT_SETTINGS, ephemeralMinMemoryMiB: config.ephemeralMinMemoryMiB },
    },
    scope,
    machineConcurrency: config.machineConcurrency,
    clusterConcurrency: config.clusterConcurrency,
  });
  // News from MAAS is about machines already in flight: it goes ahead of new objects.
  enqueueMachine = (key) => provider.machines.controller.enqueue(key, { urgent: true });
  // New credentials: everything that waited for MAAS goes again now, not at the next resync.
  enqueueAll = () => provider.enqueueAll();
  metrics.countMachinesFrom((visit) => provider.machines.caches.maasMachines.forEachCached(visit));
  if (config.maasCredentials.kind === "secret") watchCredentialsSecret(manager, maas, config.maasCredentials, logger);

  let metricsServer: ProbeServer | undefined;
  const metricsAddress = config.metricsBindAddress;
  if (metricsAddress !== undefined && (probe === undefined || metricsAddress.port !== probe.port || metricsAddress.host !== probe.host)) {
    metricsServer = await startProbeServer({ port: metricsAddress.port, ...(metricsAddress.host === undefined ? {} : { host: metricsAddress.host }), registry });
    logger.info({ port: metricsServer.port }, "serving /metrics");
  }

  let exitCode = 0;
  const exited = new Promise<void>((resolve) => {
    manager.installSignalHandlers((code) => {
      exitCode = code;
      resolve();
    });
  });
  try {
    await manager.start();
    logger.info({ namespace: config.namespace ?? "(all)", watchFilter: config.watchFilter ?? "(none)" }, "capmaas-manager started");
    await exited;
    await manager.stop();
  } finally {
    await webhooks?.close();
  }
  maas.close();
  await provider.machines.workloadClusters.close();
  await metricsServer?.close();
  return exitCode;
}

/** The admission webhook server on --webhook-port with the certificate of --webhook-cert-dir. */
async function startWebhooks(config: ManagerConfig, logger: Logger): Promise<WebhookServer | undefined> {
  const webhook = config.webhook;
  if (webhook === undefined) return undefined;
  try {
    const server = await startProviderWebhooks({ port: webhook.port, certDir: webhook.certDir, logger, ephemeralMinMemoryMiB: config.ephemeralMinMemoryMiB });
    logger.info({ port: server.port, certDir: webhook.certDir }, "serving admission webhooks");
    return server;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConfigError(`--webhook-port ${webhook.port} / --webhook-cert-dir ${webhook.certDir}: cannot serve webhooks (${reason}); fix the certificate or the port, or pass --webhook-port 0`);
  }
}

function loadKubeConfig(config: ManagerConfig): KubeConfig {
  const kubeConfig = new KubeConfig();
  try {
    if (config.kubeconfig !== undefined) kubeConfig.loadFromFile(config.kubeconfig);
    else kubeConfig.loadFromDefault();
  } catch (err) {
    const where = config.kubeconfig === undefined ? "KUBECONFIG / the in-cluster service account" : `--kubeconfig ${config.kubeconfig}`;
    throw new ConfigError(`${where}: cannot load a kubeconfig (${err instanceof Error ? err.message : String(err)}); pass --kubeconfig FILE`);
  }
  if (kubeConfig.getCurrentCluster() === null) {
    throw new ConfigError("no Kubernetes cluster configured: pass --kubeconfig FILE, set KUBECONFIG, or run in a pod with a service account");
  }
  return kubeConfig;
}

function readCaFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(`--maas-ca-file ${path}: cannot read it (${err instanceof Error ? err.message : String(err)}); give a PEM file`);
  }
  // Checked here, not when a client is made: with --maas-credentials-secret that is later, and would name the wrong setting.
  try {
    parseCaCertificates(text);
  } catch (err) {
    if (err instanceof MaasConfigError) throw new ConfigError(`--maas-ca-file ${path}: ${err.message}; give a PEM file holding the CA certificate(s)`);
    throw err;
  }
  return text;
}

/** Keeps the MAAS connection in step with the credentials Secret: configured on add/update, forgotten on delete. */
function watchCredentialsSecret(manager: Manager, maas: MaasConnection, source: { namespace: string; name: string }, logger: Logger): void {
  const informer = manager.informer(SECRET, { namespace: source.namespace, fieldSelector: `metadata.name=${source.name}` });
  informer.on((event) => {
    const where = `Secret ${source.namespace}/${source.name}`;
    if (event.type === "delete") {
      maas.unconfigure(`${where} is gone; create it with keys MAAS_ENDPOINT and MAAS_API_KEY`);
      return;
    }
    const data = event.object.data ?? {};
    const endpoint = decode(data.MAAS_ENDPOINT);
    const apiKey = decode(data.MAAS_API_KEY);
    if (endpoint === "" || apiKey === "") {
      maas.unconfigure(`${where} lacks ${endpoint === "" ? "MAAS_ENDPOINT" : "MAAS_API_KEY"}; add it`);
      logger.error({ secret: where }, "MAAS credentials Secret is incomplete: it needs MAAS_ENDPOINT and MAAS_API_KEY");
      return;
    }
    try {
      maas.configure({ endpoint, apiKey });
    } catch (err) {
      maas.unconfigure(`${where}: ${err instanceof Error ? err.message : String(err)}`);
      logger.error({ secret: where, err: err instanceof Error ? err.message : String(err) }, "MAAS credentials Secret is invalid");
    }
  });
}

function decode(value: string | undefined): string {
  return value === undefined ? "" : Buffer.from(value, "base64").toString("utf8").trim();
}

process.exitCode = await main();
