// What every reconciler of this provider is built from: the Kubernetes client and event
// recorder of the manager, the MAAS connection, time, settings and metrics. Passed
// through constructor options so tests build reconcilers from real or fake parts.
import type { Clock } from "../../clock/index.ts";
import type { EventRecorder, KubeClient } from "../../runtime/index.ts";
import type { MaasConnection } from "./maas-connection.ts";
import type { ProviderMetrics } from "./metrics.ts";

export interface ProviderSettings {
  /** Below this much memory (MiB) an ephemeral machine gets a warning; it deploys anyway. */
  ephemeralMinMemoryMiB: number;
  /** How often templates re-read their capacity from MAAS. */
  templateCapacityRefreshMs: number;
}

export const DEFAULT_SETTINGS: ProviderSettings = {
  // 16 GiB: the figure MAAS providers document for an OS plus Kubernetes in memory.
  ephemeralMinMemoryMiB: 16 * 1024,
  templateCapacityRefreshMs: 10 * 60_000,
};

export interface ControllerDeps {
  client: KubeClient;
  events: EventRecorder;
  maas: MaasConnection;
  clock: Clock;
  settings: ProviderSettings;
  metrics: ProviderMetrics;
}
