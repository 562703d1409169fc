// From an allocated machine to a Deployed one, reading MAAS through the endpoint's
// watcher (no per-machine polling): deploy an Allocated machine with the image, the
// bootstrap data and ephemeral_deploy; follow Deploying; report Deployed; replace a
// failed deployment; report a machine that MAAS lost, that left Deployed by itself, or
// that someone else took (MAAS no longer holds it under our agent name), without ever
// deploying it again.
import {
  EphemeralMemoryLowReason,
  EphemeralMemorySufficientCondition,
  EphemeralMemorySufficientReason,
  MachineDeployFailedReason,
  MachineDeployedCondition,
  MachineDeployingReason,
  MachineLostReason,
  MachineNotFoundReason,
  MachineRedeployedReason,
  WaitingForBootstrapDataReason,
} from "../../api/v1beta1/index.ts";
import { SECRET, bootstrapDataSecretName, decodeBootstrapData } from "../../capi/index.ts";
import { MaasError, MachineStatus, type Machine } from "../../maas/index.ts";
import { isNotFound, type Result } from "../../runtime/index.ts";
import { HELD, allocateReplacement, stillHeld, switchTo } from "./allocate.ts";
import { forgetAllocatedSpec, specInForce } from "./desired.ts";
import { refuseEphemeral } from "./ephemeral.ts";
import { endpointOrReport, reportMaasFailure, reportWatcherReads } from "./maas-errors.ts";
import type { NormalOptions } from "./normal.ts";
import { reportDeployed, reportObserved } from "./observed.ts";
import type { MachineScope } from "./scope.ts";

/** How long to wait for the watcher's first read of a machine before asking again. */
const FIRST_READ_FALLBACK_MS = 30_000;

export async function reconcileDeploy(scope: MachineScope, options: NormalOptions): Promise<Result | void> {
  const systemId = scope.maasMachine.spec.systemID;
  if (systemId === undefined) return;
  const endpoint = endpointOrReport(scope);
  if (endpoint === undefined) return;
  endpoint.watcher.watch(systemId, scope.key);
  const snapshot = endpoint.watcher.snapshot(systemId);
  // MAAS cannot be read: said, and nothing decided from a stale read until it can.
  if (!reportWatcherReads(scope, endpoint, snapshot)) return snapshot === undefined ? { requeueAfterMs: FIRST_READ_FALLBACK_MS } : undefined;
  // Not read yet (e.g. just after a restart): the watcher's batch read enqueues us.
  if (snapshot === undefined) return { requeueAfterMs: FIRST_READ_FALLBACK_MS };
  const machine = snapshot.machine;
  if (machine === undefined) return reportNotFound(scope, systemId);
  reportObserved(scope, machine);
  // Lost stays lost: a release cleared our claim, so whatever MAAS shows of the machine
  // later (allocated, deployed) is someone else's, never to be deployed or reported Ready.
  if (scope.condition(MachineDeployedCondition)?.reason === MachineLostReason) return reportLost(scope, machine);
  if (allocatedTarget(scope) === "memory") reportMemory(scope, machine);

  switch (machine.status) {
    case MachineStatus.Allocated:
      if (wasDeployed(scope)) return reportLost(scope, machine);
      // Ours to deploy only while MAAS holds it under our agent name.
      if (!(await stillHeld(scope, systemId))) return reportLost(scope, machine);
      return deploy(scope, machine, options);
    case MachineStatus.Deploying:
      if (scope.status.initialization?.provisioned === true) {
        // A power cycle of a machine in memory, or someone else's deploy of a machine taken from us.
        if (!(await stillHeld(scope, systemId))) return reportLost(scope, machine);
        return reportRedeploying(scope, machine);
      }
      // A pass between our deploy and the watcher's report (another object's event woke
      // it) has nothing newer to say than that report will: it leaves the status to it.
      if (endpoint.watcher.reportPending(systemId)) scope.skipStatusWrite();
      scope.setCondition({
        type: MachineDeployedCondition,
        status: "False",
        reason: MachineDeployingReason,
        message: `MAAS is deploying ${machine.hostname} (${systemId}) ${allocatedTarget(scope) === "memory" ? "into memory" : "to disk"}`,
      });
      return;
    case MachineStatus.Deployed:
      return reportDeployed(scope, machine, options);
    case MachineStatus.FailedDeployment:
      if (!(await stillHeld(scope, systemId))) return reportLost(scope, machine);
      return replaceFailed(scope, machine);
    default:
      return reportLost(scope, machine);
  }
}

function allocatedTarget(scope: MachineScope): "memory" | "disk" {
  const spec = specInForce(scope.maasMachine, scope.machine);
  return spec.ephemeral ? "memory" : "disk";
}

/** True once this machine reached Deployed under us (provisioned never flips back). */
function wasDeployed(scope: MachineScope): boolean {
  return scope.status.initialization?.provisioned === true;
}

