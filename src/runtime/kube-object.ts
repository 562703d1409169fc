/**
 * The shapes the runtime reads and writes: objects as the API server sends them in
 * JSON (timestamps stay RFC 3339 strings, unlike client-node's model classes, which
 * type them as `Date` but hand back strings for MicroTime fields), and the
 * description of a kind that addresses its REST path without discovery.
 */

export type { KindSpec, KubeObject } from "../api/v1beta1/object-model.ts";
export type { ObjectMeta, OwnerReference } from "../api/v1beta1/common-types.ts";
import type { KindSpec, KubeObject } from "../api/v1beta1/object-model.ts";

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
