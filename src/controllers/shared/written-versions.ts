// Read-your-writes for a controller's own objects. The informer cache can lag the write
// this controller just made (the status it wrote a moment ago); a reconcile that started
// from that older copy would write its lists (conditions, finalizers) back without what
// the last pass added. So each controller remembers the resourceVersion of its last
// write per object, and a cached copy at any other version is re-read from the API
// server before it is acted on. Once the cache catches up, reads come from it again.
import type { KubeObject } from "../../api/v1beta1/index.ts";

/** Recorded for an object our last write deleted; no cached copy is current then. */
const GONE = "\u0000gone";

export class WrittenVersions {
  private readonly versions = new Map<string, string>();

  /** Records the object as this controller last wrote (or read) it. */
  remember(obj: KubeObject): void {
    const version = obj.metadata.resourceVersion;
    if (version !== undefined) this.versions.set(keyOf(obj), version);
  }

  /**
   * Records that our last write (the removal of the last finalizer) deleted the object:
   * any copy the cache still holds is behind, until the cache drops it too.
   */
  rememberGone(obj: KubeObject): void {
    this.versions.set(keyOf(obj), GONE);
  }

  /** True when this controller wrote the object since the cache's copy was made. */
  isBehind(cached: KubeObject): boolean {
    const version = this.versions.get(keyOf(cached));
    if (version === undefined) return false;
    if (version === GONE) return true;
    if (version === cached.metadata.resourceVersion) {
      // Caught up: the cache holds our last write, and reads come from it from now on.
      this.versions.delete(keyOf(cached));
      return false;
    }
    return true;
  }

  forget(namespace: string | undefined, name: string): void {
    this.versions.delete(`${namespace ?? ""}/${name}`);
  }

  get size(): number {
    return this.versions.size;
  }
}

function keyOf(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ""}/${obj.metadata.name}`;
}