async function deploy(scope: MachineScope, machine: Machine, options: NormalOptions): Promise<Result | void> {
  const { services, watcher } = scope.deps.maas.endpoint();
  const spec = specInForce(scope.maasMachine, scope.machine);
  const userData = await readBootstrapData(scope, options);
  if (userData === undefined) return { requeueAfterMs: BOOTSTRAP_RETRY_MS };
  if (spec.ephemeral) warnIfLowMemory(scope, machine, spec.minMemory);
  let deployed: Machine;
  try {
    deployed = await services.machines.deploy(
      machine.system_id,
      { distroSeries: spec.image, userData, ...(spec.ephemeral ? { ephemeralDeploy: true } : {}) },
      { signal: scope.signal },
    );
  } catch (err) {
    if (spec.ephemeral && err instanceof MaasError && err.code === "BadRequest") {
      // MAAS's own refusal (3.5+: "Deployment to memory not supported for …"; 2.7–3.4: the
      // Bionic rule): terminal, and the machine goes back so nothing stays held.
      // Released first: that write moves the generation, and the refusal must hold for the new one.
      await releaseAndForget(scope, machine, "MAAS refused to deploy it into memory");
      refuseEphemeral(scope, { source: "maas", message: `MAAS refused to deploy into memory: ${err.body ?? err.message}` });
      return;
    }
    throw reportMaasFailure(scope, err, `Deploying ${machine.system_id}`);
  }
  scope.log.info({ systemId: deployed.system_id, target: spec.ephemeral ? "memory" : "disk" }, "deploying MAAS machine");
  // No Event and no status write here: the watcher's next read enqueues us (urgently) even
  // if MAAS still says Deploying, and that pass writes the status from what it read, which
  // with a fast MAAS is already Deployed; one write less per machine. The spec naming the
  // machine was written before the deploy, so nothing is lost if we stop here.
  watcher.observe(deployed, { reportNextRead: true });
  scope.skipStatusWrite();
}

/** How soon to look again for a bootstrap Secret the Machine names but the API server does not have yet. */
export const BOOTSTRAP_RETRY_MS = 5_000;

/**
 * The bootstrap data from the Machine's Secret: from the cache of cluster-labelled
 * Secrets, else straight from the API server (a Secret without the label, or one the
 * cache has not seen yet). undefined, with the condition saying so, while it is missing.
 */
