// The one object model every layer shares: objects as the API server sends them in
// JSON (timestamps stay RFC 3339 strings) and the description of a kind that is
// enough to build its REST path without discovery. A KindSpec carries the TypeScript
// type of its objects, so `manager.informer(MAAS_MACHINE)` is an Informer<MaasMachine>
// without a cast. It lives in api/ because api/ imports nothing of ours and every
// other layer (runtime, capi, controllers) stands on it.
import type { ObjectMeta } from "./common-types.ts";

/** Any Kubernetes object: apiVersion/kind (absent in list items) and metadata. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
}

/** Which resource a kind is; `T` is the type of its objects. */
export interface KindSpec<T extends KubeObject = KubeObject> {
  /** API group; "" for the core group (`/api/v1`). */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** Lower-case plural resource name, e.g. `maasmachines`. */
  readonly plural: string;
  readonly namespaced: boolean;
  /**
   * Never set: it only carries `T` through the type system. A method signature is
   * bivariant, so a KindSpec of any object type still fits where a plain KindSpec is taken.
   */
  __object?(object: T): void;
}

/** A KindSpec whose object type is `T`; reads better than a literal with a phantom field. */
export function kindSpec<T extends KubeObject>(spec: Omit<KindSpec<T>, "__object">): KindSpec<T> {
  return spec;
}
