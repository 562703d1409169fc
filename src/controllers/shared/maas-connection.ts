// The manager's one way to MAAS: the current client (credentials may come from a Secret
// and change while the manager runs), the MAAS version read once per endpoint, and the
// shared machine watcher of that endpoint. Reconcilers ask for `endpoint()` on every
// pass, so a credentials change reaches the next reconcile without a restart.
import type { Clock } from "../../clock/index.ts";
import type { MaasServices, MaasVersion } from "../../maas/index.ts";
import { parseMaasVersion } from "../../maas/index.ts";
import type { Logger } from "../../observability/index.ts";
import { MachineWatcher, type MachineWatcherOptions, type ReadFailure } from "./machine-watcher.ts";

export interface MaasCredentials {
  endpoint: string;
  apiKey: string;
}

/** A client the connection owns: closed when the credentials change or the manager stops. */
export type ClosableMaasServices = MaasServices & { close(): void };

export interface MaasConnectionOptions {
  /** Builds a client for the given credentials (the manager passes createMaasClient with its TLS options). */
  createClient: (credentials: MaasCredentials) => ClosableMaasServices;
  clock: Clock;
  logger: Logger;
  /** Called with a MaasMachine key when the watcher sees its MAAS machine change. */
  onMachineChange: (key: string) => void;
  /** Called after new credentials took effect: objects that waited for MAAS should be reconciled now. */
  onConfigured?: () => void;
  /**
   * Called when the watcher's reads of MAAS start failing and when they work again:
   * objects that make no MAAS call of their own (a MaasCluster with a given endpoint)
   * report reachability from it.
   */
  onReadFailureChange?: (failure: ReadFailure | undefined) => void;
  watcher?: Partial<Pick<MachineWatcherOptions, "fastIntervalMs" | "slowIntervalMs" | "batchSize">>;
}

/** No MAAS credentials yet (the credentials Secret is missing or incomplete). */
export class MaasNotConfiguredError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MaasNotConfiguredError";
  }
}

export interface MaasEndpoint {
  readonly url: string;
  readonly services: MaasServices;
  readonly watcher: MachineWatcher;
  /** The MAAS version, read once per endpoint and cached (a failed read is retried next time). */
  version(signal?: AbortSignal): Promise<MaasVersion>;
}

export class MaasConnection {
  private readonly opts: MaasConnectionOptions;
  private current: { credentials: MaasCredentials; client: ClosableMaasServices; endpoint: MaasEndpoint } | undefined;
  private notConfiguredReason = "MAAS credentials are not configured";
  /** Keys whose machines a disposed endpoint watched; enqueued once a new endpoint exists. */
  private readonly keysToRefresh = new Set<string>();

  constructor(options: MaasConnectionOptions) {
    this.opts = options;
  }

  /** Uses these credentials from now on; a no-op when they did not change. */
  configure(credentials: MaasCredentials): void {
    if (this.current !== undefined && sameCredentials(this.current.credentials, credentials)) return;
    const client = this.opts.createClient(credentials);
    this.dispose();
    const watcher = new MachineWatcher({
      machines: client.machines,
      clock: this.opts.clock,
      logger: this.opts.logger,
      onChange: this.opts.onMachineChange,
      ...(this.opts.onReadFailureChange === undefined ? {} : { onReadFailureChange: this.opts.onReadFailureChange }),
      ...this.opts.watcher,
    });
    watcher.start();
    let version: Promise<MaasVersion> | undefined;
    const endpoint: MaasEndpoint = {
      url: credentials.endpoint,
      services: client,
      watcher,
      version: (signal) => {
        version ??= client.version.get(signal === undefined ? undefined : { signal }).then((info) => {
          const parsed = parseMaasVersion(info.version);
          if (parsed === undefined) throw new Error(`MAAS reported a version that cannot be parsed: "${info.version}"`);
          return parsed;
        });
        version.catch(() => (version = undefined));
        return version;
      },
    };
    this.current = { credentials, client, endpoint };
    this.opts.logger.info({ endpoint: credentials.endpoint }, "MAAS endpoint configured");
    // Machines watched through the old endpoint are re-registered by their next reconcile.
    for (const key of this.keysToRefresh) this.opts.onMachineChange(key);
    this.keysToRefresh.clear();
    this.opts.onConfigured?.();
  }

  /** Forgets the credentials (e.g. the Secret was deleted); `endpoint()` throws until configured again. */
  unconfigure(reason: string): void {
    this.notConfiguredReason = reason;
    this.dispose();
  }

  /** The endpoint to use now; throws MaasNotConfiguredError when there are no credentials. */
  endpoint(): MaasEndpoint {
    if (this.current === undefined) throw new MaasNotConfiguredError(this.notConfiguredReason);
    return this.current.endpoint;
  }

  isConfigured(): boolean {
    return this.current !== undefined;
  }

  close(): void {
    this.dispose();
  }

  private dispose(): void {
    if (this.current === undefined) return;
    for (const key of this.current.endpoint.watcher.keys()) this.keysToRefresh.add(key);
    this.current.endpoint.watcher.stop();
    this.current.client.close();
    this.current = undefined;
  }
}

function sameCredentials(a: MaasCredentials, b: MaasCredentials): boolean {
  return a.endpoint === b.endpoint && a.apiKey === b.apiKey;
}
