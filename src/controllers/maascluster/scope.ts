// One MaasCluster reconcile's state: the MaasCluster (a private copy the steps change),
// its owner Cluster, the logger and signal of this reconcile, and what writes the
// changes (shared/object-scope.ts; CAPA's cluster scope).
import {
  DNSResourceReadyCondition,
  FailureDomainsReadyCondition,
  MAAS_CLUSTER,
  type MaasCluster,
  type MaasClusterStatus,
} from "../../api/v1beta1/index.ts";
import type { Cluster } from "../../capi/index.ts";
import type { Clock } from "../../clock/index.ts";
import type { Logger } from "../../observability/index.ts";
import type { ConditionInput, EventInput } from "../../runtime/index.ts";
import type { ControllerDeps } from "../shared/deps.ts";
import { ObjectScope } from "../shared/object-scope.ts";

/** The conditions Ready summarises, in the order a user should look at them. */
export const READY_SUMMARY_TYPES: readonly string[] = [FailureDomainsReadyCondition, DNSResourceReadyCondition];

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
  readonly cluster: Cluster | undefined;
  readonly clusterName: string | undefined;
  readonly log: Logger;
  readonly signal: AbortSignal;
  readonly deps: ControllerDeps;
  private readonly own: ObjectScope<MaasCluster>;

  constructor(options: ClusterScopeOptions) {
    this.own = new ObjectScope({ object: options.maasCluster, kind: MAAS_CLUSTER, deps: options.deps, readyFrom: READY_SUMMARY_TYPES });
    this.cluster = options.cluster;
    this.clusterName = options.clusterName;
    this.deps = options.deps;
    this.log = options.log;
    this.signal = options.signal;
  }

  /** This reconcile's copy; persist() may replace its parts with the object as stored. */
  get maasCluster(): MaasCluster {
    return this.own.object;
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
    this.own.setCondition(input);
  }

  condition(type: string): ConditionInput | undefined {
    return this.own.condition(type);
  }

  event(input: EventInput): void {
    this.own.event(input);
  }

  /**
   * Writes what changed so far (e.g. the finalizer before MAAS is touched, or the
   * endpoint with the annotation that says whose DNS resource it is).
   */
  persist(): Promise<void> {
    return this.own.persist();
  }

  /** Summarises Ready (not while deleting or before any step ran), then writes whatever changed. */
  close(): Promise<void> {
    return this.own.close();
  }
}
