// The MAAS client: one configured HTTP transport and a service per MAAS concern.
// Reconcilers depend on the narrow service interfaces (or on MaasServices as a whole)
// and receive them through their constructor options, so tests pass fakes there.
import { systemClock, type Clock } from "../clock/index.ts";
import type { Logger } from "../observability/index.ts";
import { MaasBootResourcesService, type BootResourcesService } from "./boot-resources.ts";
import { normaliseEndpoint, parseApiKey } from "./credentials.ts";
import { MaasDnsResourcesService, type DnsResourcesService } from "./dns-resources.ts";
import { MaasDomainsService, type DomainsService } from "./domains.ts";
import { MaasConfigError } from "./errors.ts";
import { MaasHttp, type MaasResponseEvent } from "./http.ts";
import { MaasMachinesService, type MachinesService } from "./machines.ts";
import { MaasResourcePoolsService, type ResourcePoolsService } from "./resource-pools.ts";
import { resolveRetryOptions, type RetryOptions } from "./retry.ts";
import { MaasTagsService, type TagsService } from "./tags.ts";
import { resolveTlsOptions } from "./tls.ts";
import { MaasVersionService, type VersionService } from "./version.ts";
import { MaasZonesService, type ZonesService } from "./zones.ts";

export const DEFAULT_TIMEOUT_MS = 30_000;

export interface MaasClientOptions {
  /** The MAAS URL, e.g. `http://maas:5240/MAAS`, or its API root `.../MAAS/api/2.0/`. */
  endpoint: string;
  /** `consumer_key:token_key:token_secret`. Held privately; never logged or serialised. */
  apiKey: string;
  /** Per-attempt limit for a whole exchange (connect, send, full answer). Default 30 s. */
  timeoutMs?: number;
  /** Retry limits; see retry.ts for which failures are retried. */
  retry?: Partial<RetryOptions>;
  /** Time for OAuth timestamps, timeouts and backoff sleeps. */
  clock?: Clock;
  /** Uniform in [0, 1); the backoff jitter. */
  random?: () => number;
  /** Request lines at debug level: method, path, op, status, duration. */
  logger?: Logger;
  /** Reuse connections between requests (default true). */
  keepAlive?: boolean;
  /**
   * Extra CA certificates (one or more PEM blocks) for an https endpoint signed by a
   * private CA, trusted in addition to Node's default roots. An empty or non-PEM value
   * is refused at construction; on an http: endpoint it is ignored with a warning.
   */
  caCertificates?: string;
  /**
   * Skip verifying MAAS's certificate (default false). Anyone on the path can then pose
   * as MAAS; logged as a warning once, at construction. Prefer caCertificates.
   */
  insecureSkipTlsVerify?: boolean;
  userAgent?: string;
  /**
   * Called once per attempt (a retried call reports each try) with the templated
   * operation, e.g. "POST machines/{system_id}/?op=deploy", the HTTP status or error
   * code and the duration: for request metrics. Never given parameters, headers or
   * bodies. A hook that throws is logged and ignored.
   */
  onResponse?: (event: MaasResponseEvent) => void;
}

/** Every MAAS concern the provider uses; reconcilers take this, or one member of it. */
export interface MaasServices {
  readonly version: VersionService;
  readonly machines: MachinesService;
  readonly tags: TagsService;
  readonly zones: ZonesService;
  readonly resourcePools: ResourcePoolsService;
  readonly domains: DomainsService;
  readonly dnsResources: DnsResourcesService;
  readonly bootResources: BootResourcesService;
}

export class MaasClient implements MaasServices {
  /** The normalised API root, e.g. `http://maas:5240/MAAS/api/2.0/`. */
  readonly apiRoot: string;
  readonly version: VersionService;
  readonly machines: MachinesService;
  readonly tags: TagsService;
  readonly zones: ZonesService;
  readonly resourcePools: ResourcePoolsService;
  readonly domains: DomainsService;
  readonly dnsResources: DnsResourcesService;
  readonly bootResources: BootResourcesService;
  readonly #http: MaasHttp;

  constructor(options: MaasClientOptions) {
    const apiRoot = normaliseEndpoint(options.endpoint);
    const credentials = parseApiKey(options.apiKey);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new MaasConfigError(`MAAS timeoutMs must be a positive number of milliseconds; got ${timeoutMs}`);
    }
    this.apiRoot = apiRoot.href;
    const logger = options.logger?.child({ component: "maas-client" });
    const tls = resolveTlsOptions({
      apiRoot,
      caCertificates: options.caCertificates,
      insecureSkipTlsVerify: options.insecureSkipTlsVerify,
      logger,
    });
    this.#http = new MaasHttp({
      apiRoot,
      credentials,
      clock: options.clock ?? systemClock,
      random: options.random ?? Math.random,
      timeoutMs,
      retry: resolveRetryOptions(options.retry),
      keepAlive: options.keepAlive ?? true,
      userAgent: options.userAgent ?? "cluster-api-provider-maas",
      ...(logger === undefined ? {} : { logger }),
      ...(options.onResponse === undefined ? {} : { onResponse: options.onResponse }),
      tls,
    });
    this.version = new MaasVersionService(this.#http);
    this.machines = new MaasMachinesService(this.#http);
    this.tags = new MaasTagsService(this.#http);
    this.zones = new MaasZonesService(this.#http);
    this.resourcePools = new MaasResourcePoolsService(this.#http);
    this.domains = new MaasDomainsService(this.#http);
    this.dnsResources = new MaasDnsResourcesService(this.#http);
    this.bootResources = new MaasBootResourcesService(this.#http);
  }

  /** Closes idle keep-alive connections. The client stays usable; new requests reconnect. */
  close(): void {
    this.#http.close();
  }

  toString(): string {
    return `MaasClient(${this.apiRoot})`;
  }

  /** The endpoint only: the key is never serialised. */
  toJSON(): { apiRoot: string } {
    return { apiRoot: this.apiRoot };
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

export function createMaasClient(options: MaasClientOptions): MaasClient {
  return new MaasClient(options);
}
