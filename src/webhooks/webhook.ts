// One kind's defaulter and validator, and the two admission handlers built from them.
// The rules every kind shares live here once: what is checked per operation, that an
// object clusterctl is moving passes untouched, and when CAPI's topology dry-run skips
// immutability. A kind module only says what its spec defaults to and refuses.
import { DeleteForMoveAnnotation, GROUP } from "../api/v1beta1/index.ts";
import { allowed, denied, type AdmissionRequest, type AdmissionResponse, type JsonObject } from "./admission.ts";
import { invalidStatus, type FieldError } from "./field-errors.ts";
import { diffJson } from "./json-patch.ts";

/**
 * CAPI's topology controller marks the objects of its server-side-apply dry-runs with
 * this annotation (api/core/v1beta2 TopologyDryRunAnnotation); with `dryRun: true` on the
 * request it means "compute the diff", not "change the object" (util/topology IsDryRunRequest).
 */
export const TopologyDryRunAnnotation = "topology.cluster.x-k8s.io/dry-run";

export interface Verdict {
  errors: FieldError[];
  warnings: string[];
}

export interface UpdateContext {
  /** CAPI's topology dry-run: immutability rules are skipped, value checks are not. */
  skipImmutability: boolean;
}

/** What a kind's module provides. Objects are typed as stored; the schema was checked first. */
export interface KindWebhook<T> {
  kind: string;
  /** Edits a copy of the object as sent (not yet schema-checked: every field may be missing). Returns warnings. */
  default(object: JsonObject): string[];
  validateCreate(object: T): Verdict;
  validateUpdate(oldObject: T, newObject: T, context: UpdateContext): Verdict;
}

function annotations(object: JsonObject | undefined): Record<string, unknown> {
  const metadata = object?.metadata;
  if (typeof metadata !== "object" || metadata === null) return {};
  const value = (metadata as JsonObject).annotations;
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
}

function nameOf(request: AdmissionRequest): string {
  if (request.name !== "") return request.name;
  const metadata = request.object?.metadata as JsonObject | undefined;
  return typeof metadata?.name === "string" ? metadata.name : typeof metadata?.generateName === "string" ? `${metadata.generateName}*` : "";
}

export type AdmissionHandler = (request: AdmissionRequest) => AdmissionResponse;

/** The /mutate- handler: the JSON patch from the object as sent to the defaulted copy. */
export function mutatingHandler<T>(webhook: KindWebhook<T>): AdmissionHandler {
  return (request) => {
    if ((request.operation !== "CREATE" && request.operation !== "UPDATE") || request.object === undefined) return allowed(request.uid);
    // clusterctl move strips finalizers from objects it is deleting; change nothing else.
    if (DeleteForMoveAnnotation in annotations(request.object)) return allowed(request.uid);
    const copy = structuredClone(request.object);
    const warnings = webhook.default(copy);
    return allowed(request.uid, { patch: diffJson(request.object, copy), warnings });
  };
}

/** The /validate- handler: create and update checks; deletes are never refused. */
export function validatingHandler<T>(webhook: KindWebhook<T>): AdmissionHandler {
  return (request) => {
    let verdict: Verdict;
    if (request.operation === "CREATE") {
      verdict = webhook.validateCreate(request.object as T);
    } else if (request.operation === "UPDATE") {
      // clusterctl move annotates, strips finalizers and deletes: nothing it does is refused.
      if (DeleteForMoveAnnotation in annotations(request.object)) return allowed(request.uid);
      const skipImmutability = request.dryRun && TopologyDryRunAnnotation in annotations(request.object);
      verdict = webhook.validateUpdate(request.oldObject as T, request.object as T, { skipImmutability });
    } else {
      return allowed(request.uid);
    }
    if (verdict.errors.length === 0) return allowed(request.uid, { warnings: verdict.warnings });
    return denied(request.uid, invalidStatus({ group: GROUP, kind: webhook.kind, name: nameOf(request) }, verdict.errors), verdict.warnings);
  };
}

/** `object[key]` when it is an object, else undefined; for defaulters walking a path the schema has not checked yet. */
export function child(object: JsonObject, key: string): JsonObject | undefined {
  const value = object[key];
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as JsonObject;
  return undefined;
}
