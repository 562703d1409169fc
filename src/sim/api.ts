// One MAAS API request from bytes to response, in MAAS's order: parse the query
// and form body, find the operation name (query `op`, else form `op` — Django's
// `request.GET.get("op") or request.POST.get("op")` — else a path-style op-<name>),
// apply an injected fault, route, authenticate, dispatch, log.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Clock } from "../clock/index.ts";
import type { Logger } from "../observability/index.ts";
import { describeApi, API_HASH } from "./describe.ts";
import { DEFAULT_TIMEOUT_HOLD_MS, type FaultInjector } from "./faults.ts";
import type { ApiRequest, ApiResult, HandlerEnv } from "./handlers/context.ts";
import { ApiError, challenge, methodNotAllowed, unknownEndpoint, unrecognisedSignature, unsupported } from "./http/errors.ts";
import { BodyError, checkUrlEncodedFieldCount, parseBody, TooManyFieldsError } from "./http/form-body.ts";
import { FormParams } from "./http/form-params.ts";
import type { OAuthVerifier } from "./http/oauth.ts";
import { API_ROOT } from "./machine-json.ts";
import type { RequestLog } from "./request-log.ts";
import { matchRoute, type ResourceDef } from "./routes.ts";
import type { FaultKind } from "./types.ts";

export interface ApiDeps {
  env: HandlerEnv;
  verifier: OAuthVerifier;
  faults: FaultInjector;
  log: RequestLog;
  clock: Clock;
  logger: Logger;
  /** Resolves once every change so far is durable (the state file); awaited before each answer. */
  commit(): Promise<void>;
  /** Aborted when the simulator closes. */
  signal: AbortSignal;
  /** Keeps a connection open without answering until the simulator closes or `ms` pass. */
  hold(req: IncomingMessage, ms: number): void;
}

