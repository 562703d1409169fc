/**
 * The shapes the runtime reads and writes: objects as the API server sends them in
 * JSON (timestamps stay RFC 3339 strings, unlike client-node's model classes, which
 * type them as `Date` but hand back strings for MicroTime fields), and the
 * description of a kind that addresses its REST path without discovery.
 */

/** Which resource a kind is, enough to build its REST path without discovery. */
export interface KindSpec {
  /** API group; "" for the core group (`/api/v1`). */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** Lower-case plural resource name, e.g. `maasmachines`. */
  readonly plural: string;
  readonly namespaced: boolean;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  generateName?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
}

/** Where an object lives; `namespace` is absent for cluster-scoped kinds. */
export interface ObjectRef {
  namespace?: string;
  name: string;
}

export function apiVersionOf(kind: KindSpec): string {
  return kind.group === "" ? kind.version : `${kind.group}/${kind.version}`;
}

/** `namespace/name`, or `name` for cluster-scoped objects (client-go's MetaNamespaceKeyFunc). */
export function objectKey(ref: ObjectRef | KubeObject): string {
  const { namespace, name } = "metadata" in ref ? ref.metadata : ref;
  return namespace === undefined || namespace === "" ? name : `${namespace}/${name}`;
}

/** A short label for logs and metrics, e.g. `maasmachines.infrastructure.cluster.x-k8s.io`. */
export function kindLabel(kind: KindSpec): string {
  return kind.group === "" ? kind.plural : `${kind.plural}.${kind.group}`;
}

export interface ResourcePathOptions {
  namespace?: string | undefined;
  name?: string | undefined;
  subresource?: string | undefined;
}

export function resourcePath(kind: KindSpec, options: ResourcePathOptions = {}): string {
  const base = kind.group === "" ? `/api/${kind.version}` : `/apis/${kind.group}/${kind.version}`;
  const segments = [base];
  if (kind.namespaced && options.namespace !== undefined && options.namespace !== "") {
    segments.push("namespaces", encodeURIComponent(options.namespace));
  }
  segments.push(kind.plural);
  if (options.name !== undefined) segments.push(encodeURIComponent(options.name));
  if (options.subresource !== undefined) segments.push(options.subresource);
  return segments.join("/");
}
