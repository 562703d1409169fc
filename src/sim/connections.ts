// The simulator's open connections and the cap on them, as the nginx in front of
// MAAS keeps them. nginx holds at most worker_connections per worker (768 × one
// worker per CPU in MAAS's nginx.conf). When it runs short it closes the oldest
// "reusable" connections — idle keep-alive ones, and new ones still waiting for
// their first request — without an answer (ngx_drain_connections, ngx_reusable_connection
// in nginx src/core/ngx_connection.c, src/http/ngx_http_request.c); when none is
// reusable it closes the new connection at once (ngx_event_accept, when
// ngx_get_connection finds no free connection). So a client that opens a connection
// per request and never closes one (spectrocloud maas-client-go does) costs at
// most the cap in descriptors, and a client being served is never cut off for it.
//
// Node does not report a request's first byte, only its complete head, so a
// connection part-way through its headers counts as idle here, where nginx would
// not reuse it: a slow sender is closed first, which keeps well-behaved clients served.
import type { ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Clock } from "../clock/index.ts";
import type { Logger } from "../observability/index.ts";

// nginx warns at most once a second that it is reusing connections.
const WARN_INTERVAL_MS = 1_000;

export interface ConnectionsOptions {
  max: number;
  clock: Clock;
  logger: Logger;
}

export class Connections {
  private readonly open = new Map<Socket, ServerResponse[]>();
  // Oldest idle first: a Set iterates in insertion order, and a socket that rests is re-inserted.
  private readonly idle = new Set<Socket>();
  private lastWarnMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: ConnectionsOptions) {}

  get size(): number {
    return this.open.size;
  }

  /** A new connection: false when it was closed at once because the cap is reached and nothing is idle. */
  accept(socket: Socket): boolean {
    if (this.open.size >= this.options.max) {
      const oldest = this.idle.values().next().value;
      this.warn(oldest === undefined);
      if (oldest === undefined) {
        socket.destroy();
        return false;
      }
      this.forget(oldest);
      oldest.destroy();
    }
    this.open.set(socket, []);
    this.idle.add(socket);
    socket.once("close", () => this.forget(socket));
    return true;
  }

  /** A request arrived on the socket: it is busy until its answer is done. */
  busy(socket: Socket, res: ServerResponse): void {
    const responses = this.open.get(socket);
    if (responses === undefined) return;
    responses.push(res);
    this.idle.delete(socket);
    res.once("close", () => {
      responses.splice(responses.indexOf(res), 1);
      if (responses.length === 0 && this.open.has(socket) && !socket.destroyed) this.idle.add(socket);
    });
  }

  /** Whether an answer has started on the socket, so nothing else may be written to it. */
  answering(socket: Socket): boolean {
    return (this.open.get(socket) ?? []).some((res) => res.headersSent);
  }

  sockets(): Socket[] {
    return [...this.open.keys()];
  }

  private forget(socket: Socket): void {
    this.open.delete(socket);
    this.idle.delete(socket);
  }

  private warn(refused: boolean): void {
    const now = this.options.clock.now();
    if (now - this.lastWarnMs < WARN_INTERVAL_MS) return;
    this.lastWarnMs = now;
    const what = refused ? "closing new connections: every open one is busy" : "closing the oldest idle connections";
    this.options.logger.warn({ maxConnections: this.options.max }, `${this.options.max} connections open (--max-connections); ${what}`);
  }
}
