// reconcileCapacity: status.capacity and status.nodeInfo from the machine MAAS would
// allocate for a MaasMachine of this template, asked as a dry run. MAAS's allocate
// handler runs the same constraint filter with `dry_run=true` and only skips
// `machine.acquire(...)`, so the answer is the machine a real allocation would take and
// nothing is held (maas@3.7.0 src/maasserver/api/machines.py MachinesHandler.allocate).
//
// MAAS is asked at most once per refresh interval (settings.templateCapacityRefreshMs)
// for one spec: status.lastRefreshTime and status.observedGeneration say when MAAS last
// answered and for which generation. They live in status, not in memory, so a restart
// or a new leader does not ask MAAS again for every template, and users see how old the
// figures are. Events within the interval (resyncs, Cluster changes, annotation edits)
// end here without a MAAS call; a new generation asks at once. (The reconciler makes
// sure the template read here already shows our last status write: see reconciler.ts.)
import {
  CapacityFromMaasReason,
  CapacityFromTemplateReason,
  CapacityReadyCondition,
  MaasNotConfiguredReason,
  MaasReachableCondition,
  MaasUnavailableReason,
  ReadyReason,
  type MaasMachineSpec,
} from "../../api/v1beta1/index.ts";
import { MaasError, type AllocateParams, type Machine } from "../../maas/index.ts";
import type { Result } from "../../runtime/index.ts";
import { MaasNotConfiguredError, type MaasEndpoint } from "../shared/maas-connection.ts";
import { machineCapacity, nodeArchitecture, nodeInfoFor, templateCapacity } from "./machine-capacity.ts";
import type { TemplateScope } from "./scope.ts";
import { endpointUrl, maasFailureMessage } from "../shared/maas-failure.ts";

export async function reconcileCapacity(scope: TemplateScope): Promise<Result> {
  const refreshMs = scope.deps.settings.templateCapacityRefreshMs;
  const dueInMs = refreshDueInMs(scope, refreshMs);
  if (dueInMs > 0) return { requeueAfterMs: dueInMs };

  const spec = scope.template.spec.template.spec;
  let endpoint: MaasEndpoint;
  try {
    endpoint = scope.deps.maas.endpoint();
  } catch (err) {
    if (!(err instanceof MaasNotConfiguredError)) throw err;
    useTemplateMinimums(scope, `MAAS cannot be asked: ${err.message}`);
    scope.setCondition({ type: MaasReachableCondition, status: "False", reason: MaasNotConfiguredReason, message: err.message });
    // Nothing to back off from: look again at the interval (or at the next spec change).
    return { requeueAfterMs: refreshMs };
  }

  let machine: Machine;
  try {
    machine = await endpoint.services.machines.allocate(dryRunParams(spec), { signal: scope.signal });
  } catch (err) {
    return reportDryRunFailure(scope, err, refreshMs);
  }
  scope.status.capacity = machineCapacity(machine, spec);
  scope.status.nodeInfo = nodeInfoFor(spec.image, nodeArchitecture(machine.architecture));
  scope.setCondition({
    type: CapacityReadyCondition,
    status: "True",
    reason: CapacityFromMaasReason,
    message: `Read from MAAS machine ${machine.hostname} (${machine.system_id}): the one MAAS would allocate now for these constraints`,
  });
  markRefreshed(scope);
  scope.log.debug({ systemId: machine.system_id, capacity: scope.status.capacity }, "capacity read from MAAS");
  return { requeueAfterMs: refreshMs };
}

/**
 * How long until MAAS should be asked again; 0 means now. Now when nothing was read
 * yet, MAAS could not be asked last time (no lastRefreshTime), or the spec changed.
 */
function refreshDueInMs(scope: TemplateScope, refreshMs: number): number {
  const { status, metadata } = scope.template;
  if (status?.capacity === undefined || status.lastRefreshTime === undefined) return 0;
  if (status.observedGeneration !== metadata.generation) return 0;
  const refreshedAtMs = Date.parse(status.lastRefreshTime);
  if (Number.isNaN(refreshedAtMs)) return 0;
  const elapsedMs = scope.clock.now() - refreshedAtMs;
  // A time ahead of our clock (another replica's skew) waits one interval, never longer.
  return elapsedMs >= refreshMs ? 0 : Math.min(refreshMs, refreshMs - elapsedMs);
}

