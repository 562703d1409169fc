// The HTTP server (node:http): reads each request body, sends /_sim/ to the admin
// API and /MAAS/api/2.0/ to the MAAS API, and closes cleanly — held ("timeout"
// fault) and idle keep-alive connections included. What reaches it is limited as
// the nginx in front of regiond in MAAS 3.x limits it (http/nginx.ts): body size
// (413 from Content-Length, before the body is read), header and request-line
// size (400 / 414), the Host header (400), time to send a request (408), and the
// number of connections (connections.ts).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Clock, TimerHandle } from "../clock/index.ts";
import type { Logger } from "../observability/index.ts";
import { ADMIN_ROOT, handleAdmin, type AdminDeps } from "./admin.ts";
import { handleApi, type ApiDeps } from "./api.ts";
import { Connections } from "./connections.ts";
import { refuseLingering } from "./http/lingering-close.ts";
import { BAD_REQUEST, BODY_TOO_LARGE, HEADERS_MAX_BYTES, headLimitRefusal, headOverflowRefusal, rawResponse, REQUEST_TIMEOUT, validHost, type Refusal } from "./http/nginx.ts";
import { API_ROOT } from "./machine-json.ts";
import { listen } from "./tcp-relay.ts";

// Idle keep-alive connections are dropped after 5 s (Node's default). MAAS's nginx
// keeps them 65 s (keepalive_timeout 65); the shorter time frees the descriptors
// of clients that open a connection per call sooner, and stays above the 4 s for
// which this project's own client keeps an idle socket.
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
// nginx's client_header_timeout and client_body_timeout are 60 s (nginx counts
// the body's 60 s between two reads; the simulator bounds the whole request,
// which is simpler and stricter). 10 MiB is far above any deploy's user data.
const HEADERS_TIMEOUT_MS = 60_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

export interface SimServerDeps {
  api: Omit<ApiDeps, "hold" | "signal">;
  admin: AdminDeps;
  clock: Clock;
  logger: Logger;
  /** Time to receive a whole request (headers and body): then 408 and the connection closes. */
  requestTimeoutMs: number;
  /** A larger body is answered 413 at once and the connection closed. */
  maxBodyBytes: number;
  /** Open connections at most; past it the oldest idle one is closed, or the new one if none is idle. */
  maxConnections: number;
}

export class SimServer {
  readonly server: Server;
  private readonly connections: Connections;
  private readonly held = new Map<Socket, TimerHandle>();
  private readonly inFlight = new Set<Promise<void>>();
  // Aborts "latency" waits at close, so closing never waits on simulated time.
  private readonly closing = new AbortController();

