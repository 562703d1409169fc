import type { KubeClient } from "./kube-client.ts";
import type { KindSpec, KubeObject } from "./kube-object.ts";
import { isNotFound } from "./kube-errors.ts";
import { guardedUpdate } from "./kube-writes.ts";

export function hasFinalizer(obj: KubeObject, finalizer: string): boolean {
  return obj.metadata.finalizers?.includes(finalizer) ?? false;
}

export interface FinalizerOptions<T extends KubeObject> {
  client: KubeClient;
  /** The object as read (from the cache is fine); its resourceVersion guards the write. */
  object: T;
  finalizer: string;
  /** Defaults to the kind the client resolves from the object's apiVersion/kind. */
  kind?: KindSpec;
}

/**
 * Adds `finalizer` unless present. The write names the resourceVersion it was
 * computed from, so a finalizer another writer added meanwhile is never dropped:
 * on 409 the list is read again and our change re-applied (see guardedUpdate).
 */
export function addFinalizer<T extends KubeObject>(options: FinalizerOptions<T>): Promise<T> {
  const { finalizer } = options;
  return guardedUpdate<T>({
    client: options.client,
    kind: options.kind ?? options.client.kindOf(options.object),
    ref: options.object.metadata,
    current: options.object,
    mutate: (current) => {
      if (hasFinalizer(current, finalizer)) return undefined;
      current.metadata.finalizers = [...(current.metadata.finalizers ?? []), finalizer];
      return current;
    },
  });
}

/**
 * Removes `finalizer` if present, with the same conflict guard. When it was the
 * last finalizer of an object being deleted, the object is gone afterwards: a 404
 * on the re-read counts as done and the object is returned as it was last seen.
 */
export async function removeFinalizer<T extends KubeObject>(options: FinalizerOptions<T>): Promise<T> {
  const { finalizer } = options;
  try {
    return await guardedUpdate<T>({
      client: options.client,
      kind: options.kind ?? options.client.kindOf(options.object),
      ref: options.object.metadata,
      current: options.object,
      mutate: (current) => {
        if (!hasFinalizer(current, finalizer)) return undefined;
        current.metadata.finalizers = (current.metadata.finalizers ?? []).filter((f) => f !== finalizer);
        return current;
      },
    });
  } catch (err) {
    if (isNotFound(err)) return options.object;
    throw err;
  }
}
