// The error every non-2xx answer of the API server becomes. client-node's ApiException
// embeds the response headers in its message (so a log line of it carries them);
// KubeApiError keeps only what callers act on: the HTTP status, the Status reason
// (`Conflict`, `NotFound`, `AlreadyExists`, ...) and the server's own message.
// Generated client-node APIs (Lease, Events) still throw ApiException, so the
// predicates below accept both.
import { ApiException } from "@kubernetes/client-node";

export class KubeApiError extends Error {
  /** HTTP status; 0 when no answer came. */
  readonly status: number;
  /** metav1.Status reason, e.g. `Conflict`, `NotFound`, `Invalid`; "" when the body was not a Status. */
  readonly reason: string;

  constructor(options: { status: number; reason?: string; message: string }) {
    super(options.message);
    this.name = "KubeApiError";
    this.status = options.status;
    this.reason = options.reason ?? "";
  }

  /** Builds the error from a raw answer; the body is read as a metav1.Status when it is one. */
  static fromResponse(status: number, text: string): KubeApiError {
    let reason = "";
    let message = text.trim() === "" ? `HTTP ${status}` : text.slice(0, 500);
    try {
      const body = JSON.parse(text) as { reason?: unknown; message?: unknown };
      if (typeof body.reason === "string") reason = body.reason;
      if (typeof body.message === "string") message = body.message;
    } catch {
      // Not JSON (a proxy's HTML page, an empty body): keep the text.
    }
    return new KubeApiError({ status, reason, message: `HTTP ${status}: ${message}` });
  }
}

/** The HTTP status of an API error of either kind, undefined for anything else. */
export function apiErrorStatus(err: unknown): number | undefined {
  if (err instanceof KubeApiError) return err.status;
  if (err instanceof ApiException) return err.code;
  return undefined;
}

export function isConflict(err: unknown): boolean {
  return apiErrorStatus(err) === 409;
}

export function isNotFound(err: unknown): boolean {
  return apiErrorStatus(err) === 404;
}

export function isAlreadyExists(err: unknown): boolean {
  return apiErrorStatus(err) === 409 && err instanceof KubeApiError && err.reason === "AlreadyExists";
}
