// One MaasMachine reconcile's state: the MaasMachine (a private copy the steps change),
// its owner Machine and Cluster, the logger and signal of this reconcile, and the patch
// helper that writes what changed when the scope closes (CAPA's machine scope).
import {
  MachineDeployedCondition,
  ReadyCondition,
  type MaasMachine,
  type MaasMachineStatus,
} from "../../api/v1beta1/index.ts";
import type { Cluster, Machine } from "../../capi/index.ts";
import type { Clock } from "../../clock/index.ts";
import type { Logger } from "../../observability/index.ts";
import {
  PatchHelper,
  getCondition,
  isNotFound,
  setCondition,
  summarizeReady,
  type ConditionInput,
  type EventInput,
  type KubeClient,
} from "../../runtime/index.ts";
import type { ControllerDeps } from "../shared/deps.ts";

export interface MachineScopeOptions {
  maasMachine: MaasMachine;
  machine: Machine | undefined;
  cluster: Cluster | undefined;
  deps: ControllerDeps;
  log: Logger;
  signal: AbortSignal;
}

export class MachineScope {
  /** This reconcile's copy; persist() may replace its parts with the object as stored. */
  readonly maasMachine: MaasMachine;
  readonly machine: Machine | undefined;
  readonly cluster: Cluster | undefined;
  readonly log: Logger;
  readonly signal: AbortSignal;
  readonly deps: ControllerDeps;
  private readonly patchHelper: PatchHelper<MaasMachine>;

  constructor(options: MachineScopeOptions) {
    if (options.maasMachine.metadata.name === "") throw new Error("MachineScope needs a named MaasMachine");
    // The cache's objects are frozen and shared: every change goes to this copy.
    this.maasMachine = structuredClone(options.maasMachine);
    this.machine = options.machine;
    this.cluster = options.cluster;
    this.deps = options.deps;
    this.log = options.log;
    this.signal = options.signal;
    this.patchHelper = new PatchHelper({ object: options.maasMachine, client: options.deps.client });
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

  setCondition(input: Omit<ConditionInput, "observedGeneration">): void {
    const generation = this.maasMachine.metadata.generation;
    this.status.conditions = setCondition(
      this.status.conditions,
      { ...input, ...(generation === undefined ? {} : { observedGeneration: generation }) },
      this.clock,
    );
  }

  condition(type: string): ConditionInput | undefined {
    return getCondition(this.maasMachine.status?.conditions, type);
  }

  event(input: EventInput): void {
    this.deps.events.event(this.maasMachine, input);
  }

  /**
   * Writes what changed so far (spec and metadata now, e.g. the system ID before the
   * deploy that must not happen without it) and keeps the written object as the new
   * baseline, so the write at close carries only later changes.
   */
  async persist(): Promise<void> {
    let written: MaasMachine;
    try {
      written = structuredClone(await this.patchHelper.patch(this.maasMachine));
    } catch (err) {
      if (this.deletedAfterLastFinalizer(err)) return;
      throw err;
    }
    // The patch helper's baseline is now the object as stored, which holds what others
    // wrote since the cache was read (clusterctl's delete-for-move or paused annotation,
    // say). Continuing from it keeps the write at close from reverting those; it also
    // carries the generation our spec write moved, so later conditions observe that one.
    this.maasMachine.metadata = written.metadata;
    this.maasMachine.spec = written.spec;
    if (written.status === undefined) delete this.maasMachine.status;
    else this.maasMachine.status = written.status;
  }

  /** The last finalizer went in this pass: the object is gone and so is its status. */
  private deletedAfterLastFinalizer(err: unknown): boolean {
    return isNotFound(err) && this.maasMachine.metadata.deletionTimestamp !== undefined;
  }

  /** Summarises Ready from the conditions it is made of, then writes whatever changed. */
  async close(): Promise<void> {
    if (getCondition(this.maasMachine.status?.conditions, MachineDeployedCondition) !== undefined) {
      const generation = this.maasMachine.metadata.generation;
      const ready = summarizeReady(
        this.status.conditions,
        { types: [MachineDeployedCondition], ...(generation === undefined ? {} : { observedGeneration: generation }) },
        this.clock,
      );
      this.status.conditions = setCondition(this.status.conditions, { ...ready, type: ReadyCondition }, this.clock);
    }
    try {
      await this.patchHelper.patch(this.maasMachine);
    } catch (err) {
      if (this.deletedAfterLastFinalizer(err)) return;
      throw err;
    }
  }
}
