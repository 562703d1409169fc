// startSimulator(): options → store (from a state file, an inventory, or
// generated) → lifecycle, faults, OAuth, request log → HTTP server.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { systemClock } from "../clock/index.ts";
import { createLogger, type Logger } from "../observability/index.ts";
import { BootStage, removeBootDir } from "./boot/boot.ts";
import { isMaasAddress, resolveMaasName } from "./dns-names.ts";
import { DnsProxy } from "./dns-proxy.ts";
import { FaultInjector } from "./faults.ts";
import { defaultMaxConnections } from "./http/nginx.ts";
import { OAuthVerifier } from "./http/oauth.ts";
import { ADMIN_USERNAME, buildStoreData, loadInventoryFile } from "./inventory.ts";
import { API_KEY_PATTERN, parseSubnetCidr, SUBNET_CIDR_FIX } from "./inventory-schema.ts";
import { Lifecycle } from "./lifecycle.ts";
import { featuresOf, parseMaasVersion } from "./maas-version.ts";
import { loadStateFile, removeStaleTemporaryFiles, StateFileError, StatePersistence } from "./persistence.ts";
import { Prng } from "./prng.ts";
import { RequestLog } from "./request-log.ts";
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_REQUEST_TIMEOUT_MS, SimServer } from "./server.ts";
import { Store, type Credential } from "./store.ts";
import type { RunningSimulator, SimulatorOptions } from "./types.ts";

const KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A key shaped like MAAS's: 18-character consumer and token keys, 32-character secret. */
export function generateApiKey(): string {
  const part = (n: number): string => [...randomBytes(n)].map((b) => KEY_ALPHABET[b % KEY_ALPHABET.length]).join("");
  return `${part(18)}:${part(18)}:${part(32)}`;
}

export function parseApiKey(apiKey: string, username = ADMIN_USERNAME): Credential {
  if (!API_KEY_PATTERN.test(apiKey)) {
    throw new Error("apiKey must be consumer_key:token_key:token_secret (three non-empty parts of letters, digits, '.', '_', '~' or '-')");
  }
  const [consumerKey, tokenKey, tokenSecret] = apiKey.split(":") as [string, string, string];
  return { username, consumerKey, tokenKey, tokenSecret };
}

function checkNumber(name: string, value: number | undefined, min: number, max = Number.POSITIVE_INFINITY): void {
  if (value !== undefined && (!Number.isFinite(value) || value < min || value > max)) {
    throw new Error(`${name} must be a number from ${min}${Number.isFinite(max) ? ` to ${max}` : " up"}; got ${value}`);
  }
}

/** A state file's machines keep the addresses they were given: another subnet cannot apply to them. */
function checkSavedSubnet(options: SimulatorOptions, saved: string): void {
  if (options.subnet === undefined) return;
  const asked = parseSubnetCidr(options.subnet);
  if (asked === null) throw new Error(`subnet ${options.subnet}: ${SUBNET_CIDR_FIX}`);
  if (asked.cidr !== saved) {
    throw new StateFileError(`state file ${options.stateFile ?? ""} holds machines with addresses in ${saved}, not in the subnet asked for (${asked.cidr}); drop the subnet option or start from a new state file`);
  }
}

const BOOT_BINARIES = ["etcd", "kube-apiserver", "kubelet-stub"];

