// How processes on this host reach machines by their MAAS DNS names. Against a real
// MAAS, the management host resolves `<cluster>.<domain>` because its resolver asks
// MAAS's DNS (or forwards the MAAS domain to it); a test host's resolver cannot be
// pointed at the simulator. So the simulator offers an HTTP CONNECT proxy that resolves
// the target name from its own records (dns-names.ts, what MAAS's bind would answer)
// and pipes the connection to the first address that accepts it. Processes use it
// through HTTPS_PROXY: Go's net/http (kubectl, the Cluster API managers) and the
// provider's Kubernetes connections honour it, and never send loopback addresses or
// localhost through a proxy, so the management API server on 127.0.0.1 is reached
// directly. It is not an open proxy: a name the records lack, or a bare address that
// no machine or DNS resource holds, is refused.
import { isIPv4 } from "node:net";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer as createHttpServer, type Server } from "node:http";
import type { Duplex } from "node:stream";
import { listen, Relay } from "./tcp-relay.ts";

/** The addresses a CONNECT target may be piped to: the names' records, and the addresses those records hold. */
export interface NameResolver {
  resolve(name: string): string[];
  /** Whether an address is one the simulator's records hand out (a machine's or a DNS resource's). */
  knows(address: string): boolean;
}

export class DnsProxy {
  private readonly relay = new Relay();

  private constructor(
    private readonly server: Server,
    /** The port it listens on (the one asked for, or the one port 0 got). */
    readonly port: number,
  ) {}

  static async listen(host: string, port: number, resolver: NameResolver): Promise<DnsProxy> {
    const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
      // Only tunnels: a plain proxied request has no use here.
      res.writeHead(405, { "Content-Type": "text/plain", Allow: "CONNECT" }).end("this proxy only tunnels (CONNECT host:port)\n");
    });
    const proxy = new DnsProxy(server, await listen(server, port, host));
    server.on("connect", (req: IncomingMessage, client: Duplex, head: Buffer) => void proxy.tunnel(req, client, head, resolver));
    return proxy;
  }

  async close(): Promise<void> {
    this.relay.destroyAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async tunnel(req: IncomingMessage, client: Duplex, head: Buffer, resolver: NameResolver): Promise<void> {
    this.relay.track(client);
    const target = parseTarget(req.url ?? "");
    if (target === undefined) return refuse(client, 400, `CONNECT needs host:port, got ${JSON.stringify(req.url ?? "")}`);
    const addresses = isIPv4(target.host) ? (resolver.knows(target.host) ? [target.host] : []) : resolver.resolve(target.host);
    if (addresses.length === 0) return refuse(client, 502, `${target.host} has no address in this MAAS's DNS`);
    const piped = await this.relay.pipeToFirst(client, addresses.map((host) => ({ host, port: target.port })), (upstream) => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
    });
    if (!piped && !client.destroyed) refuse(client, 502, `nothing accepts connections on ${target.host}:${String(target.port)} (${addresses.join(", ")})`);
  }
}

function parseTarget(authority: string): { host: string; port: number } | undefined {
  const match = /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(authority);
  if (match === null) return undefined;
  const port = Number(match[2]);
  return port > 0 && port < 65536 ? { host: match[1] ?? "", port } : undefined;
}

function refuse(client: Duplex, status: 400 | 502, reason: string): void {
  const text = status === 400 ? "Bad Request" : "Bad Gateway";
  client.end(`HTTP/1.1 ${String(status)} ${text}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${reason}\n`);
}
