// Typed errors for every way a MAAS call can fail. Callers branch on `code` (stable),
// never on message text. Messages carry the operation, the HTTP status and a short
// piece of MAAS's own body text; they never carry request or response headers, the
// API key or user data.

/** Stable failure codes; one per failure a caller acts on differently. */
export type MaasErrorCode =
  | "InvalidConfig"
  | "BadRequest"
  | "Unauthorized"
  | "Forbidden"
  | "NotFound"
  | "Conflict"
  | "Unavailable"
  | "ServerError"
  | "Timeout"
  | "Network"
  | "TlsVerification"
  | "Aborted"
  | "Unexpected";

/** How much of MAAS's body text an error keeps, and how much its message shows. */
export const MAX_ERROR_BODY_CHARS = 2000;
const MAX_MESSAGE_BODY_CHARS = 300;

export interface MaasErrorOptions {
  code: MaasErrorCode;
  message: string;
  /** HTTP status, when MAAS answered. */
  status?: number;
  /** What was called, e.g. "POST machines/?op=allocate". Never holds headers or secrets. */
  op?: string;
  /** MAAS's body text (truncated). */
  body?: string;
  cause?: unknown;
}

export class MaasError extends Error {
  readonly code: MaasErrorCode;
  readonly status: number | undefined;
  readonly op: string | undefined;
  readonly body: string | undefined;

  constructor(options: MaasErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.status = options.status;
    this.op = options.op;
    this.body = options.body === undefined ? undefined : truncate(options.body, MAX_ERROR_BODY_CHARS);
  }
}

/** A client option (endpoint, API key, retry settings) is malformed; raised at construction. */
export class MaasConfigError extends MaasError {
  constructor(message: string) {
    super({ code: "InvalidConfig", message });
  }
}

/** Shared shape for errors built from an HTTP answer. */
export interface MaasResponseErrorOptions {
  op: string;
  status: number;
  body: string;
}

export type FieldErrors = Record<string, string[]>;

/** 400: MAAS refused the parameters. `fieldErrors` is set when MAAS sent its JSON form errors. */
export class MaasBadRequestError extends MaasError {
  readonly fieldErrors: FieldErrors | undefined;

  constructor(options: { op: string; status?: number; body: string; fieldErrors?: FieldErrors }) {
    super({
      code: "BadRequest",
      message: responseMessage(options.op, options.status, options.body),
      op: options.op,
      body: options.body,
      ...(options.status === undefined ? {} : { status: options.status }),
    });
    this.fieldErrors = options.fieldErrors;
  }
}

/** 401: the API key is unknown, revoked or malformed as MAAS sees it. */
export class MaasUnauthorizedError extends MaasError {
  constructor(options: MaasResponseErrorOptions) {
    super({ code: "Unauthorized", message: responseMessage(options.op, options.status, options.body), ...options });
  }
}

/** 403: the key's user may not do this (admin-only method, machine owned by someone else, locked). */
export class MaasForbiddenError extends MaasError {
  constructor(options: MaasResponseErrorOptions) {
    super({ code: "Forbidden", message: responseMessage(options.op, options.status, options.body), ...options });
  }
}

/** 404: the machine, tag, zone, pool, domain or record does not exist. */
export class MaasNotFoundError extends MaasError {
  constructor(options: MaasResponseErrorOptions) {
    super({ code: "NotFound", message: responseMessage(options.op, options.status, options.body), ...options });
  }
}

/**
 * 409: the state forbids the action: no machine matches the allocate constraints,
 * a machine cannot be deployed or released in its state, a tag definition differs.
 * `retryAfterMs` is set when MAAS asked to come back later (lock contention).
 */
export class MaasConflictError extends MaasError {
  readonly retryAfterMs: number | undefined;