/** The boot stage, when asked for: its binaries checked before anything starts, its directory made. */
async function startBootStage(options: SimulatorOptions, store: Store, logger: Logger): Promise<{ stage: BootStage; close(): Promise<void> } | null> {
  const boot = options.boot;
  if (boot === undefined) return null;
  const missing = BOOT_BINARIES.filter((name) => !existsSync(join(boot.binDir, name)));
  if (missing.length > 0) {
    throw new Error(`boot.binDir ${boot.binDir} has no ${missing.join(", ")}; point it at the directory hack/testenv/build.sh core builds (etcd, kube-apiserver, kubelet-stub)`);
  }
  checkNumber("boot.maxControlPlanes", boot.maxControlPlanes, 1);
  const dir = boot.dir ?? (await mkdtemp(join(tmpdir(), "maas-sim-boot-")));
  if (boot.dir !== undefined) await mkdir(dir, { recursive: true, mode: 0o700 });
  const stage = new BootStage({ binDir: boot.binDir, dir, maxControlPlanes: boot.maxControlPlanes ?? 3, store, logger });
  return {
    stage,
    close: async () => {
      await stage.close();
      if (boot.dir === undefined) await removeBootDir(dir);
    },
  };
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger({ name: "maas-sim", level: process.env.LOG_LEVEL ?? "warn" });
  const version = parseMaasVersion(options.maasVersion ?? "3.6.0");
  const features = featuresOf(version);
  checkNumber("deploySeconds", options.deploySeconds, 0);
  checkNumber("releaseSeconds", options.releaseSeconds, 0);
  checkNumber("deployFailureRate", options.deployFailureRate, 0, 1);
  checkNumber("machines", options.machines, 0);
  checkNumber("port", options.port, 0, 65535);
  checkNumber("requestTimeoutMs", options.requestTimeoutMs, 1);
  checkNumber("maxBodyBytes", options.maxBodyBytes, 0);
  checkNumber("maxConnections", options.maxConnections, 1);
  checkNumber("dnsProxyPort", options.dnsProxyPort, 0, 65535);
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed)) throw new Error(`seed must be a whole number; got ${seed}`);

  if (options.stateFile !== undefined) removeStaleTemporaryFiles(options.stateFile);
  const saved = options.stateFile === undefined ? null : loadStateFile(options.stateFile);
  let data;
  if (saved !== null) {
    data = saved;
    checkSavedSubnet(options, data.state.subnet.cidr);
    data.state.maasVersion = version.text;
    const admin = data.credentials.find((c) => c.username === ADMIN_USERNAME);
    if (options.apiKey !== undefined) {
      const fresh = parseApiKey(options.apiKey);
      data.credentials = [fresh, ...data.credentials.filter((c) => c.username !== ADMIN_USERNAME)];
    } else if (admin === undefined) {
      data.credentials.unshift(parseApiKey(generateApiKey()));
    }
  } else {
    const inventory = options.inventory ?? (options.inventoryFile === undefined ? {} : loadInventoryFile(options.inventoryFile));
    data = buildStoreData({
      inventory,
      machines: options.machines ?? 10,
      seed,
      maasVersion: version.text,
      admin: parseApiKey(options.apiKey ?? generateApiKey()),
      source: options.inventory === undefined && options.inventoryFile !== undefined ? `inventory ${options.inventoryFile}` : "inventory",
      subnet: options.subnet,
    });
  }
  const adminKey = data.credentials.find((c) => c.username === ADMIN_USERNAME) as Credential;
  const apiKey = `${adminKey.consumerKey}:${adminKey.tokenKey}:${adminKey.tokenSecret}`;

  const store = new Store(data);
  const boot = await startBootStage(options, store, logger);
  const lifecycle = new Lifecycle({
    store, clock, features, seed,
    ...(boot === null ? {} : { observer: boot.stage }),
    deploySeconds: options.deploySeconds ?? 5,
    releaseSeconds: options.releaseSeconds ?? 2,
    deployFailureRate: options.deployFailureRate ?? 0,
  });
  lifecycle.restore();
  const faults = new FaultInjector(options.faults ?? [], seed);
  const log = new RequestLog();
  const persistence = options.stateFile === undefined ? null : new StatePersistence(options.stateFile, data, logger);
  if (persistence !== null) {
    store.onChange(() => persistence.changed());
    // Written now: a fresh file for a new state, owner-only permissions for an old one.
    try {
      await persistence.commit();
    } catch (error) {
      lifecycle.close();
      await boot?.close();
      throw new StateFileError(`cannot write state file ${options.stateFile ?? ""} (${(error as Error).message}); point --state at a writable path`);
    }
  }
  // Every answer waits for this, so no client sees a change that a crash could take back.
  const commit = (): Promise<void> => persistence?.commit() ?? Promise.resolve();
  const env = { store, clock, version, features, lifecycle };
  // OAuth timestamps are the client's wall-clock time, so they are checked
  // against the real clock even when the lifecycle runs on a fake one.
  const verifier = new OAuthVerifier(store, () => systemClock.now());
  const server = new SimServer({
    api: { env, verifier, faults, log, clock, logger, commit },
    admin: { store, faults, log, machinesPrng: new Prng(seed, "added-machines"), commit, ...(boot === null ? {} : { boot: () => boot.stage.state() }) },
    clock,
    logger,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    maxConnections: options.maxConnections ?? defaultMaxConnections(),
  });
  const host = options.host ?? "127.0.0.1";
  let port: number;
  try {
    port = await server.listen(options.port ?? 0, host);
  } catch (error) {
    lifecycle.close();
    await boot?.close();
    await persistence?.close();
    throw error;
  }
  let dnsProxy: DnsProxy | null = null;
  if (options.dnsProxyPort !== undefined) {
    try {
      dnsProxy = await DnsProxy.listen(host, options.dnsProxyPort, { resolve: (name) => resolveMaasName(store, name), knows: (address) => isMaasAddress(store, address) });
    } catch (error) {
      lifecycle.close();
      await server.close();
      await boot?.close();
      await persistence?.close();
      throw new Error(`cannot listen for the DNS proxy on ${host}:${String(options.dnsProxyPort)} (${(error as Error).message}); pick another port, or 0 for a free one`);
    }
  }
  const publicHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  const origin = `http://${publicHost}:${port}`;
  logger.info({ endpoint: `${origin}/MAAS`, maasVersion: version.text, machines: store.state.machines.length }, "MAAS simulator listening");

  let closing: Promise<void> | null = null;
  return {
    endpoint: `${origin}/MAAS`,
    apiKey,
    port,
    adminUrl: `${origin}/_sim`,
    setFaults: (rules, faultSeed) => faults.set(rules, faultSeed),
    clearFaults: () => faults.clear(),
    requestLog: () => log.list(),
    clearRequestLog: () => log.clear(),
    state: () => store.snapshot(),
    bootState: () => boot?.stage.state() ?? null,
    dnsProxyUrl: dnsProxy === null ? null : `http://${publicHost}:${String(dnsProxy.port)}`,
    close: () => {
      closing ??= (async () => {
        lifecycle.close();
        await dnsProxy?.close();
        await server.close();
        // Every machine's processes stop with the simulator.
        await boot?.close();
        await persistence?.close();
        logger.info("MAAS simulator stopped");
      })();
      return closing;
    },
  };
}
