import { objectKey, type KubeObject } from "./kube-object.ts";

/** Maps an object to the index values it is found under (client-go's IndexFunc). */
export type IndexFunc<T extends KubeObject> = (obj: T) => readonly string[];

/** What a full relist changed, so the informer can tell its handlers. */
export interface ReplaceResult<T> {
  added: T[];
  updated: Array<{ oldObject: T; object: T }>;
  deleted: T[];
}

/**
 * The objects of one kind keyed by `namespace/name`, with secondary indexes kept up
 * to date on every write (client-go's ThreadSafeStore + Indexer). A namespace index
 * is always present so `list(namespace)` does not scan everything.
 */
export class IndexedStore<T extends KubeObject> {
  private readonly items = new Map<string, T>();
  private readonly indexers = new Map<string, IndexFunc<T>>();
  private readonly indices = new Map<string, Map<string, Set<string>>>();

  constructor(indexers: Record<string, IndexFunc<T>> = {}) {
    this.addIndexer(NAMESPACE_INDEX, (obj) => [obj.metadata.namespace ?? ""]);
    for (const [name, fn] of Object.entries(indexers)) this.addIndexer(name, fn);
  }

  get size(): number {
    return this.items.size;
  }

  /** Adds an index; existing objects are indexed at once. */
  addIndexer(name: string, fn: IndexFunc<T>): void {
    if (this.indexers.has(name)) throw new Error(`indexer ${name} already exists`);
    this.indexers.set(name, fn);
    const index = new Map<string, Set<string>>();
    this.indices.set(name, index);
    for (const [key, obj] of this.items) addToIndex(index, fn(obj), key);
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  list(namespace?: string): T[] {
    if (namespace === undefined) return [...this.items.values()];
    return this.byIndex(NAMESPACE_INDEX, namespace);
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  /** Keys of the objects an index holds under `value`. */
  keysByIndex(indexName: string, value: string): string[] {
    const index = this.indices.get(indexName);
    if (index === undefined) throw new Error(`no indexer named ${indexName}`);
    return [...(index.get(value) ?? [])];
  }

  byIndex(indexName: string, value: string): T[] {
    const found: T[] = [];
    for (const key of this.keysByIndex(indexName, value)) {
      const obj = this.items.get(key);
      if (obj !== undefined) found.push(obj);
    }
    return found;
  }

  /** Stores `obj` and returns what it replaced. */
  upsert(obj: T): T | undefined {
    const key = objectKey(obj);
    const old = this.items.get(key);
    if (old !== undefined) this.unindex(key, old);
    this.items.set(key, obj);
    for (const [name, fn] of this.indexers) addToIndex(this.indices.get(name)!, fn(obj), key);
    return old;
  }

  /** Removes the object under `key` and returns it. */
  remove(key: string): T | undefined {
    const old = this.items.get(key);
    if (old === undefined) return undefined;
    this.unindex(key, old);
    this.items.delete(key);
    return old;
  }

  /**
   * Makes the store hold exactly `objects` (a relist) and reports the difference.
   * Objects whose resourceVersion did not change are neither touched nor reported.
   */
  replace(objects: readonly T[]): ReplaceResult<T> {
    const result: ReplaceResult<T> = { added: [], updated: [], deleted: [] };
    const seen = new Set<string>();
    for (const obj of objects) {
      const key = objectKey(obj);
      seen.add(key);
      const old = this.items.get(key);
      if (old === undefined) {
        this.upsert(obj);
        result.added.push(obj);
      } else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) {
        this.upsert(obj);
        result.updated.push({ oldObject: old, object: obj });
      }
    }
    for (const key of [...this.items.keys()]) {
      if (!seen.has(key)) result.deleted.push(this.remove(key)!);
    }
    return result;
  }

  private unindex(key: string, obj: T): void {
    for (const [name, fn] of this.indexers) {
      const index = this.indices.get(name)!;
      for (const value of fn(obj)) {
        const keys = index.get(value);
        if (keys === undefined) continue;
        keys.delete(key);
        if (keys.size === 0) index.delete(value);
      }
    }
  }
}

/** The index every store keeps: by `metadata.namespace` ("" for cluster-scoped). */
export const NAMESPACE_INDEX = "namespace";

function addToIndex(index: Map<string, Set<string>>, values: readonly string[], key: string): void {
  for (const value of values) {
    let keys = index.get(value);
    if (keys === undefined) {
      keys = new Set();
      index.set(value, keys);
    }
    keys.add(key);
  }
}