  constructor(private readonly deps: SimServerDeps) {
    const options = {
      requestTimeout: deps.requestTimeoutMs,
      // Node refuses a headers timeout longer than the request timeout.
      headersTimeout: Math.min(HEADERS_TIMEOUT_MS, deps.requestTimeoutMs),
      // Node checks both timeouts on this interval (30 s by default, which would let a
      // 60 s timeout run to 90 s); a quarter of the timeout, at most 1 s, keeps the cut close.
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(deps.requestTimeoutMs / 4))),
      // nginx's four 8 KiB header buffers: Node's parser stops reading a head past this.
      maxHeaderSize: HEADERS_MAX_BYTES,
    };
    this.connections = new Connections({ max: deps.maxConnections, clock: deps.clock, logger: deps.logger });
    const serve = (req: IncomingMessage, res: ServerResponse): void => {
      this.connections.busy(req.socket, res);
      const work = this.handle(req, res);
      this.inFlight.add(work);
      void work.finally(() => this.inFlight.delete(work));
    };
    this.server = createServer(options, serve);
    // curl sends Expect: 100-continue before a large body. Like nginx, refuse a body
    // over the limit instead of inviting it; otherwise invite it, as Node would.
    this.server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
      if (!declaresTooLarge(req, deps.maxBodyBytes)) res.writeContinue();
      serve(req, res);
    });
    this.server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    this.server.on("connection", (socket: Socket) => {
      if (!this.connections.accept(socket)) return;
      socket.on("close", () => {
        const timer = this.held.get(socket);
        if (timer !== undefined) deps.clock.clearTimeout(timer);
        this.held.delete(socket);
      });
    });
    // What Node's parser refuses before a request exists: answered as nginx would, then
    // closed. Replacing Node's own handler, this must also destroy the socket.
    this.server.on("clientError", (error: ParserError, socket: Socket) => {
      // A connection that never sent a byte is closed without a word, as nginx does
      // when client_header_timeout passes on a new connection (ngx_http_wait_request_handler).
      const refusal = socket.bytesRead === 0 ? null : clientErrorRefusal(error);
      if (refusal !== null && socket.writable && !this.connections.answering(socket)) socket.write(rawResponse(refusal));
      socket.destroy(error);
    });
    // Out of descriptors, libuv accepts and closes pending connections itself; should
    // accept() still fail, Node emits it here. nginx logs such a failure and carries on
    // (ngx_event_accept), and so does the simulator instead of crashing.
    this.server.on("error", (error: NodeJS.ErrnoException) => {
      if (this.server.listening) deps.logger.warn({ err: error }, "accepting a connection failed");
    });
  }

  listen(port: number, host: string): Promise<number> {
    return listen(this.server, port, host);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.closing.abort(new Error("simulator closing"));
    for (const [socket, timer] of this.held) {
      this.deps.clock.clearTimeout(timer);
      socket.destroy();
    }
    this.held.clear();
    this.server.closeIdleConnections();
    await Promise.allSettled([...this.inFlight]);
    for (const socket of this.connections.sockets()) socket.destroy();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // The path only: piston accepts oauth_* in the query string, so req.url can hold a token secret.
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const refusal = headLimitRefusal(req.method ?? "", req.url ?? "", req.httpVersion, req.rawHeaders) ?? (validHost(req.headers.host ?? "localhost") ? null : BAD_REQUEST);
    if (refusal !== null) {
      refuseLingering(req, res, refusal);
      return;
    }
    const read = await readBody(req, this.deps.maxBodyBytes);
    if (read.kind === "too-large") {
      // nginx's client_max_body_size: 413, and nothing of the body is kept. A client
      // that asked first (Expect: 100-continue) was not invited to send it: close at once.
      if (req.headers.expect?.toLowerCase() === "100-continue") refuse(res, BODY_TOO_LARGE);
      else refuseLingering(req, res, BODY_TOO_LARGE);
      return;
    }
    if (read.kind === "incomplete") {
      // The client's doing, not ours: it went away, or was too slow and Node answered 408.
      const level = read.reason === "request timeout" ? "info" : "debug";
      this.deps.logger[level]({ method: req.method, path, reason: read.reason }, "request body not received");
      return;
    }
    try {
      if (path === ADMIN_ROOT || path.startsWith(`${ADMIN_ROOT}/`)) {
        await handleAdmin(this.deps.admin, req, res, read.body);
      } else if (path.startsWith(`${API_ROOT}/`)) {
        await handleApi({ ...this.deps.api, signal: this.closing.signal, hold: (r, ms) => this.hold(r.socket, ms) }, req, res, read.body);
      } else {
        res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end(`Not Found: the MAAS API is under ${API_ROOT}/ and the simulator's own API under ${ADMIN_ROOT}/`);
      }
    } catch (error) {
      this.deps.logger.error({ err: error, method: req.method, path }, "simulator request failed");
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain; charset=utf-8" }).end("Internal Server Error");
      else res.destroy();
    }
  }

  /** A "timeout" fault: never answer; drop the connection after `ms` or at close. */
  private hold(socket: Socket, ms: number): void {
    this.held.set(socket, this.deps.clock.setTimeout(() => socket.destroy(), ms));
  }
}

/** A refusal that ends the connection at once: the client is sending nothing more. */
function refuse(res: ServerResponse, refusal: Refusal): void {
  res.writeHead(refusal.status, refusal.reason, { "Content-Type": "text/plain; charset=utf-8", Connection: "close" }).end(`${refusal.text}\n`);
}

/** Node's parser errors carry the bytes it was parsing (net/_http_server prepareError). */
type ParserError = NodeJS.ErrnoException & { rawPacket?: Buffer; bytesParsed?: number };

function clientErrorRefusal(error: ParserError): Refusal | null {
  if (error.code === "HPE_HEADER_OVERFLOW") return headOverflowRefusal(error.rawPacket?.subarray(0, error.bytesParsed));
  if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") return REQUEST_TIMEOUT;
  // Any other parse error is a request nginx cannot read either; socket errors get no answer.
  return error.code?.startsWith("HPE_") === true ? BAD_REQUEST : null;
}

function declaresTooLarge(req: IncomingMessage, maxBytes: number): boolean {
  const declared = req.headers["content-length"];
  return declared !== undefined && Number(declared) > maxBytes;
}

type BodyRead = { kind: "complete"; body: Buffer } | { kind: "too-large" } | { kind: "incomplete"; reason: string };

/**
 * The whole body, or why there is none. Over the limit — by Content-Length before a
 * byte is read, or by the bytes of a chunked body — reading stops at once, so a
 * large upload (authenticated or not) costs neither memory nor time.
 */
function readBody(req: IncomingMessage, maxBytes: number): Promise<BodyRead> {
  if (declaresTooLarge(req, maxBytes)) return Promise.resolve({ kind: "too-large" });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      req.off("data", onData);
      req.pause();
      chunks.length = 0;
      resolve({ kind: "too-large" });
    };
    const incomplete = (): void => {
      // Node destroys the socket with ERR_HTTP_REQUEST_TIMEOUT when the request timeout passes.
      const code = (req.socket.errored as NodeJS.ErrnoException | null)?.code;
      resolve({ kind: "incomplete", reason: code === "ERR_HTTP_REQUEST_TIMEOUT" ? "request timeout" : "client closed the connection" });
    };
    req.on("data", onData);
    req.once("end", () => resolve({ kind: "complete", body: Buffer.concat(chunks) }));
    req.once("error", incomplete);
    req.once("close", () => {
      if (!req.complete) incomplete();
    });
  });
}
