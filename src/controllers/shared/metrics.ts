// The provider's own metrics, beside the runtime's controller_runtime_* ones. Names
// and labels are listed in the README.
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { effectiveEphemeral, type MaasMachine } from "../../api/v1beta1/index.ts";

export interface ProviderMetrics {
  /** MaasMachines by where they deploy and their MAAS state (set from the cache on scrape). */
  machines: Gauge<"deployment_target" | "state">;
  /** Seconds from a MaasMachine's creation to Ready. */
  timeToReady: Histogram<"deployment_target">;
  /** MAAS requests by operation and HTTP status (or error code when MAAS did not answer). */
  maasRequests: Counter<"operation" | "code">;
  /** Allocations MAAS answered with 409 (no machine matches). */
  allocationConflicts: Counter;
  /** Deploys to memory refused, by us (version/image) or by MAAS. */
  ephemeralRefusals: Counter<"source">;
  /** MAAS memory minus requested minMemory of ephemeral machines, MiB. */
  ephemeralMemoryHeadroom: Histogram;
  /** Counts `capmaas_machines` at each scrape from the MaasMachines `source` visits (the informer cache, no API call, no copies). */
  countMachinesFrom(source: (visit: (maasMachine: Readonly<MaasMachine>) => void) => void): void;
}

export function createProviderMetrics(registry: Registry): ProviderMetrics {
  const registers = [registry];
  let source: (visit: (maasMachine: Readonly<MaasMachine>) => void) => void = () => undefined;
  const machines: Gauge<"deployment_target" | "state"> = new Gauge({
    name: "capmaas_machines",
    help: "MaasMachines by deployment target (memory, disk) and MAAS state.",
    labelNames: ["deployment_target", "state"],
    registers,
    collect() {
      // Counted here and set once per label pair: prom-client hashes the labels on every inc.
      const counts = new Map<string, { deployment_target: string; state: string; count: number }>();
      source((maasMachine) => {
        const target = maasMachine.status?.deploymentTarget ?? (effectiveEphemeral(maasMachine.spec) ? "memory" : "disk");
        const state = maasMachine.status?.machineState ?? "Pending";
        const key = `${target}\u0000${state}`;
        const entry = counts.get(key) ?? { deployment_target: target, state, count: 0 };
        entry.count++;
        counts.set(key, entry);
      });
      machines.reset();
      for (const { count, ...labels } of counts.values()) machines.set(labels, count);
    },
  });
  return {
    countMachinesFrom: (next) => {
      source = next;
    },
    machines,
    timeToReady: new Histogram({
      name: "capmaas_machine_time_to_ready_seconds",
      help: "Seconds from a MaasMachine's creation to Ready, by deployment target.",
      labelNames: ["deployment_target"],
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600],
      registers,
    }),
    maasRequests: new Counter({
      name: "capmaas_maas_requests_total",
      help: "MAAS API requests by operation and HTTP status code (or error code when MAAS did not answer).",
      labelNames: ["operation", "code"],
      registers,
    }),
    allocationConflicts: new Counter({
      name: "capmaas_allocation_conflicts_total",
      help: "Allocations MAAS refused with 409 because no machine matched.",
      registers,
    }),
    ephemeralRefusals: new Counter({
      name: "capmaas_ephemeral_refusals_total",
      help: "Deploys to memory refused: source=provider (MAAS version or image) or source=maas (MAAS answered 400).",
      labelNames: ["source"],
      registers,
    }),
    ephemeralMemoryHeadroom: new Histogram({
      name: "capmaas_ephemeral_memory_headroom_mib",
      help: "MAAS memory minus the requested minMemory of machines deployed to memory, MiB.",
      buckets: [0, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072],
      registers,
    }),
  };
}
