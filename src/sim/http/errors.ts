// MAAS's error responses: status, content type and body text, as produced by
// maas@3.7.0 src/maasserver/exceptions.py (MAASAPIException.make_http_response,
// MAASAPIValidationError), middleware.py (ExceptionMiddleware), api/support.py
// (error_handler, dispatch) and piston3 (rc codes, send_oauth_error).
import { pyJsonDumps, pyRepr } from "../python-format.ts";

const TEXT = "text/plain; charset=utf-8";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    readonly contentType: string = TEXT,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(body === "" ? `HTTP ${status}` : body);
  }
}

export type FieldErrors = Record<string, string[]>;

/** MAASAPIBadRequest and MAASAPIValidationError with one message: 400 text/plain. */
export function badRequest(message: string): ApiError {
  return new ApiError(400, message);
}

/** MAASAPIValidationError with a dict: 400 application/json, `{"field": ["msg"]}`. */
export function validationErrors(errors: FieldErrors): ApiError {
  return new ApiError(400, pyJsonDumps(errors), "application/json; charset=utf-8");
}

/**
 * A Django ValidationError with a dict that reaches ExceptionMiddleware (e.g. from
 * Node.start()): 400 with bare `application/json`.
 */
export function modelValidationErrors(errors: FieldErrors): ApiError {
  return new ApiError(400, pyJsonDumps(errors), "application/json");
}

/** NodeStateViolation / NodesNotAvailable: 409 text/plain. */
export function conflict(message: string): ApiError {
  return new ApiError(409, message);
}

/** Http404 from get_object_or_404: "No <Model> matches the given query." */
export function notFound(model: string): ApiError {
  return new ApiError(404, `No ${model} matches the given query.`);
}

/** PermissionDenied: 403 with the message (often empty). */
export function forbidden(message = ""): ApiError {
  return new ApiError(403, message);
}

/** @admin_method: maas@3.7.0 api/support.py METHOD_RESERVED_ADMIN. */
export function adminOnly(): ApiError {
  return forbidden("This method is reserved for admin users.");
}

/** OperationsHandlerMixin.dispatch: no handler for (method, op). */
export function unrecognisedSignature(method: string, op: string | null): ApiError {
  return badRequest(`Unrecognised signature: method=${method} op=${op ?? "None"}`);
}

/** MAASAPIAuthentication.challenge returns piston's rc.FORBIDDEN = ('Forbidden', 401). */
export function challenge(): ApiError {
  return new ApiError(401, "Forbidden", "text/plain");
}

/**
 * OAuthUnauthorized: the message becomes "Authorization Error: %r" (or the
 * friendlier text for an unknown consumer) and piston3's send_oauth_error adds
 * `WWW-Authenticate: OAuth realm="OAuth"`.
 */
export function oauthUnauthorized(oauthMessage: string): ApiError {
  const text =
    oauthMessage === "Invalid consumer."
      ? "Authorization Error: Invalid API key."
      : `Authorization Error: ${pyRepr(oauthMessage)}`;
  return new ApiError(401, text, TEXT, { "WWW-Authenticate": 'OAuth realm="OAuth"' });
}

/** piston's HttpResponseNotAllowed when no operation uses the HTTP method. */
export function methodNotAllowed(allowed: readonly string[]): ApiError {
  return new ApiError(405, "", TEXT, { Allow: allowed.join(", ") });
}

/** api/not_found.py: any unmatched path below the API root. */
export function unknownEndpoint(fullPath: string): ApiError {
  return new ApiError(404, `Unknown API endpoint: ${fullPath}.`);
}

/** What we knowingly do not simulate: a loud 400 naming the gap. */
export function unsupported(what: string): ApiError {
  return badRequest(`The MAAS simulator does not support ${what}.`);
}
