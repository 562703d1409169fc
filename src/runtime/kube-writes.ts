import type { KubeClient } from "./kube-client.ts";
import type { KindSpec, KubeObject, ObjectRef } from "./kube-object.ts";
import { isConflict } from "./kube-errors.ts";
import { createMergePatch } from "./merge-patch.ts";

export interface GuardedUpdateOptions<T extends KubeObject> {
  client: KubeClient;
  kind: KindSpec;
  ref: ObjectRef;
  /**
   * Returns the object as it should be, given the current one (a private copy it may
   * change), or undefined when nothing needs writing. Called again after a conflict,
   * with the object as the API server has it then, so it must be a pure function of
   * its input: that is what keeps concurrent writers from clobbering each other.
   */
  mutate: (current: T) => T | undefined;
  /** The object as we last saw it (e.g. from the informer cache), saving the first GET. */
  current?: T;
  /** Write through the status subresource. */
  subresource?: "status";
  /** Attempts before the last 409 is thrown (default 10). */
  maxAttempts?: number;
  /** Told when a 409 showed that `current` was older than the stored object, before it is re-read. */
  onConflict?: () => void;
}

/**
 * Optimistic concurrency for fields merge patch would replace whole (lists such as
 * finalizers and ownerReferences): the patch carries `metadata.resourceVersion`, so
 * the API server applies it only to the version we computed it from and answers
 * 409 otherwise; we then read the object afresh from the API server (the cache may
 * still lag behind the write that beat us) and compute the change again.
 * Returns the written object, or the current one when `mutate` found nothing to do.
 */
export async function guardedUpdate<T extends KubeObject>(options: GuardedUpdateOptions<T>): Promise<T> {
  const { client, kind, ref } = options;
  const maxAttempts = options.maxAttempts ?? 10;
  let current = options.current ?? (await client.get<T>(kind, ref));
  for (let attempt = 1; ; attempt++) {
    const desired = options.mutate(structuredClone(current));
    if (desired === undefined) return current;
    const patch = createMergePatch(current, desired);
    if (patch === undefined) return current;
    const resourceVersion = current.metadata.resourceVersion;
    if (resourceVersion === undefined) throw new Error("guardedUpdate needs an object with metadata.resourceVersion");
    const metadata = (patch.metadata ?? {}) as Record<string, unknown>;
    patch.metadata = { ...metadata, resourceVersion };
    try {
      return await client.patch<T>(kind, ref, patch, {
        type: "merge",
        ...(options.subresource === undefined ? {} : { subresource: options.subresource }),
      });
    } catch (err) {
      if (!isConflict(err) || attempt >= maxAttempts) throw err;
      options.onConflict?.();
      current = await client.get<T>(kind, ref);
    }
  }
}

/** Merge patch of the fields that differ between `before` and `after`; no request when none do. */
export async function patchIfChanged<T extends KubeObject>(options: {
  client: KubeClient;
  kind: KindSpec;
  before: T;
  after: T;
  subresource?: "status";
}): Promise<T | undefined> {
  const patch = createMergePatch(options.before, options.after);
  if (patch === undefined) return undefined;
  return options.client.patch<T>(options.kind, options.before.metadata, patch, {
    type: "merge",
    ...(options.subresource === undefined ? {} : { subresource: options.subresource }),
  });
}
