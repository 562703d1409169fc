// An https.Agent whose connections go through an HTTP proxy's CONNECT tunnel, with TLS
// to the API server end to end inside it (the proxy sees only the host and port). It
// keeps the Agent's pooling, so one tunnel carries many requests while kept alive.
import http from "node:http";
import https from "node:https";
import tls from "node:tls";
import type { Duplex } from "node:stream";

const CONNECT_TIMEOUT_MS = 10_000;

export class TunnelAgent extends https.Agent {
  constructor(
    private readonly proxy: URL,
    options: https.AgentOptions,
  ) {
    super(options);
  }

  override createConnection(options: http.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | undefined {
    const connected = (socket: Duplex): void => callback?.(null, socket);
    // The Agent only reads the socket when there is no error.
    const failed = (err: Error): void => (callback as ((err: Error) => void) | undefined)?.(err);
    const host = options.host ?? "localhost";
    const port = Number(options.port ?? 443);
    const authority = `${host.includes(":") ? `[${host}]` : host}:${String(port)}`;
    const headers: Record<string, string> = { Host: authority };
    if (this.proxy.username !== "") {
      const credentials = `${decodeURIComponent(this.proxy.username)}:${decodeURIComponent(this.proxy.password)}`;
      headers["Proxy-Authorization"] = `Basic ${Buffer.from(credentials).toString("base64")}`;
    }
    const request = http.request({
      host: this.proxy.hostname.replace(/^\[|\]$/g, ""),
      port: Number(this.proxy.port === "" ? 80 : this.proxy.port),
      method: "CONNECT",
      path: authority,
      headers,
      timeout: CONNECT_TIMEOUT_MS,
    });
    const where = `proxy ${this.proxy.host}`;
    request.once("connect", (response, socket) => {
      if (response.statusCode !== 200) {
        socket.destroy();
        failed(new Error(`${where} refused CONNECT ${authority}: ${String(response.statusCode)} ${response.statusMessage ?? ""}`.trim()));
        return;
      }
      // options carry the Agent's TLS settings (ca, cert, key, servername) for the API server.
      connected(tls.connect({ ...(options as tls.ConnectionOptions), socket }));
    });
    request.once("timeout", () => request.destroy(new Error(`${where} did not answer CONNECT ${authority} within ${String(CONNECT_TIMEOUT_MS / 1000)} s`)));
    request.once("error", (err) => failed(new Error(`${where}: ${err.message}`)));
    request.end();
    return undefined;
  }
}
