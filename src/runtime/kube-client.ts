import type { KubeTransport } from "./kube-transport.ts";
import {
  apiVersionOf,
  resourcePath,
  type KindSpec,
  type KubeObject,
  type ObjectRef,
} from "./kube-object.ts";

export type PatchType = "merge" | "json" | "apply";

/**
 * The content type of each patch kind. client-node 1.4's generated `patch*` methods
 * pick the first type the OpenAPI spec lists — JSON patch for custom objects,
 * strategic merge for its `KubernetesObjectApi.patch` default — and custom resources
 * refuse strategic merge (415). We always name the type explicitly.
 */
export const PATCH_CONTENT_TYPES: Readonly<Record<PatchType, string>> = {
  merge: "application/merge-patch+json",
  json: "application/json-patch+json",
  apply: "application/apply-patch+yaml",
};

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  signal?: AbortSignal;
}

export interface ListPage<T> {
  items: T[];
  resourceVersion: string;
  continue: string | undefined;
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion: string;
  timeoutSeconds: number;
  allowWatchBookmarks?: boolean;
  signal?: AbortSignal;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

export interface WatchEvent {
  type: WatchEventType;
  /** The object, or for ERROR a `Status` (`code` 410 means the resourceVersion is gone). */
  object: KubeObject & { code?: number; reason?: string; message?: string };
}

export interface PatchOptions {
  type?: PatchType;
  subresource?: "status";
  /** Server-side apply only: take over fields other managers own. */
  force?: boolean;
}

export interface DeleteOptions {
  preconditions?: { resourceVersion?: string; uid?: string };
  propagationPolicy?: "Foreground" | "Background" | "Orphan";
}

export interface KubeClientOptions {
  transport: KubeTransport;
  /** Recorded as the field manager of every write (server-side apply requires one). */
  fieldManager: string;
  /** Kinds resolvable from an object's apiVersion/kind (see {@link registerKind}). */
  kinds?: readonly KindSpec[];
}

/**
 * A typed REST client over any kind described by a {@link KindSpec}: the calls the
 * runtime needs and nothing else. Writes always carry our field manager.
 */
export class KubeClient {
  readonly transport: KubeTransport;
  readonly fieldManager: string;
  private readonly kinds = new Map<string, KindSpec>();

  constructor(options: KubeClientOptions) {
    this.transport = options.transport;
    this.fieldManager = options.fieldManager;
    for (const kind of options.kinds ?? []) this.registerKind(kind);
  }

  /** Lets helpers that only hold an object (PatchHelper) find its REST path. */
  registerKind(kind: KindSpec): void {
    this.kinds.set(`${apiVersionOf(kind)}/${kind.kind}`, kind);
  }

  kindOf(obj: KubeObject): KindSpec {
    const kind = this.kinds.get(`${obj.apiVersion ?? ""}/${obj.kind ?? ""}`);
    if (kind === undefined) {
      throw new Error(`unknown kind ${obj.apiVersion ?? "?"}/${obj.kind ?? "?"}: register its KindSpec with the client`);
    }
    return kind;
  }

