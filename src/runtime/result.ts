// What a reconciler receives and returns, as controller-runtime's reconcile package
// has it: a request names one object, a result asks for a later pass, and a thrown
// error retries with backoff unless it is a TerminalError.
import type { Logger } from "../observability/index.ts";

/** One object to reconcile; cluster-scoped objects have no namespace. */
export interface Request {
  namespace?: string;
  name: string;
}

/** The work-queue key of a request: "namespace/name", or "name" when cluster-scoped. */
export function requestKey(request: Request): string {
  return request.namespace ? `${request.namespace}/${request.name}` : request.name;
}

/**
 * The inverse of {@link requestKey}. Kubernetes names and namespaces never hold a
 * slash, so a key with two slashes or an empty name is a programming error.
 */
export function parseRequestKey(key: string): Request {
  const parts = key.split("/");
  if (parts.length === 1 && parts[0]) return { name: parts[0] };
  if (parts.length === 2 && parts[1]) return parts[0] ? { namespace: parts[0], name: parts[1] } : { name: parts[1] };
  throw new TypeError(`invalid request key ${JSON.stringify(key)}: want "namespace/name" or "name"`);
}

/** What a reconcile asks of the controller once it returns without throwing. */
export interface Result {
  /**
   * Reconcile again after this long (polling); the failure backoff is reset. Ignored
   * unless > 0. (controller-runtime's deprecated `Requeue: true` has no equivalent:
   * throw to back off, or name the delay.)
   */
  requeueAfterMs?: number;
}

/**
 * An error that retrying cannot fix (invalid spec, a MAAS answer that will not change).
 * The controller records it — the manager turns it into an Event — and does not retry;
 * the next change to the object brings it back.
 */
export class TerminalError extends Error {
  /** A CamelCase reason, suitable for an Event or a condition. */
  readonly reason: string;

  constructor(message: string, options?: { reason?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "TerminalError";
    this.reason = options?.reason ?? "TerminalError";
  }
}

/**
 * The TerminalError that `error` is or wraps through its `cause` chain, so a caller
 * may wrap one for context without making it retryable (Go's errors.Is on
 * reconcile.TerminalError).
 */
export function findTerminalError(error: unknown): TerminalError | undefined {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current instanceof Error && !seen.has(current)) {
    if (current instanceof TerminalError) return current;
    seen.add(current);
    current = current.cause;
  }
  return undefined;
}

/** Everything one reconcile may use besides the request itself. */
export interface ReconcileContext {
  /** Carries controller, namespace, name and reconcileId on every line. */
  log: Logger;
  /** Aborted when the reconcile times out or the controller's shutdown deadline passes. */
  signal: AbortSignal;
  /** A short random id that ties together the log lines of one reconcile. */
  reconcileId: string;
  /** The name of the controller running this reconcile. */
  controller: string;
}

export interface Reconciler {
  reconcile(request: Request, ctx: ReconcileContext): Promise<Result | void>;
}
