import type { InformerEvent } from "./informer.ts";
import type { KindSpec, KubeObject } from "./kube-object.ts";
import { findOwnerReference } from "./owner-references.ts";
import type { Request } from "./result.ts";

/** Decides whether an informer event should enqueue anything (controller-runtime's predicates). */
export type EventPredicate = (event: InformerEvent<KubeObject>) => boolean;

/** Maps a secondary object to the primary objects to reconcile. */
export type MapFunc = (obj: KubeObject) => Request[];

/** A secondary kind whose changes enqueue primaries through `map`. */
export interface WatchSpec {
  kind: KindSpec;
  /** Selectors for the secondary informer; the same kind and scope share one cache. */
  scope?: { labelSelector?: string; fieldSelector?: string };
  map: MapFunc;
  /** Defaults to {@link resourceVersionChanged}. */
  predicate?: EventPredicate;
}

/** Adds and deletes pass; an update passes when the object really changed (drops resyncs). */
export const resourceVersionChanged: EventPredicate = (event) =>
  event.type !== "update" ||
  (!event.resync && event.object.metadata.resourceVersion !== event.oldObject.metadata.resourceVersion);

/** Like controller-runtime's GenerationChangedPredicate: status-only writes do not enqueue. */
export const generationChanged: EventPredicate = (event) =>
  event.type !== "update" || (!event.resync && event.object.metadata.generation !== event.oldObject.metadata.generation);

/**
 * The default for a controller's own kind: every real change, plus the periodic
 * resync, which re-reconciles each object now and then (controller-runtime's
 * SyncPeriod) so drift outside Kubernetes (in MAAS) is noticed without polling.
 */
export const changedOrResync: EventPredicate = (event) => event.type !== "update" || event.resync || resourceVersionChanged(event);

export function requestFor(obj: KubeObject): Request {
  const { namespace, name } = obj.metadata;
  return namespace === undefined || namespace === "" ? { name } : { namespace, name };
}

/**
 * Maps an object to the primary named by its owner reference of the given group
 * and kind (same namespace), e.g. a MaasMachine's events to its owning Machine's
 * controller, or used the other way round with {@link mapByName}.
 */
export function mapToOwner(owner: { group: string; kind: string }): MapFunc {
  return (obj) => {
    const ref = findOwnerReference(obj, owner);
    return ref === undefined ? [] : [{ ...requestFor(obj), name: ref.name }];
  };
}

/** A reference as CAPI v1beta2 writes it (`apiGroup`), or as v1beta1 did (`apiVersion`). */
export interface ObjectReferenceLike {
  apiGroup?: string;
  apiVersion?: string;
  kind?: string;
  name?: string;
  namespace?: string;
}

export interface MapByReferenceOptions {
  /** Reads the reference out of the watched object. */
  pick: (obj: KubeObject) => ObjectReferenceLike | undefined;
  /** The primary's API group; a reference to the same kind in another group is not ours. */
  group: string;
  kind: string;
}

/** Maps an object to the primary a reference inside it names, e.g. a CAPI Machine's spec.infrastructureRef → its MaasMachine. */
export function mapByReference(options: MapByReferenceOptions): MapFunc {
  const { pick, group, kind } = options;
  return (obj) => {
    const ref = pick(obj);
    if (ref?.name === undefined || ref.kind !== kind || referenceGroup(ref) !== group) return [];
    const namespace = ref.namespace ?? obj.metadata.namespace;
    return [namespace === undefined || namespace === "" ? { name: ref.name } : { namespace, name: ref.name }];
  };
}

function referenceGroup(ref: ObjectReferenceLike): string {
  if (ref.apiGroup !== undefined) return ref.apiGroup;
  const apiVersion = ref.apiVersion ?? "";
  return apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
}
