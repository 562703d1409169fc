import type { KubeObject, OwnerReference } from "./kube-object.ts";

/**
 * Owner references as apimachinery's metav1 helpers treat them: one reference per
 * owner, an owner identified by its group, kind and name (not its version, which
 * may change with an API upgrade), and at most one controller reference.
 * These functions change the object in place; PatchHelper then writes the list
 * under a resourceVersion guard, as merge patch replaces lists whole.
 */

export function ownerReferenceFor(
  owner: KubeObject,
  options: { controller?: boolean; blockOwnerDeletion?: boolean } = {},
): OwnerReference {
  const { apiVersion, kind, metadata } = owner;
  if (apiVersion === undefined || kind === undefined || metadata.uid === undefined) {
    throw new Error(`owner ${metadata.name} needs apiVersion, kind and metadata.uid`);
  }
  return {
    apiVersion,
    kind,
    name: metadata.name,
    uid: metadata.uid,
    ...(options.controller === undefined ? {} : { controller: options.controller }),
    ...(options.blockOwnerDeletion === undefined ? {} : { blockOwnerDeletion: options.blockOwnerDeletion }),
  };
}

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash === -1 ? "" : apiVersion.slice(0, slash);
}

function sameOwner(a: Pick<OwnerReference, "apiVersion" | "kind" | "name">, b: Pick<OwnerReference, "apiVersion" | "kind" | "name">): boolean {
  return groupOf(a.apiVersion) === groupOf(b.apiVersion) && a.kind === b.kind && a.name === b.name;
}

/** Adds or updates the reference to `ref`'s owner; returns whether the list changed. */
export function setOwnerReference(obj: KubeObject, ref: OwnerReference): boolean {
  const refs = obj.metadata.ownerReferences ?? [];
  if (ref.controller === true) {
    const other = refs.find((r) => r.controller === true && !sameOwner(r, ref));
    if (other !== undefined) {
      throw new Error(`${obj.metadata.name} is already controlled by ${other.kind} ${other.name}`);
    }
  }
  const index = refs.findIndex((r) => sameOwner(r, ref));
  if (index !== -1 && JSON.stringify(refs[index]) === JSON.stringify(ref)) return false;
  obj.metadata.ownerReferences = index === -1 ? [...refs, ref] : refs.map((r, i) => (i === index ? ref : r));
  return true;
}

/** Removes the reference to `owner`; returns whether the list changed. */
export function removeOwnerReference(obj: KubeObject, owner: Pick<OwnerReference, "apiVersion" | "kind" | "name">): boolean {
  const refs = obj.metadata.ownerReferences ?? [];
  const kept = refs.filter((r) => !sameOwner(r, owner));
  if (kept.length === refs.length) return false;
  obj.metadata.ownerReferences = kept;
  return true;
}

export function hasOwnerReference(obj: KubeObject, owner: Pick<OwnerReference, "apiVersion" | "kind" | "name">): boolean {
  return (obj.metadata.ownerReferences ?? []).some((r) => sameOwner(r, owner));
}

/** The controller reference, if any (metav1.GetControllerOf). */
export function getControllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller === true);
}

/** The first owner of the given group and kind, e.g. the CAPI Machine owning a MaasMachine. */
export function findOwnerReference(obj: KubeObject, owner: { group: string; kind: string }): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.kind === owner.kind && groupOf(r.apiVersion) === owner.group);
}
