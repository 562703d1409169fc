// The wire: one signed HTTP exchange per attempt over node:http(s) with a keep-alive
// agent, a per-attempt timeout driven by the injected Clock, MAAS errors mapped to
// typed errors, and the retry rule from retry.ts. node:http rather than fetch because
// the retry rule needs to know whether a connection was ever made (refused before
// connecting is safe to retry for any call; a reset after sending is not). A caller's
// AbortSignal ends the call wherever it is: before sending, mid-exchange (the request
// is destroyed) or in a backoff sleep (the sleep's timer is cleared).
import http from "node:http";
import https from "node:https";
import { performance } from "node:perf_hooks";
import type { Clock } from "../clock/index.ts";
import type { Logger } from "../observability/index.ts";
import type { MaasCredentials } from "./credentials.ts";
import {
  MaasAbortedError,
  MaasError,
  MaasNetworkError,
  MaasTimeoutError,
  MaasUnexpectedResponseError,
  errorFromResponse,
} from "./errors.ts";
import { encodeForm, encodeQuery, type FormParams } from "./form.ts";
import { buildAuthorizationHeader } from "./oauth.ts";
import { decideRetry, parseRetryAfterMs, type RetryOptions } from "./retry.ts";
import { tlsVerificationError, type AgentTlsOptions } from "./tls.ts";

export type MaasMethod = "GET" | "POST" | "PUT" | "DELETE";

export interface MaasRequest {
  method: MaasMethod;
  /** Below the API root, e.g. "machines/abc123/"; a trailing slash is added when missing. */
  path: string;
  /**
   * `path` as MAAS's URI template, e.g. "machines/{system_id}/", when `path` holds IDs or
   * names (form.ts resourcePath gives both). It names the operation in onResponse events,
   * so a metric gets one series per operation rather than one per machine.
   */
  route?: string;
  /** MAAS's `op`, sent in the query string. */
  op?: string;
  /** Query parameters (GET filters). */
  query?: FormParams;
  /** Form body parameters (POST and PUT). */
  form?: FormParams;
  /** Safe to repeat after an ambiguous failure; defaults to true for GET only. */
  idempotent?: boolean;
  /** Ends the call, its attempt in flight and any backoff wait, with MaasAbortedError. */
  signal?: AbortSignal;
}

/** Per-call options, the last parameter of every service method. */
export interface CallOptions {
  /** Aborting rejects the call promptly with MaasAbortedError (code "Aborted"), never retried. */
  signal?: AbortSignal;
}

/** The request fields a service adds for `call`: the signal when there is one. */
export function callFields(call: CallOptions | undefined): Pick<MaasRequest, "signal"> {
  return call?.signal === undefined ? {} : { signal: call.signal };
}

/** A 2xx answer: its status (kept for shape errors) and the decoded JSON body. */
export interface MaasAnswer {
  status: number;
  /** The decoded JSON body, or undefined when MAAS sent an empty body (e.g. 204). */
  json: unknown;
}

/** What the service modules need from the wire: send, retry, decode JSON. */
export interface MaasRequester {
  request(request: MaasRequest): Promise<MaasAnswer>;
}

/**
 * One attempt of a MAAS call, for metrics: what was called and how it ended. It never
 * holds parameters, headers or bodies, and `operation` never holds IDs.
 */
export interface MaasResponseEvent {
  /** The templated call, e.g. "POST machines/{system_id}/?op=deploy" (see describeOperation). */
  operation: string;
  method: MaasMethod;
  /** The HTTP status, when MAAS answered. */
  status?: number;
  /** The MaasError code when the attempt failed, e.g. "Conflict", "Timeout", "Network". */
  code?: string;
  /** From sending the attempt to its outcome, in milliseconds (fractional). */
  durationMs: number;
  /** 1 for the first attempt, 2 for the first retry, ... */
  attempt: number;
}

export interface MaasHttpOptions {
  apiRoot: URL;
  credentials: MaasCredentials;
  clock: Clock;
  random: () => number;
  timeoutMs: number;
  retry: RetryOptions;
  keepAlive: boolean;
  logger?: Logger;
  /** The https agent's trust settings, from tls.ts resolveTlsOptions. */
  tls?: AgentTlsOptions;
  userAgent: string;
  nonce?: () => string;
  /** Called once per attempt; see MaasResponseEvent. */
  onResponse?: (event: MaasResponseEvent) => void;
}

interface RawResponse {
  status: number;
  text: string;
  contentType: string | undefined;
  retryAfter: string | undefined;
}

/** How long an idle keep-alive socket is kept; below the usual 5 s server idle timeout. */
const IDLE_SOCKET_MS = 4000;

export class MaasHttp implements MaasRequester {
  readonly #options: MaasHttpOptions;
  readonly #agent: http.Agent;
  readonly #scrubber: RegExp;

