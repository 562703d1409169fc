// One MaasCluster reconcile's state: the MaasCluster (a private copy the steps change),
// its owner Cluster, the logger and signal of this reconcile, and the patch helper that
// writes what changed when the scope closes (CAPA's cluster scope).
import {
  DNSResourceReadyCondition,
  FailureDomainsReadyCondition,
  MAAS_CLUSTER,
  ReadyCondition,
  type MaasCluster,
  type MaasClusterStatus,
} from "../../api/v1beta1/index.ts";
import type { Cluster } from "../../capi/index.ts";
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
} from "../../runtime/index.ts";
import type { ControllerDeps } from "../shared/deps.ts";

/** The conditions Ready summarises, in the order a user should look at them. */
export const READY_SUMMARY_TYPES = [FailureDomainsReadyCondition, DNSResourceReadyCondition];

export interface ClusterScopeOptions {
  maasCluster: MaasCluster;
  cluster: Cluster | undefined;
  /** The owner Cluster's name (also when the Cluster itself is not in the cache). */
  clusterName: string | undefined;
  deps: ControllerDeps;
  log: Logger;
  signal: AbortSignal;
}

export class ClusterScope {
  readonly maasCluster: MaasCluster;
  readonly cluster: Cluster | undefined;
  readonly clusterName: string | undefined;
  readonly log: Logger;
  readonly signal: AbortSignal;
  readonly deps: ControllerDeps;
  private readonly patchHelper: PatchHelper<MaasCluster>;
  /** Set when a write found the object deleted: its last finalizer went, and nothing is left to write. */
  private gone = false;

  constructor(options: ClusterScopeOptions) {
    if (options.maasCluster.metadata.name === "") throw new Error("ClusterScope needs a named MaasCluster");
    // The cache's objects are frozen and shared: every change goes to this copy.
    this.maasCluster = structuredClone(options.maasCluster);
    this.cluster = options.cluster;
    this.clusterName = options.clusterName;
    this.deps = options.deps;
    this.log = options.log;
    this.signal = options.signal;
    this.patchHelper = new PatchHelper({ object: options.maasCluster, client: options.deps.client, kind: MAAS_CLUSTER });
  }

  get clock(): Clock {
    return this.deps.clock;
  }

  get namespace(): string {
    return this.maasCluster.metadata.namespace ?? "";
  }

  get status(): MaasClusterStatus {
    this.maasCluster.status ??= {};
    return this.maasCluster.status;
  }

  annotation(name: string): string | undefined {
    return this.maasCluster.metadata.annotations?.[name];
  }

  setAnnotation(name: string, value: string | undefined): void {
    const annotations = { ...this.maasCluster.metadata.annotations };
    if (value === undefined) delete annotations[name];
    else annotations[name] = value;
    this.maasCluster.metadata.annotations = annotations;
  }

  setCondition(input: Omit<ConditionInput, "observedGeneration">): void {
    const generation = this.maasCluster.metadata.generation;
    this.status.conditions = setCondition(
      this.status.conditions,
      { ...input, ...(generation === undefined ? {} : { observedGeneration: generation }) },
      this.clock,
    );
  }

  condition(type: string): ConditionInput | undefined {
    return getCondition(this.maasCluster.status?.conditions, type);
  }

  event(input: EventInput): void {
    this.deps.events.event(this.maasCluster, input);
  }

  /**
   * Writes what changed so far (e.g. the finalizer before MAAS is touched, or the
   * endpoint with the annotation that says whose DNS resource it is) and continues from
   * the object as stored, so the write at close carries only later changes.
   */
  async persist(): Promise<void> {
    if (this.gone) return;
    try {
      const written = structuredClone(await this.patchHelper.patch(this.maasCluster));
      // The patch helper's baseline is now the object as stored, which holds what others
      // wrote since the cache was read (clusterctl's delete-for-move or paused annotation,
      // say). Taking it as our copy keeps the write at close from reverting those. It also
      // carries the generation our spec write moved, so later conditions observe that one.
      this.maasCluster.metadata = written.metadata;
      this.maasCluster.spec = written.spec;
      if (written.status === undefined) delete this.maasCluster.status;
      else this.maasCluster.status = written.status;
    } catch (err) {
      if (!this.deletedAfterLastFinalizer(err)) throw err;
    }
  }

  /** Summarises Ready from the conditions it is made of, then writes whatever changed. */
  async close(): Promise<void> {
    const deleting = this.maasCluster.metadata.deletionTimestamp !== undefined;
    // Before any step ran (waiting for the Cluster) and while deleting, reconcile sets Ready itself.
    if (!deleting && READY_SUMMARY_TYPES.some((type) => this.condition(type) !== undefined)) {
      const generation = this.maasCluster.metadata.generation;
      const ready = summarizeReady(
        this.status.conditions,
        { types: READY_SUMMARY_TYPES, ...(generation === undefined ? {} : { observedGeneration: generation }) },
        this.clock,
      );
      this.status.conditions = setCondition(this.status.conditions, { ...ready, type: ReadyCondition }, this.clock);
    }
    if (this.gone) return;
    try {
      await this.patchHelper.patch(this.maasCluster);
    } catch (err) {
      if (!this.deletedAfterLastFinalizer(err)) throw err;
    }
  }

  /**
   * The last finalizer went in this pass: the metadata write deleted the object, so the
   * status write that follows it finds nothing. That is the end of the object, not an error.
   */
  private deletedAfterLastFinalizer(err: unknown): boolean {
    if (!isNotFound(err) || this.maasCluster.metadata.deletionTimestamp === undefined) return false;
    this.gone = true;
    return true;
  }
}
