// The small controller runtime the reconcilers stand on, in the spirit of Go's
// controller-runtime and client-go. Two halves: the pure core (requests and results,
// the rate-limited work queue, controller workers, conditions, merge patches,
// reconcile metrics) and the Kubernetes-facing half (one shared HTTPS agent, a typed
// REST client, informer caches that recover from every failure, leader election on
// a Lease, events with series aggregation, guarded writes and the Manager that wires
// it all up). It works around @kubernetes/client-node 1.4's pitfalls in one place:
// see https-agent.ts, informer-state.ts, kube-client.ts, events.ts and
// leader-election-lock.ts.

// Core: requests, results, queue, controller, conditions, patches, metrics.
export { requestKey, parseRequestKey, TerminalError, findTerminalError } from "./result.ts";
export type { Request, Result, ReconcileContext, Reconciler } from "./result.ts";
export { WorkQueue } from "./workqueue.ts";
export type { AddOptions, WorkQueueOptions } from "./workqueue.ts";
export {
  exponentialFailureRateLimiter,
  tokenBucketRateLimiter,
  maxOfRateLimiter,
  defaultControllerRateLimiter,
} from "./rate-limiter.ts";
export type { RateLimiter } from "./rate-limiter.ts";
export { Controller, ReconcileTimeoutError } from "./controller.ts";
export type { ControllerOptions } from "./controller.ts";
export {
  getCondition,
  isConditionTrue,
  setCondition,
  removeCondition,
  summarizeReady,
} from "./conditions.ts";
export type { Condition, ConditionInput } from "./conditions.ts";
export { createMergePatch, applyMergePatch } from "./merge-patch.ts";
export { createRuntimeMetrics, noopWorkQueueMetrics } from "./metrics.ts";
export type { RuntimeMetrics, WorkQueueMetrics, InFlightWork, ReconcileResultLabel } from "./metrics.ts";

// Kubernetes-facing: objects, transport, client.
export { apiVersionOf, kindLabel, objectKey, resourcePath } from "./kube-object.ts";
export type { KindSpec, KubeObject, ObjectMeta, ObjectRef, OwnerReference } from "./kube-object.ts";
export { KubeTransport } from "./kube-transport.ts";
export type { KubeRequest, KubeResponse, KubeTransportOptions } from "./kube-transport.ts";
export { KubeClient, PATCH_CONTENT_TYPES } from "./kube-client.ts";
export type { KubeClientOptions, ListOptions, ListPage, PatchOptions, PatchType, WatchEvent, WatchOptions } from "./kube-client.ts";
export { kubeMetrics } from "./kube-metrics.ts";
export type { KubeMetrics } from "./kube-metrics.ts";

// Caches.
export { Informer } from "./informer.ts";
export type { InformerEvent, InformerEventHandler, InformerOptions } from "./informer.ts";
export { apiServerSource } from "./informer-source.ts";
export type { ListWatchSource } from "./informer-source.ts";
export { ListWatchState, DEFAULT_BACKOFF } from "./informer-state.ts";
export type { BackoffPolicy } from "./informer-state.ts";
export { IndexedStore, NAMESPACE_INDEX } from "./cache.ts";
export type { IndexFunc } from "./cache.ts";
export { OWNER_UID_INDEX, DEFAULT_INDEXERS, byOwnerUid, labelIndex, namespacedIndexValue } from "./indexers.ts";

// Writes.
export { PatchHelper } from "./patch-helper.ts";
export type { HelperPatchOptions, PatchHelperOptions } from "./patch-helper.ts";
export { guardedUpdate, patchIfChanged } from "./kube-writes.ts";
export { KubeApiError, apiErrorStatus, isConflict, isNotFound, isAlreadyExists } from "./kube-errors.ts";
export { addFinalizer, removeFinalizer, hasFinalizer } from "./finalizers.ts";
export {
  ownerReferenceFor,
  setOwnerReference,
  removeOwnerReference,
  hasOwnerReference,
  getControllerOf,
  findOwnerReference,
} from "./owner-references.ts";

// Events, leader election, probes, manager.
export { EventRecorder, KubeEventSink } from "./events.ts";
export type { EventInput, EventRecorderOptions, EventSink, EventType } from "./events.ts";
export { LeaderElector, KubeLeaseLock, LeaseConflictError, formatMicroTime } from "./leader-election.ts";
export type { LeaderElectorOptions, LeaseLock, LeaderElectionRecord, ElectionOutcome } from "./leader-election.ts";
export { startProbeServer } from "./probes.ts";
export type { ProbeCheck, ProbeServer, ProbeServerOptions } from "./probes.ts";
export { Manager } from "./manager.ts";
export type { ManagerOptions, ControllerSpec, InformerScope, LeaderElectionOptions, ManagerExit, InformerTuning } from "./manager.ts";
export {
  changedOrResync,
  generationChanged,
  resourceVersionChanged,
  requestFor,
  mapToOwner,
  mapByReference,
} from "./manager-watches.ts";
export type { EventPredicate, MapFunc, MapByReferenceOptions, ObjectReferenceLike, WatchSpec } from "./manager-watches.ts";