  constructor(options: MaasResponseErrorOptions & { retryAfterMs?: number }) {
    super({
      code: "Conflict",
      message: responseMessage(options.op, options.status, options.body),
      op: options.op,
      status: options.status,
      body: options.body,
    });
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** 503 (or 429): MAAS refused for now, before acting. `retryAfterMs` comes from `Retry-After`. */
export class MaasUnavailableError extends MaasError {
  readonly retryAfterMs: number | undefined;

  constructor(options: MaasResponseErrorOptions & { retryAfterMs?: number }) {
    super({
      code: "Unavailable",
      message: responseMessage(options.op, options.status, options.body),
      op: options.op,
      status: options.status,
      body: options.body,
    });
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** Any other 5xx. MAAS may have acted before failing. */
export class MaasServerError extends MaasError {
  constructor(options: MaasResponseErrorOptions) {
    super({ code: "ServerError", message: responseMessage(options.op, options.status, options.body), ...options });
  }
}

/**
 * No complete answer within the request timeout. `requestSent` is false only when no
 * connection was made, i.e. MAAS cannot have seen the request.
 */
export class MaasTimeoutError extends MaasError {
  readonly requestSent: boolean;
  readonly timeoutMs: number;

  constructor(options: { op: string; timeoutMs: number; requestSent: boolean }) {
    super({
      code: "Timeout",
      message: `MAAS ${options.op}: no answer within ${options.timeoutMs} ms`,
      op: options.op,
    });
    this.requestSent = options.requestSent;
    this.timeoutMs = options.timeoutMs;
  }
}

/**
 * The connection failed. `requestSent` is false when it was never established
 * (refused, unreachable, DNS), so MAAS cannot have seen the request; true when it broke
 * after the request went out (reset), so MAAS may have acted. `syscallCode` is Node's
 * error code, e.g. ECONNREFUSED or ECONNRESET.
 */
export class MaasNetworkError extends MaasError {
  readonly requestSent: boolean;
  readonly syscallCode: string | undefined;

  constructor(options: { op: string; requestSent: boolean; syscallCode?: string; cause?: unknown }) {
    const what = options.syscallCode ?? "connection error";
    super({
      code: "Network",
      message: `MAAS ${options.op}: ${what} ${options.requestSent ? "after the request was sent" : "before connecting"}`,
      op: options.op,
      cause: options.cause,
    });
    this.requestSent = options.requestSent;
    this.syscallCode = options.syscallCode;
  }
}

/**
 * The caller's AbortSignal fired (shutdown, lost leadership, reconcile cancelled): the
 * call was given up, its connection cut and any backoff wait stopped; never retried.
 * `requestSent` is true when the cut attempt may already have reached MAAS, so an
 * allocate or deploy may have happened: find before acting again.
 */
export class MaasAbortedError extends MaasError {
  readonly requestSent: boolean;

  constructor(options: { op: string; requestSent: boolean; cause?: unknown }) {
    super({
      code: "Aborted",
      message: `MAAS ${options.op}: aborted by the caller ${options.requestSent ? "after the request was sent" : "before it was sent"}`,
      op: options.op,
      cause: options.cause,
    });
    this.requestSent = options.requestSent;
  }
}

/** Why the TLS handshake refused MAAS's certificate. */
export type TlsFailureReason =
  | "self-signed"
  | "unknown-ca"
  | "hostname-mismatch"
  | "expired"
  | "not-yet-valid"
  | "revoked"
  | "invalid-certificate";

const TLS_REASON_TEXT: Record<TlsFailureReason, string> = {
  "self-signed": "the certificate (or a CA in its chain) is self-signed and not trusted; add it to caCertificates",
  "unknown-ca": "the certificate is signed by an unknown CA; add that CA to caCertificates",
  "hostname-mismatch": "the certificate does not name the endpoint's host",
  expired: "the certificate has expired",
  "not-yet-valid": "the certificate is not valid yet (is a clock wrong?)",
  revoked: "the certificate was revoked",
  "invalid-certificate": "the certificate chain is invalid",
};

/**
 * The TLS handshake refused MAAS's certificate, so nothing was sent. Never retried: only
 * a change of caCertificates, the endpoint or the certificate fixes it. `reason` says
 * why; `tlsCode` is Node's code, e.g. DEPTH_ZERO_SELF_SIGNED_CERT or CERT_HAS_EXPIRED.
 */
export class MaasTlsVerificationError extends MaasError {
  readonly reason: TlsFailureReason;
  readonly tlsCode: string;

  constructor(options: { op: string; reason: TlsFailureReason; tlsCode: string; cause?: unknown }) {
    super({
      code: "TlsVerification",
      message: `MAAS ${options.op}: TLS verification failed: ${TLS_REASON_TEXT[options.reason]} (${options.tlsCode})`,
      op: options.op,
      cause: options.cause,
    });
    this.reason = options.reason;
    this.tlsCode = options.tlsCode;
  }
}

/** MAAS answered something this client cannot read: bad JSON, a missing field, an unknown status. */
export class MaasUnexpectedResponseError extends MaasError {
  constructor(options: { op: string; message: string; status?: number; body?: string; cause?: unknown }) {
    super({ code: "Unexpected", ...options, message: `MAAS ${options.op}: ${options.message}` });
  }
}

/** The error for a non-2xx answer; `body` must already be scrubbed of secrets. */
export function errorFromResponse(options: {
  op: string;
  status: number;
  body: string;
  contentType: string | undefined;
  retryAfterMs: number | undefined;
}): MaasError {
  const { op, status, body, retryAfterMs } = options;
  const retry = retryAfterMs === undefined ? {} : { retryAfterMs };
  switch (status) {
    case 400: {
      const fieldErrors = parseFieldErrors(body);
      return new MaasBadRequestError({ op, status, body, ...(fieldErrors === undefined ? {} : { fieldErrors }) });
    }
    case 401:
      return new MaasUnauthorizedError({ op, status, body });
    case 403:
      return new MaasForbiddenError({ op, status, body });
    case 404:
      return new MaasNotFoundError({ op, status, body });
    case 409:
      return new MaasConflictError({ op, status, body, ...retry });
    case 429:
    case 503:
      return new MaasUnavailableError({ op, status, body, ...retry });
    default:
      if (status >= 500) return new MaasServerError({ op, status, body });
      return new MaasUnexpectedResponseError({ op, status, body, message: `unexpected ${statusDetail(status, body)}` });
  }
}

/**
 * MAAS sends form errors as `{"field": ["message", ...]}` (maasserver/exceptions.py
 * MAASAPIValidationError); other 400s are plain text.
 */
export function parseFieldErrors(body: string): FieldErrors | undefined {
  if (!body.trimStart().startsWith("{")) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
  const result: FieldErrors = {};
  for (const [field, messages] of Object.entries(parsed as Record<string, unknown>)) {
    if (Array.isArray(messages)) result[field] = messages.map(String);
    else if (typeof messages === "string") result[field] = [messages];
    else return undefined;
  }
  return result;
}

function responseMessage(op: string, status: number | undefined, body: string): string {
  return `MAAS ${op}: ${statusDetail(status, body)}`;
}

/** "HTTP 409: <start of MAAS's text>". */
function statusDetail(status: number | undefined, body: string): string {
  const text = truncate(body.trim().replace(/\s+/g, " "), MAX_MESSAGE_BODY_CHARS);
  const where = status === undefined ? "refused by the client before sending" : `HTTP ${status}`;
  return text === "" ? where : `${where}: ${text}`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}