/** The constraints a MaasMachine of this template is allocated with (maasmachine/allocate.ts), as a dry run. */
function dryRunParams(spec: MaasMachineSpec): AllocateParams {
  const tags = spec.tags ?? [];
  return {
    cpuCount: spec.minCPU,
    memoryMiB: spec.minMemory,
    ...(tags.length === 0 ? {} : { tags }),
    ...(spec.resourcePool === undefined ? {} : { pool: spec.resourcePool }),
    // A MachineDeployment usually sets the zone on each Machine instead; then any zone may be picked.
    ...(spec.failureDomain === undefined || spec.failureDomain === "" ? {} : { zone: spec.failureDomain }),
    dryRun: true,
  };
}

/** MAAS codes meaning "MAAS was not asked or could not answer", as opposed to an answer about the constraints. */
const UNAVAILABLE_CODES = new Set(["Unavailable", "ServerError", "Timeout", "Network", "Unauthorized", "Forbidden", "TlsVerification", "Unexpected"]);

function reportDryRunFailure(scope: TemplateScope, err: unknown, refreshMs: number): Result {
  if (!(err instanceof MaasError) || err.code === "Aborted") throw err;
  const body = err.body ?? err.message;
  if (err.code === "Conflict" || err.code === "BadRequest") {
    // An answer about these constraints; asking again before the interval would get the same one.
    const why =
      err.code === "Conflict"
        ? `No MAAS machine matches now (${body})`
        : `MAAS refused the constraints (${body}); check that the tags, resourcePool and failureDomain exist in MAAS`;
    if (err.code === "BadRequest" && scope.condition(CapacityReadyCondition)?.reason !== CapacityFromTemplateReason) {
      scope.event({ type: "Warning", reason: CapacityFromTemplateReason, action: "ReadCapacity", note: why });
    }
    useTemplateMinimums(scope, why);
    markRefreshed(scope);
    return { requeueAfterMs: refreshMs };
  }
  if (!UNAVAILABLE_CODES.has(err.code)) throw err;
  const message = maasFailureMessage(err, "Asking MAAS which machine it would allocate", endpointUrl(scope.deps.maas));
  useTemplateMinimums(scope, `MAAS could not be asked (${message})`);
  scope.setCondition({ type: MaasReachableCondition, status: "False", reason: MaasUnavailableReason, message });
  // Thrown so the controller retries with backoff; lastRefreshTime stays unset until MAAS answers.
  throw err;
}

/**
 * The template's minimums, which every machine MAAS gives a MaasMachine of it has. The
 * architecture MAAS last reported for this same spec is kept: a 409 or an outage says
 * nothing about it, and without one the autoscaler assumes its default (amd64).
 */
function useTemplateMinimums(scope: TemplateScope, why: string): void {
  const spec = scope.template.spec.template.spec;
  const sameSpec = scope.status.observedGeneration === scope.template.metadata.generation;
  const architecture = sameSpec ? scope.status.nodeInfo?.architecture : undefined;
  scope.status.capacity = templateCapacity(spec);
  scope.status.nodeInfo = nodeInfoFor(spec.image, architecture);
  scope.status.observedGeneration = scope.template.metadata.generation;
  delete scope.status.lastRefreshTime;
  scope.refreshRecorded = true;
  scope.setCondition({
    type: CapacityReadyCondition,
    status: "False",
    reason: CapacityFromTemplateReason,
    message: `${why}; capacity is the template's minCPU and minMemory`,
  });
}

/** MAAS answered for this generation now; the next question waits for the interval. */
function markRefreshed(scope: TemplateScope): void {
  scope.status.observedGeneration = scope.template.metadata.generation;
  scope.status.lastRefreshTime = formatTime(scope.clock.now());
  scope.refreshRecorded = true;
  scope.setCondition({ type: MaasReachableCondition, status: "True", reason: ReadyReason });
}

/** RFC 3339 in UTC at whole seconds, as metav1.Time serialises. */
function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
}
