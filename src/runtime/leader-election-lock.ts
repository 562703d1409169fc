import { ApiException, V1MicroTime, type CoordinationV1Api, type V1Lease } from "@kubernetes/client-node";

/** The lease fields leader election reads and writes; times in epoch milliseconds. */
export interface LeaderElectionRecord {
  /** "" when nobody holds the lease (after a release). */
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTimeMs: number | undefined;
  renewTimeMs: number | undefined;
  leaseTransitions: number;
}

export interface LockedRecord {
  record: LeaderElectionRecord;
  resourceVersion: string;
}

/** Thrown by a lock when another writer got there first (HTTP 409). */
export class LeaseConflictError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LeaseConflictError";
  }
}

/** Where the election record lives; conditional writes are what make the election safe. */
export interface LeaseLock {
  /** The current record, or undefined when the lease does not exist. */
  get(): Promise<LockedRecord | undefined>;
  /** Creates the lease; LeaseConflictError when it exists already. Returns the new resourceVersion. */
  create(record: LeaderElectionRecord): Promise<string>;
  /** Replaces the lease if it is still at `resourceVersion`; LeaseConflictError otherwise. */
  update(record: LeaderElectionRecord, resourceVersion: string): Promise<string>;
}

/** `2026-01-01T00:00:00.000000Z`: RFC 3339 with microseconds, the form MicroTime fields demand. */
export function formatMicroTime(ms: number): string {
  return new V1MicroTime(ms).toISOString();
}

/**
 * A `coordination.k8s.io/v1` Lease through client-node's generated CoordinationV1Api.
 * Two client-node 1.4 details matter here: MicroTime fields must be `V1MicroTime`
 * instances on the way out (a plain `Date` serialises with milliseconds, which the
 * API server refuses for MicroTime), and on the way in they come back as the raw
 * string despite their `Date` type (the deserialiser does not know the type).
 */
export class KubeLeaseLock implements LeaseLock {
  constructor(private readonly opts: { api: CoordinationV1Api; namespace: string; name: string }) {}

  async get(): Promise<LockedRecord | undefined> {
    try {
      const lease = await this.opts.api.readNamespacedLease({ name: this.opts.name, namespace: this.opts.namespace });
      return { record: fromLease(lease), resourceVersion: lease.metadata?.resourceVersion ?? "" };
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      throw err;
    }
  }

  async create(record: LeaderElectionRecord): Promise<string> {
    const body = this.toLease(record);
    const created = await conflictsAsLeaseConflict(() =>
      this.opts.api.createNamespacedLease({ namespace: this.opts.namespace, body }),
    );
    return created.metadata?.resourceVersion ?? "";
  }

  async update(record: LeaderElectionRecord, resourceVersion: string): Promise<string> {
    const body = this.toLease(record, resourceVersion);
    const replaced = await conflictsAsLeaseConflict(() =>
      this.opts.api.replaceNamespacedLease({ name: this.opts.name, namespace: this.opts.namespace, body }),
    );
    return replaced.metadata?.resourceVersion ?? "";
  }

  private toLease(record: LeaderElectionRecord, resourceVersion?: string): V1Lease {
    return {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: {
        name: this.opts.name,
        namespace: this.opts.namespace,
        ...(resourceVersion === undefined ? {} : { resourceVersion }),
      },
      spec: {
        holderIdentity: record.holderIdentity,
        leaseDurationSeconds: record.leaseDurationSeconds,
        leaseTransitions: record.leaseTransitions,
        ...(record.acquireTimeMs === undefined ? {} : { acquireTime: new V1MicroTime(record.acquireTimeMs) }),
        ...(record.renewTimeMs === undefined ? {} : { renewTime: new V1MicroTime(record.renewTimeMs) }),
      },
    };
  }
}

function fromLease(lease: V1Lease): LeaderElectionRecord {
  const spec = lease.spec ?? {};
  return {
    holderIdentity: spec.holderIdentity ?? "",
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    acquireTimeMs: toMs(spec.acquireTime),
    renewTimeMs: toMs(spec.renewTime),
    leaseTransitions: spec.leaseTransitions ?? 0,
  };
}

function toMs(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value === "string" && value !== "") return Date.parse(value);
  return undefined;
}

async function conflictsAsLeaseConflict<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (err instanceof ApiException && err.code === 409) {
      throw new LeaseConflictError("the lease was changed by another writer", { cause: err });
    }
    throw err;
  }
}
