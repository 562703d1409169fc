import type { KubeClient, ListPage, WatchEvent } from "./kube-client.ts";
import type { KindSpec, KubeObject } from "./kube-object.ts";

/**
 * Where an informer gets its objects: a paged list and a watch. The informer is
 * written against this port so its loop can be driven by a scripted source in unit
 * tests; {@link apiServerSource} is the real one.
 */
export interface ListWatchSource<T extends KubeObject> {
  list(options: { limit: number; continue?: string; signal: AbortSignal }): Promise<ListPage<T>>;
  /** Resolves when the stream ends; rejects on a transport or HTTP error. */
  watch(
    options: { resourceVersion: string; timeoutSeconds: number; signal: AbortSignal },
    onEvent: (event: WatchEvent) => void,
  ): Promise<void>;
}

export interface ApiServerSourceOptions {
  client: KubeClient;
  kind: KindSpec;
  /** Limits the informer to one namespace; all namespaces when absent. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export function apiServerSource<T extends KubeObject>(options: ApiServerSourceOptions): ListWatchSource<T> {
  const { client, kind } = options;
  const scope = {
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
    ...(options.labelSelector === undefined ? {} : { labelSelector: options.labelSelector }),
    ...(options.fieldSelector === undefined ? {} : { fieldSelector: options.fieldSelector }),
  };
  return {
    list: async ({ limit, continue: token, signal }) => {
      const page = await client.list<T>(kind, { ...scope, limit, signal, ...(token === undefined ? {} : { continue: token }) });
      for (const item of page.items) withoutManagedFields(item);
      return page;
    },
    watch: ({ resourceVersion, timeoutSeconds, signal }, onEvent) =>
      client.watch(kind, { ...scope, resourceVersion, timeoutSeconds, allowWatchBookmarks: true, signal }, (event) => {
        if (event.type !== "ERROR") withoutManagedFields(event.object);
        onEvent(event);
      }),
  };
}

/**
 * Drops metadata.managedFields, as controller-runtime's TransformStripManagedFields does:
 * no reconcile reads them, and on objects written by several managers they are often
 * the largest part, so a cache of thousands of objects keeps a fraction of the memory.
 */
function withoutManagedFields(obj: KubeObject): void {
  const metadata = obj.metadata as (KubeObject["metadata"] & { managedFields?: unknown }) | undefined;
  if (metadata !== undefined) delete metadata.managedFields;
}