  async get<T extends KubeObject>(kind: KindSpec<T>, ref: ObjectRef, options: { signal?: AbortSignal } = {}): Promise<T> {
    const response = await this.transport.request({
      method: "GET",
      path: resourcePath(kind, ref),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    return JSON.parse(response.body) as T;
  }

  async list<T extends KubeObject>(kind: KindSpec<T>, options: ListOptions = {}): Promise<ListPage<T>> {
    const response = await this.transport.request({
      method: "GET",
      path: resourcePath(kind, { namespace: options.namespace }),
      query: {
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        limit: options.limit,
        continue: options.continue,
        resourceVersion: options.resourceVersion,
      },
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      timeoutMs: 120_000,
    });
    const list = JSON.parse(response.body) as {
      items: T[] | null;
      metadata?: { resourceVersion?: string; continue?: string };
    };
    const apiVersion = apiVersionOf(kind);
    // List items come without apiVersion/kind; fill them so objects are self-describing.
    const items = (list.items ?? []).map((item) => ({ ...item, apiVersion, kind: kind.kind }));
    const next = list.metadata?.continue;
    return {
      items,
      resourceVersion: list.metadata?.resourceVersion ?? "",
      continue: next === undefined || next === "" ? undefined : next,
    };
  }

  async create<T extends KubeObject>(kind: KindSpec, obj: T): Promise<T> {
    const response = await this.transport.request({
      method: "POST",
      path: resourcePath(kind, { namespace: obj.metadata.namespace }),
      query: { fieldManager: this.fieldManager },
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ apiVersion: apiVersionOf(kind), kind: kind.kind, ...obj }),
    });
    return JSON.parse(response.body) as T;
  }

  /** PUT; with `metadata.resourceVersion` set the server answers 409 when it moved on. */
  async replace<T extends KubeObject>(kind: KindSpec, obj: T, subresource?: "status"): Promise<T> {
    const response = await this.transport.request({
      method: "PUT",
      path: resourcePath(kind, { namespace: obj.metadata.namespace, name: obj.metadata.name, subresource }),
      query: { fieldManager: this.fieldManager },
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ apiVersion: apiVersionOf(kind), kind: kind.kind, ...obj }),
    });
    return JSON.parse(response.body) as T;
  }

  async patch<T extends KubeObject>(kind: KindSpec, ref: ObjectRef, patch: unknown, options: PatchOptions = {}): Promise<T> {
    const type = options.type ?? "merge";
    const response = await this.transport.request({
      method: "PATCH",
      path: resourcePath(kind, { ...ref, subresource: options.subresource }),
      query: { fieldManager: this.fieldManager, force: type === "apply" ? options.force : undefined },
      headers: { "Content-Type": PATCH_CONTENT_TYPES[type] },
      body: JSON.stringify(patch),
    });
    return JSON.parse(response.body) as T;
  }

  /** Server-side apply of a partial object that names the fields we own. */
  apply<T extends KubeObject>(kind: KindSpec, obj: T, options: { force?: boolean; subresource?: "status" } = {}): Promise<T> {
    const body = { ...obj, apiVersion: apiVersionOf(kind), kind: kind.kind };
    return this.patch<T>(kind, obj.metadata, body, { ...options, type: "apply", force: options.force ?? true });
  }

  async delete(kind: KindSpec, ref: ObjectRef, options: DeleteOptions = {}): Promise<void> {
    await this.transport.request({
      method: "DELETE",
      path: resourcePath(kind, ref),
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ kind: "DeleteOptions", apiVersion: "v1", ...options }),
    });
  }

  /**
   * Opens a watch and calls `onEvent` per event until the stream ends. Resolves when
   * the server closes the stream (`timeoutSeconds` elapsed); rejects on a transport
   * error; aborting `signal` ends it quietly.
   */
  async watch(kind: KindSpec, options: WatchOptions, onEvent: (event: WatchEvent) => void): Promise<void> {
    const stream = await this.transport.stream({
      method: "GET",
      path: resourcePath(kind, { namespace: options.namespace }),
      query: {
        watch: "true",
        resourceVersion: options.resourceVersion,
        allowWatchBookmarks: options.allowWatchBookmarks ?? true,
        timeoutSeconds: options.timeoutSeconds,
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
      },
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    let buffered = "";
    try {
      for await (const chunk of stream.body) {
        buffered += (chunk as Buffer).toString("utf8");
        let newline = buffered.indexOf("\n");
        while (newline >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line !== "") onEvent(JSON.parse(line) as WatchEvent);
          newline = buffered.indexOf("\n");
        }
      }
    } catch (err) {
      if (options.signal?.aborted === true) return;
      throw err;
    } finally {
      stream.body.destroy();
    }
  }
}
