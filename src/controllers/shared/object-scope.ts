// What every reconcile scope of this provider does with its own object: keep a private
// copy the steps change (cache objects are frozen and shared), set conditions at the
// object's generation, record events, write what changed mid-reconcile (persist) and
// at the end (close, which first summarises Ready), and treat "deleted by our own last
// finalizer removal" as the end of the object rather than an error.
import { ReadyCondition, type Condition, type KindSpec, type KubeObject } from "../../api/v1beta1/index.ts";
import {
  PatchHelper,
  getCondition,
  isNotFound,
  setCondition,
  summarizeReady,
  type ConditionInput,
  type EventInput,
} from "../../runtime/index.ts";
import type { ControllerDeps } from "./deps.ts";
import type { WrittenVersions } from "./written-versions.ts";

/** A kind of ours: a spec, and a status with conditions. */
export interface ReconciledObject extends KubeObject {
  spec: object;
  status?: { conditions?: Condition[] };
}

export interface ObjectScopeOptions<T extends ReconciledObject> {
  object: T;
  kind: KindSpec<T>;
  deps: ControllerDeps;
  /** The conditions Ready summarises, in the order a user should look at them. */
  readyFrom: readonly string[];
  /** Told of every write, so the controller can read its own writes (see written-versions.ts). */
  written?: WrittenVersions;
}

export interface PersistResult {
  /**
   * The stored object was newer than this pass's copy (a finalizer write met a 409 and
   * was replayed on a fresh read): what the pass decided from its copy may be stale.
   */
  storedWasNewer: boolean;
}

export class ObjectScope<T extends ReconciledObject> {
  /** This reconcile's copy; persist() may replace its parts with the object as stored. */
  readonly object: T;
  readonly deps: ControllerDeps;
  private readonly readyFrom: readonly string[];
  private readonly patchHelper: PatchHelper<T>;
  private readonly written: WrittenVersions | undefined;
  /** Set when a write found the object deleted: its last finalizer went, and nothing is left to write. */
  private gone = false;
  /** Set when the status this pass computed is superseded before anyone reads it (see skipStatusWrite). */
  private statusSkipped = false;
  /** The version this pass started from: a patch with nothing to send answers with it. */
  private readonly startVersion: string | undefined;

  constructor(options: ObjectScopeOptions<T>) {
    if (options.object.metadata.name === "") throw new Error(`a ${options.kind.kind} scope needs a named object`);
    this.object = structuredClone(options.object);
    this.deps = options.deps;
    this.readyFrom = options.readyFrom;
    this.written = options.written;
    this.startVersion = options.object.metadata.resourceVersion;
    this.patchHelper = new PatchHelper({ object: options.object, client: options.deps.client, kind: options.kind });
  }

  setCondition(input: Omit<ConditionInput, "observedGeneration">): void {
    const status = (this.object.status ??= {});
    const generation = this.object.metadata.generation;
    status.conditions = setCondition(
      status.conditions,
      { ...input, ...(generation === undefined ? {} : { observedGeneration: generation }) },
      this.deps.clock,
    );
  }

  condition(type: string): ConditionInput | undefined {
    return getCondition(this.object.status?.conditions, type);
  }

  event(input: EventInput): void {
    this.deps.events.event(this.object, input);
  }

  /**
   * Writes the spec and metadata changed so far (a finalizer before MAAS is touched, a
   * system ID before a deploy) and continues from the object as stored: the patch
   * helper's baseline is now that object, which holds what others wrote since the cache
   * was read (clusterctl's delete-for-move or paused annotation, say), so taking its
   * metadata and spec keeps the write at close from reverting those; it also carries the
   * generation our own spec write moved, so later conditions observe that one. Status
   * changes wait for close, which writes them once.
   */
  async persist(): Promise<PersistResult> {
    const result: PersistResult = { storedWasNewer: false };
    if (this.gone) return result;
    const deleting = this.object.metadata.deletionTimestamp !== undefined;
    let written: T;
    try {
      const onConflict = (): void => {
        result.storedWasNewer = true;
      };
      written = structuredClone(await this.patchHelper.patch(this.object, { status: false, onConflict }));
    } catch (err) {
      if (this.deletedAfterLastFinalizer(err)) return result;
      throw err;
    }
    // The last finalizer of an object being deleted went with this write: it is gone now.
    if (deleting && (written.metadata.finalizers ?? []).length === 0) {
      this.gone = true;
      // Not its resourceVersion: the API server answers that last write with the version
      // the object already had, which the cache's copy (finalizer and all) carries too.
      this.written?.rememberGone(written);
      return result;
    }
    this.rememberWrite(written);
    this.object.metadata = written.metadata;
    this.object.spec = written.spec;
    return result;
  }

  /**
   * Leaves this pass's status unwritten because a reconcile that follows at once will
   * write a newer one: after a deploy, the watcher's next read (or its failure) enqueues
   * the object, and with a fast MAAS that read already says Deployed. Only for status
   * that the next pass derives again from what it observes; spec and metadata still go.
   */
  skipStatusWrite(): void {
    this.statusSkipped = true;
  }

  /** Summarises Ready from its conditions (not while deleting: the delete path says what it does), then writes. */
  async close(): Promise<void> {
    const deleting = this.object.metadata.deletionTimestamp !== undefined;
    if (!deleting && this.readyFrom.some((type) => this.condition(type) !== undefined)) {
      const generation = this.object.metadata.generation;
      const ready = summarizeReady(
        this.object.status?.conditions,
        { types: [...this.readyFrom], ...(generation === undefined ? {} : { observedGeneration: generation }) },
        this.deps.clock,
      );
      const status = (this.object.status ??= {});
      status.conditions = setCondition(status.conditions, { ...ready, type: ReadyCondition }, this.deps.clock);
    }
    if (this.gone) return;
    try {
      this.rememberWrite(await this.patchHelper.patch(this.object, this.statusSkipped ? { status: false } : {}));
    } catch (err) {
      if (!this.deletedAfterLastFinalizer(err)) throw err;
    }
  }

  /**
   * Only a write that happened: a pass with nothing to send still holds the version the
   * cache gave it, which the informer will not deliver again, so remembering it would
   * make the next change by anyone else (a deletion) look like a lagging cache.
   */
  private rememberWrite(stored: T): void {
    if (stored.metadata.resourceVersion !== this.startVersion) this.written?.remember(stored);
  }

  /**
   * The last finalizer went in this pass: the metadata write deleted the object, so the
   * status write that follows finds nothing. That is the end of the object, not an error.
   */
  private deletedAfterLastFinalizer(err: unknown): boolean {
    if (!isNotFound(err) || this.object.metadata.deletionTimestamp === undefined) return false;
    this.gone = true;
    this.written?.rememberGone(this.object);
    return true;
  }
}
