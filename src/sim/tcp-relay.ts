// What the simulator's TCP front doors share (the boot stage's control-plane endpoint and
// the DNS proxy): listening, keeping every open socket so close() can cut them, and
// piping a client to the first of several addresses that accepts a connection.
import { connect, type Server, type Socket } from "node:net";
import type { Duplex } from "node:stream";

export interface Backend {
  host: string;
  port: number;
}

const CONNECT_TIMEOUT_MS = 5000;

/** Listens on host:port; resolves with the port (the one port 0 got), rejects with the listen error (e.g. EADDRINUSE). */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address();
      resolve(typeof address === "object" && address !== null ? address.port : port);
    });
  });
}

/** The sockets a relay holds open, so its close() can cut every piped connection. */
export class Relay {
  private readonly sockets = new Set<Duplex>();

  track(socket: Duplex): void {
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  }

  destroyAll(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  /**
   * Connects to the first backend that accepts, in order; runs `connected` (what to say
   * before the bytes flow), then pipes the two both ways, each closing with the other.
   * Resolves false when none accepted or the client went away meanwhile.
   */
  async pipeToFirst(client: Duplex, backends: readonly Backend[], connected: (upstream: Socket) => void = () => undefined): Promise<boolean> {
    for (const backend of backends) {
      if (client.destroyed) return false;
      const upstream = await connectTo(backend);
      if (upstream === undefined) continue;
      if (client.destroyed) {
        upstream.destroy();
        return false;
      }
      this.track(upstream);
      client.once("close", () => upstream.destroy());
      upstream.once("close", () => client.destroy());
      connected(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
      return true;
    }
    return false;
  }
}

function connectTo(backend: Backend): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: backend.host, port: backend.port });
    const timer = setTimeout(() => socket.destroy(), CONNECT_TIMEOUT_MS);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve(socket);
    });
    // Kept for the socket's life: an error between here and the caller's handlers must not throw.
    socket.on("error", () => undefined);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}
