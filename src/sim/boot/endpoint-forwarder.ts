// The "load balancer / VIP" a cluster's controlPlaneEndpoint names when it is an address
// no machine holds (the endpoint flavor's CONTROL_PLANE_ENDPOINT_HOST, e.g.
// 127.10.255.1:6443): the simulator listens there and pipes each TCP connection to a
// live kube-apiserver of the cluster, trying the next one when a connect fails, as a
// TCP load balancer with health-checked backends would. TLS passes through untouched:
// the API server's serving certificate carries the endpoint's host among its SANs
// (kubeadm GetAPIServerAltNames adds the controlPlaneEndpoint).
import { connect, createServer, type Server, type Socket } from "node:net";

export interface Backend {
  host: string;
  port: number;
}

const CONNECT_TIMEOUT_MS = 5000;

export class EndpointForwarder {
  private readonly sockets = new Set<Socket>();
  private next = 0;

  private constructor(
    private readonly server: Server,
    private readonly backends: () => Backend[],
  ) {
    server.on("connection", (client) => this.accept(client));
  }

  /** Listens on host:port; rejects with the listen error (EADDRINUSE: something else serves that endpoint). */
  static async listen(host: string, port: number, backends: () => Backend[]): Promise<EndpointForwarder> {
    const server = createServer({ pauseOnConnect: true });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    return new EndpointForwarder(server, backends);
  }

  /** The port it listens on (the one asked for, or the one port 0 got). */
  get port(): number {
    const address = this.server.address();
    return address !== null && typeof address === "object" ? address.port : 0;
  }

  /** Stops listening and cuts every piped connection. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  }

  private accept(client: Socket): void {
    this.track(client);
    const backends = this.backends();
    // Start at a different backend each time, so connections spread over the control plane.
    const start = backends.length === 0 ? 0 : this.next++ % backends.length;
    const order = [...backends.slice(start), ...backends.slice(0, start)];
    void this.dial(client, order);
  }

  private async dial(client: Socket, order: Backend[]): Promise<void> {
    for (const backend of order) {
      if (client.destroyed) return;
      const upstream = await connectTo(backend);
      if (upstream === undefined) continue;
      if (client.destroyed) {
        upstream.destroy();
        return;
      }
      this.track(upstream);
      client.once("close", () => upstream.destroy());
      upstream.once("close", () => client.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
      return;
    }
    // No live API server: the connection is refused, as a balancer with no healthy backend does.
    client.destroy();
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
