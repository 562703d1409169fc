// One MaasMachine reconcile's state: the MaasMachine (a private copy the steps change),
// its owner Machine and Cluster, the logger and signal of this reconcile, and what
// writes the changes (shared/object-scope.ts; CAPA's machine scope).
import { MAAS_MACHINE, MachineDeployedCondition, type MaasMachine, type MaasMachineStatus } from "../../api/v1beta1/index.ts";
import type { Cluster, Machine } from "../../capi/index.ts";
import type { Clock } from "../../clock/index.ts";
import type { Logger } from "../../observability/index.ts";
import type { KubeClient } from "../../runtime/index.ts";
import type { ControllerDeps } from "../shared/deps.ts";
import { ObjectScope } from "../shared/object-scope.ts";
import type { WrittenVersions } from "../shared/written-versions.ts";

export interface MachineScopeOptions {
  maasMachine: MaasMachine;
  machine: Machine | undefined;
  cluster: Cluster | undefined;
  deps: ControllerDeps;
  log: Logger;
  signal: AbortSignal;
  /** The reconciler's record of its own writes. */
  written?: WrittenVersions;
}

export class MachineScope extends ObjectScope<MaasMachine> {
  readonly machine: Machine | undefined;
  readonly cluster: Cluster | undefined;
  readonly log: Logger;
  readonly signal: AbortSignal;
  /** A system ID this pass saw MAAS hold under our agent name (allocated, found or checked): safe to act on. */
  heldConfirmed: string | undefined;

  constructor(options: MachineScopeOptions) {
    super({
      object: options.maasMachine,
      kind: MAAS_MACHINE,
      deps: options.deps,
      // Ready summarises MachineDeployed at close.
      readyFrom: [MachineDeployedCondition],
      ...(options.written === undefined ? {} : { written: options.written }),
    });
    this.machine = options.machine;
    this.cluster = options.cluster;
    this.log = options.log;
    this.signal = options.signal;
  }

  /** This reconcile's copy; persist() may replace its parts with the object as stored. */
  get maasMachine(): MaasMachine {
    return this.object;
  }

  get client(): KubeClient {
    return this.deps.client;
  }

  get clock(): Clock {
    return this.deps.clock;
  }

  get key(): string {
    return `${this.maasMachine.metadata.namespace ?? ""}/${this.maasMachine.metadata.name}`;
  }

  get status(): MaasMachineStatus {
    this.maasMachine.status ??= {};
    return this.maasMachine.status;
  }
}
