// The CAPI contract rules an infrastructure controller applies to every object before
// acting: pause, externally managed, `clusterctl move`, the owner Machine and the
// bootstrap data. Each mirrors the CAPI v1.14 utility named beside it.
import {
  DeleteForMoveAnnotation,
  ManagedByAnnotation,
  NotPausedReason,
  PausedAnnotation,
  PausedCondition,
  PausedReason,
  type KubeObject,
} from "../api/v1beta1/index.ts";
import type { ConditionInput } from "../runtime/index.ts";
import { CAPI_MACHINE, CLUSTER_API_GROUP, type Cluster, type Machine, type Secret } from "./types.ts";

/** True when the Cluster has spec.paused or the object the paused annotation (util/annotations.IsPaused). */
export function isPaused(cluster: Cluster | undefined, obj: KubeObject): boolean {
  return cluster?.spec?.paused === true || hasAnnotation(obj, PausedAnnotation);
}

/**
 * The Paused condition as CAPI's util/paused.EnsurePausedCondition writes it: True with
 * reason Paused and the causes joined by ", ", else False/NotPaused.
 */
export function pausedCondition(cluster: Cluster | undefined, obj: KubeObject & { kind?: string }): ConditionInput {
  const generation = obj.metadata.generation === undefined ? {} : { observedGeneration: obj.metadata.generation };
  const messages: string[] = [];
  if (cluster?.spec?.paused === true) messages.push("Cluster spec.paused is set to true");
  if (hasAnnotation(obj, PausedAnnotation)) messages.push(`${obj.kind ?? "Object"} has the cluster.x-k8s.io/paused annotation`);
  if (messages.length === 0) return { type: PausedCondition, status: "False", reason: NotPausedReason, ...generation };
  return { type: PausedCondition, status: "True", reason: PausedReason, message: messages.join(", "), ...generation };
}

/** Infrastructure managed outside CAPI (util/annotations.IsExternallyManaged): leave it alone. */
export function isExternallyManaged(obj: KubeObject): boolean {
  return hasAnnotation(obj, ManagedByAnnotation);
}

/** Deleted by `clusterctl move`: the object goes, its MAAS resources stay for the target cluster. */
export function isDeleteForMove(obj: KubeObject): boolean {
  return hasAnnotation(obj, DeleteForMoveAnnotation);
}

/** The name of the CAPI Machine that owns `obj` (util.GetOwnerMachine), if CAPI has set the reference yet. */
export function ownerMachineName(obj: KubeObject): string | undefined {
  const ref = (obj.metadata.ownerReferences ?? []).find(
    (r) => r.kind === CAPI_MACHINE.kind && groupOf(r.apiVersion) === CLUSTER_API_GROUP,
  );
  return ref?.name;
}

/** The name of the Cluster that owns `obj` (util.GetOwnerCluster). */
export function ownerClusterName(obj: KubeObject): string | undefined {
  const ref = (obj.metadata.ownerReferences ?? []).find((r) => r.kind === "Cluster" && groupOf(r.apiVersion) === CLUSTER_API_GROUP);
  return ref?.name;
}

/** The bootstrap provider's Secret name, once it has written one. */
export function bootstrapDataSecretName(machine: Machine): string | undefined {
  const name = machine.spec.bootstrap?.dataSecretName;
  return name === undefined || name === "" ? undefined : name;
}

/** Control-plane Machines carry the control-plane label (its value does not matter). */
export function isControlPlane(obj: KubeObject): boolean {
  return obj.metadata.labels?.["cluster.x-k8s.io/control-plane"] !== undefined;
}

export class BootstrapDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BootstrapDataError";
  }
}

/** The bootstrap data (cloud-init) from the Secret's one key, `value` (bootstrap contract). */
export function decodeBootstrapData(secret: Secret): string {
  const encoded = secret.data?.value;
  if (encoded === undefined || encoded === "") {
    throw new BootstrapDataError(`bootstrap data Secret ${secret.metadata.name} has no "value" key`);
  }
  return Buffer.from(encoded, "base64").toString("utf8");
}

function hasAnnotation(obj: KubeObject, name: string): boolean {
  return obj.metadata.annotations?.[name] !== undefined;
}

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash === -1 ? "" : apiVersion.slice(0, slash);
}