export async function handleApi(deps: ApiDeps, req: IncomingMessage, res: ServerResponse, rawBody: Buffer): Promise<void> {
  const method = (req.method ?? "GET").toUpperCase();
  const url = new URL(req.url ?? "/", "http://simulator");
  const fullPath = url.pathname;
  const subPath = fullPath.slice(API_ROOT.length); // "/machines/"
  const host = req.headers.host ?? "127.0.0.1";
  let query = new FormParams();
  let body = new FormParams();
  let bodyUrlEncoded = false;
  let bodyError: string | null = null;
  try {
    checkUrlEncodedFieldCount(url.search.slice(1));
    query = FormParams.fromUrlEncoded(url.search.slice(1));
    // Django parses bodies into request.POST for POST; piston's coerce_put_post does it for PUT.
    if (method === "POST" || method === "PUT") {
      try {
        const parsed = parseBody(rawBody, req.headers["content-type"]);
        body = parsed.params;
        bodyUrlEncoded = parsed.urlEncoded;
      } catch (error) {
        if (!(error instanceof BodyError)) throw error;
        bodyError = error.message;
      }
    }
  } catch (error) {
    if (!(error instanceof TooManyFieldsError)) throw error;
    const status = sendTooManyFields(res);
    deps.log.add({ time: new Date(deps.clock.now()).toISOString(), method, path: fullPath, op: null, params: {}, status, fault: null, user: null });
    return;
  }
  const queryOp = query.get("op");
  const formOp = body.get("op");
  const route = matchRoute(subPath.replace(/^\//, ""), deps.env.features.pathOps);
  let op: string | null = queryOp !== undefined && queryOp !== "" ? queryOp : (formOp ?? null);
  if (op === null && route?.pathOp) op = route.pathOp;

  let user: string | null = null;
  const record = (status: number | null, fault: FaultKind | null): void => {
    const params = { ...query.without("op").toRecord(), ...body.without("op").toRecord() };
    for (const key of Object.keys(params)) if (key.startsWith("oauth_")) delete params[key];
    deps.log.add({ time: new Date(deps.clock.now()).toISOString(), method, path: fullPath, op, params, status, fault, user });
  };

  // Faults that stop a request fire before any MAAS logic, so they change nothing.
  const fault = deps.faults.pick(method, subPath, op);
  if (fault !== null) {
    if (fault.kind === "unavailable") {
      const headers: Record<string, string> = {};
      if (fault.retryAfterSeconds !== undefined) headers["Retry-After"] = String(fault.retryAfterSeconds);
      send(res, new ApiError(503, "Service Unavailable", "text/plain; charset=utf-8", headers));
      record(503, "unavailable");
      return;
    }
    if (fault.kind === "reset") {
      record(null, "reset");
      req.socket.resetAndDestroy();
      return;
    }
    if (fault.kind === "timeout") {
      record(null, "timeout");
      deps.hold(req, fault.latencyMs ?? DEFAULT_TIMEOUT_HOLD_MS);
      return;
    }
    try {
      await deps.clock.sleep(fault.latencyMs ?? 0, deps.signal);
    } catch {
      req.socket.destroy(); // closing while delayed
      return;
    }
  }

  let outcome: ApiResult | ApiError;
  try {
    if (bodyError !== null) throw new ApiError(400, bodyError);
    if (subPath === "/describe/") {
      // A plain Django view: anonymous, never checks OAuth.
      outcome = { text: describeApi(`http://${host}`), contentType: "application/json" };
    } else {
      if (route === null) throw unknownEndpoint(fullPath);
      const verified = route.resource.anonymous === true ? null : deps.verifier.verify({
        method, url: `http://${host}${fullPath}`, authorization: req.headers.authorization, query, body, bodyUrlEncoded,
      });
      const simUser = verified === null ? null : (deps.env.store.user(verified.username) ?? null);
      user = simUser?.username ?? null;
      if (simUser === null && route.resource.anonymous !== true) rejectAnonymous(route.resource, method, op);
      const apiReq: ApiRequest = { method, fullPath, host, query, body, op, user: simUser, args: route.args };
      outcome = dispatch(deps.env, route.resource, apiReq);
    }
  } catch (error) {
    if (error instanceof ApiError) {
      outcome = error;
    } else {
      deps.logger.error({ err: error, method, path: fullPath, op }, "simulator error");
      outcome = new ApiError(500, "Internal Server Error");
    }
  }
  // regiond commits the request's transaction as the view returns, before it answers
  // (transaction.atomic around each view, maasserver/utils/views.py):
  // no answer goes out until every change so far — this request's, and any it may show
  // from others or from the lifecycle — is on disk. A failed commit is MAAS's 500.
  try {
    await deps.commit();
  } catch {
    outcome = new ApiError(500, "Internal Server Error"); // the persistence layer logged why
  }
  record(send(res, outcome), fault?.kind ?? null);
}

/**
 * Unauthenticated request to a protected resource. piston hands it to the
 * anonymous handler when there is one and it serves the method (for /machines/:
 * GET and POST); otherwise MAAS's challenge answers 401 "Forbidden".
 */
function rejectAnonymous(resource: ResourceDef, method: string, op: string | null): never {
  const anon = resource.anonHandler;
  if (anon === undefined || !anon.ops.some((o) => o.method === method)) throw challenge();
  if (anon.ops.some((o) => o.method === method && o.op === op)) throw unsupported(`anonymous ${method} op=${op ?? "None"} (enlistment)`);
  throw unrecognisedSignature(method, op);
}

function dispatch(env: HandlerEnv, resource: ResourceDef, req: ApiRequest): ApiResult {
  const methods = [...new Set([...resource.ops.map((o) => o.method), ...(resource.unsimulated ?? []).map((u) => u.split(" ")[0] as string)])];
  if (!methods.includes(req.method)) throw methodNotAllowed(methods);
  const operation = resource.ops.find((o) => o.method === req.method && o.op === req.op);
  if (operation !== undefined) return operation.run(env, req);
  const signature = req.op === null ? req.method : `${req.method} ${req.op}`;
  if (resource.unsimulated?.includes(signature)) throw unsupported(`${req.method} ${resource.uri}${req.op === null ? "" : ` op=${req.op}`}`);
  throw unrecognisedSignature(req.method, req.op);
}

/**
 * TooManyFieldsSent, raised where a view first reads request.GET or request.POST.
 * MAAS's ExceptionMiddleware turns it into a 500, but PrometheusRequestMetricsMiddleware,
 * outside it, reads request.POST and request.GET again to label its metric, which
 * raises again; Django's handler then answers the SuspiciousOperation with its
 * bad_request page, as MAAS has no 400.html (maasserver/middleware.py,
 * maasserver/prometheus/middleware.py at 3.7.0; django/views/defaults.py). Nothing
 * is parsed, so nothing past the count costs time.
 */
function sendTooManyFields(res: ServerResponse): number {
  const page = '\n<!doctype html>\n<html lang="en">\n<head>\n  <title>Bad Request (400)</title>\n</head>\n<body>\n  <h1>Bad Request (400)</h1><p></p>\n</body>\n</html>\n';
  res.writeHead(400, { "Content-Type": "text/html", "Content-Length": Buffer.byteLength(page) }).end(page);
  return 400;
}

/** Writes a result or error; every API response carries X-MAAS-API-Hash. Returns the status. */
function send(res: ServerResponse, result: ApiResult | ApiError): number {
  let status: number;
  let text: string;
  let contentType: string;
  let headers: Record<string, string> = {};
  if (result instanceof ApiError) {
    ({ status, body: text, contentType } = result);
    headers = { ...result.headers };
  } else {
    status = result.status ?? 200;
    text = result.text ?? JSON.stringify(result.json ?? null);
    contentType = result.contentType ?? "application/json; charset=utf-8";
  }
  const payload = Buffer.from(text, "utf8");
  res.writeHead(status, { ...headers, "Content-Type": contentType, "Content-Length": payload.length, "X-MAAS-API-Hash": API_HASH });
  res.end(payload);
  return status;
}
