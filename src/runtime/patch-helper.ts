import type { KubeClient } from "./kube-client.ts";
import type { KindSpec, KubeObject, OwnerReference } from "./kube-object.ts";
import { guardedUpdate } from "./kube-writes.ts";
import { applyMergePatch, createMergePatch } from "./merge-patch.ts";

export interface PatchHelperOptions<T> {
  /** The object as read; the baseline the first patch is computed against. */
  object: T;
  client: KubeClient;
  /** Defaults to the kind the client resolves from the object's apiVersion/kind. */
  kind?: KindSpec;
}

type WithStatus = KubeObject & { status?: unknown };

export interface HelperPatchOptions {
  /** false: write spec and metadata only, leaving status changes for a later patch. */
  status?: boolean;
  /** Told when the guarded list write found the stored object newer than the baseline. */
  onConflict?: () => void;
}

/**
 * Cluster API's patch.Helper: remember the object as read, let the reconcile change
 * a copy freely, then write only the difference.
 *
 *   const helper = new PatchHelper({ object: machine, client });
 *   machine.status = { ...machine.status, ready: true };
 *   await helper.patch(machine);
 *
 * - spec/metadata go to the object and status to its `/status` subresource, each as
 *   a JSON merge patch and only when something there changed (no change → no request);
 * - finalizers and ownerReferences, which merge patch would replace whole, are
 *   written as a delta under a resourceVersion guard and re-applied on 409, so
 *   another writer's entries are never dropped;
 * - after a patch the helper's baseline is the written object, so it can be reused.
 */
export class PatchHelper<T extends WithStatus> {
  private before: T;
  private readonly kind: KindSpec;
  private readonly client: KubeClient;

  constructor(options: PatchHelperOptions<T>) {
    this.client = options.client;
    this.before = structuredClone(options.object);
    this.kind = options.kind ?? options.client.kindOf(options.object);
  }

  /** The object as last read or written. */
  get baseline(): T {
    return this.before;
  }

  /**
   * Writes what changed between the object as read and `after`; returns the object as
   * stored. With `{ status: false }` only spec and metadata are written (the status
   * changes wait for a later patch, which then sends them in one write).
   */
  async patch(after: T, options: HelperPatchOptions = {}): Promise<T> {
    let latest: T | undefined;
    const mainPatch = createMergePatch(withoutGuardedParts(this.before), withoutGuardedParts(after));
    const finalizers = listDelta(this.before.metadata.finalizers, after.metadata.finalizers, (f) => f);
    const owners = listDelta(this.before.metadata.ownerReferences, after.metadata.ownerReferences, ownerKey);
    const ref = this.before.metadata;

    if (finalizers.changed || owners.changed) {
      latest = await guardedUpdate<T>({
        client: this.client,
        kind: this.kind,
        ref,
        current: this.before,
        ...(options.onConflict === undefined ? {} : { onConflict: options.onConflict }),
        mutate: (current) => {
          const next = mainPatch === undefined ? current : applyMergePatch(current, mainPatch);
          next.metadata.finalizers = finalizers.applyTo(current.metadata.finalizers, (f) => f);
          next.metadata.ownerReferences = owners.applyTo(current.metadata.ownerReferences, ownerKey);
          if (next.metadata.finalizers?.length === 0) delete next.metadata.finalizers;
          if (next.metadata.ownerReferences?.length === 0) delete next.metadata.ownerReferences;
          return next;
        },
      });
    } else if (mainPatch !== undefined) {
      latest = await this.client.patch<T>(this.kind, ref, mainPatch, { type: "merge" });
    }

    const statusPatch = options.status === false ? undefined : createMergePatch({ status: this.before.status }, { status: after.status });
    if (statusPatch !== undefined) {
      latest = await this.client.patch<T>(this.kind, ref, statusPatch, { type: "merge", subresource: "status" });
    }
    if (latest !== undefined) this.before = structuredClone(latest);
    return latest ?? structuredClone(after);
  }
}

/** The object minus status (its own subresource) and the lists written under a guard. */
function withoutGuardedParts<T extends WithStatus>(obj: T): Record<string, unknown> {
  const { status: _status, metadata, ...rest } = obj;
  const { finalizers: _f, ownerReferences: _o, resourceVersion: _rv, managedFields: _m, ...meta } =
    metadata as KubeObject["metadata"] & { managedFields?: unknown };
  return { ...rest, metadata: meta };
}

function ownerKey(ref: OwnerReference): string {
  return ref.uid;
}

interface ListDelta<V> {
  changed: boolean;
  applyTo(current: V[] | undefined, key: (v: V) => string): V[];
}

/** What the reconcile added and removed, to be replayed onto whatever list the server holds. */
function listDelta<V>(before: V[] | undefined, after: V[] | undefined, key: (v: V) => string): ListDelta<V> {
  const beforeKeys = new Map((before ?? []).map((v) => [key(v), v] as const));
  const afterKeys = new Map((after ?? []).map((v) => [key(v), v] as const));
  const removed = [...beforeKeys.keys()].filter((k) => !afterKeys.has(k));
  const upserted = [...afterKeys].filter(([k, v]) => JSON.stringify(beforeKeys.get(k)) !== JSON.stringify(v));
  return {
    changed: removed.length > 0 || upserted.length > 0,
    applyTo(current, keyOf) {
      const result = (current ?? []).filter((v) => !removed.includes(keyOf(v)));
      for (const [k, v] of upserted) {
        const index = result.findIndex((existing) => keyOf(existing) === k);
        if (index === -1) result.push(v);
        else result[index] = v;
      }
      return result;
    },
  };
}
