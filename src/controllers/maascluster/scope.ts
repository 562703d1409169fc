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

export class ClusterScope extends ObjectScope<MaasCluster> {
  readonly cluster: Cluster | undefined;
  readonly clusterName: string | undefined;
  readonly log: Logger;
  readonly signal: AbortSignal;

  constructor(options: ClusterScopeOptions) {
    // Ready summarises the failure domains and the DNS resource at close (not while deleting or before any step ran).
    super({ object: options.maasCluster, kind: MAAS_CLUSTER, deps: options.deps, readyFrom: READY_SUMMARY_TYPES });
    this.cluster = options.cluster;
    this.clusterName = options.clusterName;
    this.log = options.log;
    this.signal = options.signal;
  }

  /** This reconcile's copy; persist() may replace its parts with the object as stored. */
  get maasCluster(): MaasCluster {
    return this.object;
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
}
