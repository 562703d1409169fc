// The HTTP server (node:http): reads each request body, sends /_sim/ to the admin
// API and /MAAS/api/2.0/ to the MAAS API, and closes cleanly — held ("timeout"
// fault) and idle keep-alive connections included.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Clock, TimerHandle } from "../clock/index.ts";
import type { Logger } from "../observability/index.ts";
import { ADMIN_ROOT, handleAdmin, type AdminDeps } from "./admin.ts";
import { handleApi, type ApiDeps } from "./api.ts";
import { API_ROOT } from "./machine-json.ts";

// spectrocloud maas-client-go opens a connection per call and never closes it;
// idle keep-alive sockets are dropped after this, so descriptors do not pile up.
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
const MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface SimServerDeps {
  api: Omit<ApiDeps, "hold" | "signal">;
  admin: AdminDeps;
  clock: Clock;
  logger: Logger;
}

export class SimServer {
  readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly held = new Map<Socket, TimerHandle>();
  private readonly inFlight = new Set<Promise<void>>();
  // Aborts "latency" waits at close, so closing never waits on simulated time.
  private readonly closing = new AbortController();

  constructor(private readonly deps: SimServerDeps) {
    this.server = createServer((req, res) => {
      const work = this.handle(req, res);
      this.inFlight.add(work);
      void work.finally(() => this.inFlight.delete(work));
    });
    this.server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    this.server.headersTimeout = 60_000;
    this.server.on("connection", (socket: Socket) => {
      this.sockets.add(socket);
      socket.on("close", () => {
        this.sockets.delete(socket);
        const timer = this.held.get(socket);
        if (timer !== undefined) deps.clock.clearTimeout(timer);
        this.held.delete(socket);
      });
    });
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        const address = this.server.address();
        resolve(typeof address === "object" && address !== null ? address.port : port);
      });
    });
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
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const body = await readBody(req);
      if (body === null) {
        res.writeHead(413, { "Content-Type": "text/plain; charset=utf-8" }).end("Request body too large");
        return;
      }
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      if (path === ADMIN_ROOT || path.startsWith(`${ADMIN_ROOT}/`)) {
        await handleAdmin(this.deps.admin, req, res, body);
      } else if (path.startsWith(`${API_ROOT}/`)) {
        await handleApi({ ...this.deps.api, signal: this.closing.signal, hold: (r, ms) => this.hold(r.socket, ms) }, req, res, body);
      } else {
        res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end(`Not Found: the MAAS API is under ${API_ROOT}/ and the simulator's own API under ${ADMIN_ROOT}/`);
      }
    } catch (error) {
      // The path only: piston accepts oauth_* in the query string, so req.url can hold a token secret.
      const path = (req.url ?? "/").split("?")[0];
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

function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on("end", () => resolve(tooLarge ? null : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