export async function readBootstrapData(scope: MachineScope, options: NormalOptions): Promise<string | undefined> {
  const name = scope.machine === undefined ? undefined : bootstrapDataSecretName(scope.machine);
  if (name === undefined) return undefined;
  const namespace = scope.maasMachine.metadata.namespace ?? "";
  let secret = options.caches.secrets.get(namespace, name);
  if (secret === undefined) {
    try {
      secret = await scope.client.get(SECRET, { namespace, name }, { signal: scope.signal });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  if (secret === undefined) {
    scope.setCondition({
      type: MachineDeployedCondition,
      status: "False",
      reason: WaitingForBootstrapDataReason,
      message: `Waiting for bootstrap data Secret ${name}`,
    });
    return undefined;
  }
  return decodeBootstrapData(secret);
}

/**
 * MAAS has no memory check for deploy to memory, so we add one: below the configured
 * minimum the condition warns (and the deploy goes ahead). Derived from the machine
 * on every pass, so it holds whichever pass writes the status.
 */
function reportMemory(scope: MachineScope, machine: Machine): void {
  const minimum = scope.deps.settings.ephemeralMinMemoryMiB;
  if (machine.memory >= minimum) {
    scope.setCondition({ type: EphemeralMemorySufficientCondition, status: "True", reason: EphemeralMemorySufficientReason });
    return;
  }
  scope.setCondition({ type: EphemeralMemorySufficientCondition, status: "False", reason: EphemeralMemoryLowReason, message: lowMemoryMessage(scope, machine) });
}

/** At the deploy itself: the headroom metric, and the warning event once. */
function warnIfLowMemory(scope: MachineScope, machine: Machine, requestedMiB: number): void {
  scope.deps.metrics.ephemeralMemoryHeadroom.observe(machine.memory - requestedMiB);
  if (machine.memory >= scope.deps.settings.ephemeralMinMemoryMiB) return;
  scope.event({ type: "Warning", reason: EphemeralMemoryLowReason, action: "Deploy", note: lowMemoryMessage(scope, machine) });
}

function lowMemoryMessage(scope: MachineScope, machine: Machine): string {
  const minimum = scope.deps.settings.ephemeralMinMemoryMiB;
  return `MAAS machine ${machine.system_id} has ${machine.memory} MiB of memory, below the ${minimum} MiB an OS plus Kubernetes needs to run from memory (--ephemeral-min-memory); deploying anyway.`;
}

/**
 * A failed deployment: a replacement is allocated while the failed machine is still
 * held (so MAAS cannot give the same one back), recorded, and only then is the failed
 * machine released. With no other machine free, the failed one is released and the
 * next attempt may get it again. Either way the next deploy waits for the backoff.
 */
async function replaceFailed(scope: MachineScope, machine: Machine): Promise<Result | void> {
  const replacement = await allocateReplacement(scope, machine.system_id).catch((err: unknown) => {
    throw reportMaasFailure(scope, err, `Allocating a replacement for ${machine.system_id}`);
  });
  const next = replacement === undefined ? "no other machine is free, so it may be tried again" : `replacing it with ${replacement.hostname} (${replacement.system_id})`;
  const note = `MAAS failed to deploy ${machine.hostname} (${machine.system_id}): ${machine.status_message ?? machine.status_name}. Releasing it; ${next}.`;
  scope.event({ type: "Warning", reason: MachineDeployFailedReason, action: "Deploy", note });
  scope.setCondition({ type: MachineDeployedCondition, status: "False", reason: MachineDeployFailedReason, message: note });
  const { services, watcher } = scope.deps.maas.endpoint();
  if (replacement === undefined) {
    await releaseAndForget(scope, machine, "its deployment failed");
  } else {
    await switchTo(scope, replacement);
    await services.machines
      .release(machine.system_id, { comment: "Released by Cluster API: its deployment failed" }, { signal: scope.signal })
      .catch((err: unknown) => {
        // Not fatal now that the spec names the replacement: findHeld releases it on a later pass.
        scope.log.warn({ systemId: machine.system_id, err: err instanceof Error ? err.message : String(err) }, "releasing the failed machine failed");
      });
    watcher.unwatch(machine.system_id);
  }
  // Back off before the next deploy: a thrown error does, and the log says why.
  throw new Error(`deployment of ${machine.system_id} failed; ${next}`);
}

/** Releases the machine and clears its IDs so the next pass allocates afresh (never once provisioned). */
async function releaseAndForget(scope: MachineScope, machine: Machine, why: string): Promise<void> {
  const { services, watcher } = scope.deps.maas.endpoint();
  try {
    await services.machines.release(machine.system_id, { comment: `Released by Cluster API: ${why}` }, { signal: scope.signal });
  } catch (err) {
    if (!(err instanceof MaasError && err.code === "NotFound")) throw reportMaasFailure(scope, err, `Releasing ${machine.system_id}`);
  }
  watcher.unwatch(machine.system_id);
  const { maasMachine } = scope;
  delete maasMachine.spec.systemID;
  delete maasMachine.spec.providerID;
  forgetAllocatedSpec(maasMachine);
  delete scope.status.machineState;
  delete scope.status.deploymentTarget;
  await scope.persist();
}

function reportNotFound(scope: MachineScope, systemId: string): void {
  const message = `MAAS has no machine ${systemId} any more; it is not replaced automatically. Delete the Machine to get a new one.`;
  if (scope.condition(MachineDeployedCondition)?.reason !== MachineNotFoundReason) {
    scope.event({ type: "Warning", reason: MachineNotFoundReason, action: "Observe", note: message });
  }
  scope.setCondition({ type: MachineDeployedCondition, status: "False", reason: MachineNotFoundReason, message });
  scope.status.machineState = "Missing";
}

/**
 * The machine is no longer ours: released behind our back, or released and taken by
 * another MAAS user or agent (held again, but not under our agent name). Either way it
 * is neither deployed nor released by this MaasMachine again.
 */
function reportLost(scope: MachineScope, machine: Machine): void {
  const name = `MAAS machine ${machine.hostname} (${machine.system_id})`;
  const taken = machine.owner !== null && HELD.has(machine.status);
  const message = taken
    ? `${name} was taken behind our back: it is ${machine.status_name} for ${machine.owner ?? ""} under another agent, so this MaasMachine no longer holds it and will neither deploy nor release it. Delete the Machine to replace it.`
    : `${name} is ${machine.status_name}${machine.owner === null ? " and no longer held" : ""}; it was not asked to leave Deployed and is not redeployed. Delete the Machine to replace it.`;
  const before = scope.condition(MachineDeployedCondition);
  // An Event when it is lost, and another when the lost machine turns out to be taken.
  if (before?.reason !== MachineLostReason || (taken && before.message?.includes(" was taken ") !== true)) {
    scope.event({ type: "Warning", reason: MachineLostReason, action: "Observe", note: message });
  }
  scope.setCondition({ type: MachineDeployedCondition, status: "False", reason: MachineLostReason, message });
}

function reportRedeploying(scope: MachineScope, machine: Machine): void {
  const message = `MAAS is deploying ${machine.hostname} (${machine.system_id}) again after a power cycle${machine.ephemeral_deploy === true ? "; it ran from memory, so its state is gone" : ""}`;
  if (scope.condition(MachineDeployedCondition)?.reason !== MachineRedeployedReason) {
    scope.event({ type: "Warning", reason: MachineRedeployedReason, action: "Observe", note: message });
  }
  scope.setCondition({ type: MachineDeployedCondition, status: "False", reason: MachineRedeployedReason, message });
}