  constructor(options: MaasHttpOptions) {
    this.#options = options;
    const agentOptions = { keepAlive: options.keepAlive, timeout: IDLE_SOCKET_MS };
    this.#agent =
      options.apiRoot.protocol === "https:"
        ? new https.Agent({ ...agentOptions, ...options.tls })
        : new http.Agent(agentOptions);
    const { consumerKey, tokenKey, tokenSecret } = options.credentials;
    // MAAS echoes the token key in 401 bodies ("Invalid access token: '<key>'"); no part
    // of the key may reach an error message, so whole-token matches are scrubbed.
    const parts = [tokenSecret, tokenKey, consumerKey].map((p) => p.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&"));
    this.#scrubber = new RegExp(`(?<![A-Za-z0-9])(?:${parts.join("|")})(?![A-Za-z0-9])`, "g");
  }

  async request(request: MaasRequest): Promise<MaasAnswer> {
    const path = normalisePath(request.path);
    const op = describeRequest(request);
    const operation = describeOperation(request);
    const url = new URL(path, this.#options.apiRoot);
    url.search = encodeQuery(request.op, request.query);
    const body = request.method === "POST" || request.method === "PUT" ? encodeForm(request.form) : undefined;
    const idempotent = request.idempotent ?? request.method === "GET";
    const { clock, retry, random } = this.#options;
    const { signal } = request;

    for (let attempt = 1; ; attempt++) {
      const startedAt = performance.now();
      let error: MaasError;
      try {
        const raw = await this.#exchange({ method: request.method, url, body, op, signal });
        this.#log({ method: request.method, path, op: request.op, status: raw.status, startedAt, attempt });
        if (raw.status >= 200 && raw.status < 300) {
          const answer = { status: raw.status, json: decodeJson(op, raw, (text) => this.#scrub(text)) };
          this.#report({ operation, method: request.method, status: raw.status, startedAt, attempt });
          return answer;
        }
        const text = this.#scrub(raw.text);
        throw errorFromResponse({
          op,
          status: raw.status,
          body: text,
          contentType: raw.contentType,
          retryAfterMs: parseRetryAfterMs(raw.retryAfter, clock.now()),
        });
      } catch (caught) {
        error = caught instanceof MaasError ? caught : new MaasUnexpectedResponseError({ op, message: "request failed", cause: caught });
        if (error.status === undefined) {
          this.#log({ method: request.method, path, op: request.op, code: error.code, startedAt, attempt });
        }
      }
      this.#report({ operation, method: request.method, status: error.status, code: error.code, startedAt, attempt });
      const decision = decideRetry({ error, idempotent, attempt, options: retry, random });
      if (!decision.retry) throw error;
      this.#options.logger?.debug(
        { method: request.method, path, op: request.op, code: error.code, status: error.status, attempt, delayMs: decision.delayMs },
        "retrying MAAS request",
      );
      try {
        await clock.sleep(decision.delayMs, signal);
      } catch (reason) {
        // Only an abort ends a sleep early. A call that may change MAAS is retried only
        // when MAAS cannot have acted, so no earlier attempt of it can have done anything.
        throw new MaasAbortedError({ op, requestSent: false, cause: reason });
      }
    }
  }

  /**
   * Closes idle keep-alive sockets; in-flight requests finish. (Agent.destroy() would
   * also cut the sockets in use, failing a deploy mid-answer as "reset after sending".)
   */
  close(): void {
    for (const sockets of Object.values(this.#agent.freeSockets)) {
      for (const socket of sockets ?? []) socket.destroy();
    }
  }

  toString(): string {
    return `MaasHttp(${this.#options.apiRoot.href})`;
  }

  toJSON(): Record<string, string> {
    return { apiRoot: this.#options.apiRoot.href };
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  #exchange(input: { method: MaasMethod; url: URL; body: string | undefined; op: string; signal: AbortSignal | undefined }): Promise<RawResponse> {
    const { clock, timeoutMs, credentials, nonce } = this.#options;
    const headers: http.OutgoingHttpHeaders = {
      Authorization: buildAuthorizationHeader({ credentials, clock, ...(nonce === undefined ? {} : { nonce }) }),
      Accept: "application/json",
      "User-Agent": this.#options.userAgent,
    };
    if (input.body !== undefined) {
      headers["Content-Type"] = "application/x-www-form-urlencoded";
      headers["Content-Length"] = Buffer.byteLength(input.body);
    }
    const transport = input.url.protocol === "https:" ? https : http;
    const connectEvent = input.url.protocol === "https:" ? "secureConnect" : "connect";

    const { signal } = input;
    if (signal?.aborted) return Promise.reject(new MaasAbortedError({ op: input.op, requestSent: false, cause: signal.reason }));

    return new Promise<RawResponse>((resolve, reject) => {
      let settled = false;
      // False until a connection exists: up to then MAAS cannot have seen the request.
      let requestSent = false;
      const settle = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        clock.clearTimeout(timer);
        // A long-lived signal (one per controller) must not collect a listener per call.
        signal?.removeEventListener("abort", onAbort);
        outcome();
      };
      const onAbort = (): void => {
        const sent = requestSent;
        settle(() => reject(new MaasAbortedError({ op: input.op, requestSent: sent, cause: signal?.reason })));
        req.destroy();
      };
      const req = transport.request(input.url, { method: input.method, headers, agent: this.#agent });
      const timer = clock.setTimeout(() => {
        settle(() => reject(new MaasTimeoutError({ op: input.op, timeoutMs, requestSent })));
        req.destroy();
      }, timeoutMs);
      const onNetworkError = (err: NodeJS.ErrnoException): void => {
        const sent = requestSent;
        // A refused certificate is told apart from a broken connection: it is not transient.
        const failure = tlsVerificationError(input.op, err) ?? new MaasNetworkError({ op: input.op, requestSent: sent, syscallCode: err.code ?? err.name, cause: err });
        settle(() => reject(failure));
      };
      req.on("socket", (socket) => {
        if (req.reusedSocket || !socket.connecting) requestSent = true;
        else socket.once(connectEvent, () => (requestSent = true));
      });
      req.on("error", onNetworkError);
      signal?.addEventListener("abort", onAbort, { once: true });
      req.on("response", (res) => {
        requestSent = true;
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", onNetworkError);
        res.on("aborted", () => onNetworkError(Object.assign(new Error("response aborted"), { code: "ECONNRESET" })));
        res.on("end", () =>
          settle(() =>
            resolve({
              status: res.statusCode ?? 0,
              text: Buffer.concat(chunks).toString("utf8"),
              contentType: res.headers["content-type"],
              retryAfter: headerValue(res.headers["retry-after"]),
            }),
          ),
        );
      });
      req.end(input.body);
    });
  }

  #scrub(text: string): string {
    return text.replace(this.#scrubber, "[REDACTED]");
  }

  /**
   * Tells onResponse how one attempt ended. The hook is the caller's metrics code: if it
   * throws, that is logged and ignored, because it must neither fail nor retry a call
   * MAAS may already have carried out.
   */
  #report(entry: { operation: string; method: MaasMethod; status?: number | undefined; code?: string | undefined; startedAt: number; attempt: number }): void {
    const { onResponse, logger } = this.#options;
    if (onResponse === undefined) return;
    const event: MaasResponseEvent = {
      operation: entry.operation,
      method: entry.method,
      ...(entry.status === undefined ? {} : { status: entry.status }),
      ...(entry.code === undefined ? {} : { code: entry.code }),
      durationMs: performance.now() - entry.startedAt,
      attempt: entry.attempt,
    };
    try {
      onResponse(event);
    } catch (err) {
      logger?.warn({ err, operation: entry.operation }, "MAAS onResponse hook threw; ignored");
    }
  }

  #log(entry: {
    method: MaasMethod;
    path: string;
    op: string | undefined;
    status?: number;
    code?: string;
    startedAt: number;
    attempt: number;
  }): void {
    const { startedAt, ...fields } = entry;
    this.#options.logger?.debug({ ...fields, durationMs: Math.round(performance.now() - startedAt) }, "MAAS request");
  }
}

function normalisePath(path: string): string {
  const trimmed = path.replace(/^\/+/, "");
  return trimmed.endsWith("/") ? trimmed : `${trimmed}/`;
}

/**
 * "POST machines/abc123/?op=deploy": path and op only, never parameters or headers. The
 * label errors carry, so that an error names the machine it is about.
 */
export function describeRequest(request: Pick<MaasRequest, "method" | "path" | "op">): string {
  return formatOperation(request.method, request.path, request.op);
}

/**
 * "POST machines/{system_id}/?op=deploy": describeRequest's form over the request's route,
 * for metrics, where an ID in the label would make a series per machine.
 */
export function describeOperation(request: Pick<MaasRequest, "method" | "path" | "route" | "op">): string {
  return formatOperation(request.method, request.route ?? request.path, request.op);
}

function formatOperation(method: MaasMethod, rawPath: string, op: string | undefined): string {
  const path = normalisePath(rawPath);
  return op === undefined ? `${method} ${path}` : `${method} ${path}?op=${op}`;
}

function decodeJson(op: string, raw: RawResponse, scrub: (text: string) => string): unknown {
  if (raw.text.trim() === "") return undefined;
  try {
    return JSON.parse(raw.text) as unknown;
  } catch (cause) {
    throw new MaasUnexpectedResponseError({
      op,
      status: raw.status,
      body: scrub(raw.text.slice(0, 200)),
      message: `HTTP ${raw.status} with a body that is not JSON (Content-Type ${raw.contentType ?? "none"})`,
      cause,
    });
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
