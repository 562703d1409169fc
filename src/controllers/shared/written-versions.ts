// Read-your-writes for a controller's own objects. The informer cache can lag the write
// this controller just made (the status it wrote a moment ago); a reconcile that started
// from that older copy would write its lists (conditions, finalizers) back without what
// the last pass added. So each controller remembers the resourceVersion of its last
// write per object, and a cached copy at any other version is re-read from the API
// server before it is acted on. Once the cache catches up (the informer delivers that
// write), reads come from it again.
import type { KubeObject } from "../../api/v1beta1/index.ts";

/** What a controller knows of a cached copy against its own last write. */
export type CachedCopy =
  /** The cache holds our last write, or we wrote nothing since it was made: act on it. */
  | "current"
  /** Older than our last write: read the object from the API server first. */
  | "behind"
  /** Our last write (the removal of the last finalizer) deleted this very object. */
  | "gone";

interface LastWrite {
  resourceVersion?: string;
  /** Set once that write deleted the object with this UID. */
  goneUid?: string;
}

export class WrittenVersions {
  private readonly writes = new Map<string, LastWrite>();

  /**
   * `cached` reads the informer's copy: the watch can deliver a write before the answer
   * to it arrives, and a write the cache already holds needs no remembering.
   */
  constructor(private readonly cached: (namespace: string | undefined, name: string) => KubeObject | undefined = () => undefined) {}

  /** Records the object as this controller last wrote (or read) it. */
  remember(obj: KubeObject): void {
    const version = obj.metadata.resourceVersion;
    if (version === undefined) return;
    if (this.cached(obj.metadata.namespace, obj.metadata.name)?.metadata.resourceVersion === version) {
      this.writes.delete(keyOf(obj));
      return;
    }
    this.writes.set(keyOf(obj), { resourceVersion: version });
  }

  /**
   * Records that our last write (the removal of the last finalizer) deleted the object:
   * the copy the cache still holds is the object as it was, and there is nothing left to
   * read. Kept by UID, as an object created again under the name is a new one.
   */
  rememberGone(obj: KubeObject): void {
    this.writes.set(keyOf(obj), { goneUid: obj.metadata.uid ?? "" });
  }

  /**
   * Told of each object the informer delivers: once it delivers our last write, the cache
   * has caught up, and a later change by anyone else (a deletion, an edit) is read from
   * the cache as it comes, not re-read from the API server.
   */
  seen(obj: KubeObject): void {
    const last = this.writes.get(keyOf(obj));
    if (last?.resourceVersion !== undefined && last.resourceVersion === obj.metadata.resourceVersion) this.writes.delete(keyOf(obj));
  }

  /** Where the cache's copy stands against our last write. */
  check(cached: KubeObject): CachedCopy {
    const last = this.writes.get(keyOf(cached));
    if (last === undefined) return "current";
    if (last.goneUid !== undefined) {
      if (last.goneUid === (cached.metadata.uid ?? "")) return "gone";
      // Created again under the same name since: nothing of ours is in the new object.
      this.writes.delete(keyOf(cached));
      return "current";
    }
    if (last.resourceVersion === cached.metadata.resourceVersion) {
      this.writes.delete(keyOf(cached));
      return "current";
    }
    return "behind";
  }

  forget(namespace: string | undefined, name: string): void {
    this.writes.delete(`${namespace ?? ""}/${name}`);
  }

  get size(): number {
    return this.writes.size;
  }
}

function keyOf(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ""}/${obj.metadata.name}`;
}
