// The provider's reconcilers, one folder per kind (maasmachine/, maascluster/,
// maasmachinetemplate/), on the runtime, the MAAS client and the CAPI contract, plus
// what they share (shared/: the MAAS connection and its machine watcher, settings,
// metrics, workload-cluster clients). setupProviderControllers wires them into a Manager.
import { requestFor, type InformerScope, type Manager } from "../runtime/index.ts";
import type { ControllerDeps } from "./shared/deps.ts";
import { setupMaasClusterController, type MaasClusterController } from "./maascluster/index.ts";
import { setupMaasMachineController, type MaasMachineController } from "./maasmachine/setup.ts";
import { setupMaasMachineTemplateController, type MaasMachineTemplateController } from "./maasmachinetemplate/setup.ts";

export { DEFAULT_SETTINGS, type ControllerDeps, type ProviderSettings } from "./shared/deps.ts";
export { MaasConnection, MaasNotConfiguredError, type MaasCredentials, type MaasEndpoint } from "./shared/maas-connection.ts";
export { MachineWatcher, type MachineSnapshot } from "./shared/machine-watcher.ts";
export { createProviderMetrics, type ProviderMetrics } from "./shared/metrics.ts";
export { WorkloadClusters } from "./shared/workload-clusters.ts";
export { setupMaasClusterController, type MaasClusterController } from "./maascluster/index.ts";
export { setupMaasMachineController, type MaasMachineController } from "./maasmachine/setup.ts";
export { setupMaasMachineTemplateController, type MaasMachineTemplateController } from "./maasmachinetemplate/setup.ts";

export interface ProviderControllersOptions {
  manager: Manager;
  deps: ControllerDeps;
  /** The watch-filter selector (or none). */
  scope: InformerScope;
  machineConcurrency: number;
  clusterConcurrency: number;
}

export interface ProviderControllers {
  clusters: MaasClusterController;
  machines: MaasMachineController;
  templates: MaasMachineTemplateController;
  /** Enqueues every object of every controller (e.g. once MAAS credentials arrive). */
  enqueueAll(): void;
}

export function setupProviderControllers(options: ProviderControllersOptions): ProviderControllers {
  const { manager, deps, scope } = options;
  const clusters = setupMaasClusterController({ manager, deps, scope, workers: options.clusterConcurrency });
  const machines = setupMaasMachineController({ manager, deps, scope, workers: options.machineConcurrency });
  // Templates are few and each refresh is one dry-run allocate: the cluster concurrency is plenty.
  const templates = setupMaasMachineTemplateController({ manager, deps, scope, workers: options.clusterConcurrency });
  const enqueueAll = (): void => {
    for (const c of clusters.caches.maasClusters.list()) clusters.controller.enqueue(requestFor(c));
    for (const m of machines.caches.maasMachines.list()) machines.controller.enqueue(requestFor(m));
    for (const t of templates.caches.templates.list()) templates.controller.enqueue(requestFor(t));
  };
  return { clusters, machines, templates, enqueueAll };
}
