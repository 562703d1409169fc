// The "load balancer / VIP" a cluster's controlPlaneEndpoint names when it is an address
// no machine holds (the endpoint flavor's CONTROL_PLANE_ENDPOINT_HOST, e.g.
// 127.10.255.1:6443): the simulator listens there and pipes each TCP connection to a
// live kube-apiserver of the cluster, trying the next one when a connect fails, as a
// TCP load balancer with health-checked backends would. TLS passes through untouched:
// the API server's serving certificate carries the endpoint's host among its SANs
// (kubeadm GetAPIServerAltNames adds the controlPlaneEndpoint).
import { createServer, type Server, type Socket } from "node:net";
import { listen, Relay, type Backend } from "../tcp-relay.ts";

export type { Backend } from "../tcp-relay.ts";

export class EndpointForwarder {
  private readonly relay = new Relay();
  private next = 0;

  private constructor(
    private readonly server: Server,
    /** The port it listens on (the one asked for, or the one port 0 got). */
    readonly port: number,
    private readonly backends: () => Backend[],
  ) {
    server.on("connection", (client) => this.accept(client));
  }

  /** Listens on host:port; rejects with the listen error (EADDRINUSE: something else serves that endpoint). */
  static async listen(host: string, port: number, backends: () => Backend[]): Promise<EndpointForwarder> {
    const server = createServer({ pauseOnConnect: true });
    return new EndpointForwarder(server, await listen(server, port, host), backends);
  }

  /** Stops listening and cuts every piped connection. */
  async close(): Promise<void> {
    this.relay.destroyAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.relay.track(client);
    const backends = this.backends();
    // Start at a different backend each time, so connections spread over the control plane.
    const start = backends.length === 0 ? 0 : this.next++ % backends.length;
    const order = [...backends.slice(start), ...backends.slice(0, start)];
    void this.relay.pipeToFirst(client, order).then((piped) => {
      // No live API server: the connection is refused, as a balancer with no healthy backend does.
      if (!piped) client.destroy();
    });
  }
}
