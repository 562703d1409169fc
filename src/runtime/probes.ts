import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

/** A named check; returns a reason when failing, undefined when fine. */
export interface ProbeCheck {
  name: string;
  check: () => string | undefined;
}

export interface ProbeServerOptions {
  /** 0 picks a free port (tests). */
  port: number;
  host?: string;
  registry: Registry;
  /** /healthz: the process is alive and its loops are not wedged. */
  healthChecks?: readonly ProbeCheck[];
  /** /readyz: it can do its job (e.g. every informer has synced). */
  readyChecks?: readonly ProbeCheck[];
}

export interface ProbeServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * `/healthz`, `/readyz` and `/metrics` on one port, as controller-runtime's manager
 * serves them. Checks answer `200 ok` or `500` with one `[-]name failed: reason`
 * line per failing check (the API server's format); `?verbose` lists passes too.
 */
export async function startProbeServer(options: ProbeServerOptions): Promise<ProbeServer> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://probe");
    const respond = (status: number, body: string, type = "text/plain; charset=utf-8"): void => {
      res.writeHead(status, { "Content-Type": type, "Cache-Control": "no-store" });
      res.end(body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return respond(405, "method not allowed\n");
    switch (url.pathname) {
      case "/healthz":
      case "/livez":
        return respondChecks(options.healthChecks ?? [], url, respond);
      case "/readyz":
        return respondChecks(options.readyChecks ?? [], url, respond);
      case "/metrics":
        options.registry.metrics().then(
          (text) => respond(200, text, options.registry.contentType),
          (err: unknown) => respond(500, `collecting metrics failed: ${String(err)}\n`),
        );
        return;
      default:
        return respond(404, "not found\n");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function respondChecks(checks: readonly ProbeCheck[], url: URL, respond: (status: number, body: string) => void): void {
  const lines: string[] = [];
  let failed = false;
  for (const { name, check } of checks) {
    let reason: string | undefined;
    try {
      reason = check();
    } catch (err) {
      reason = err instanceof Error ? err.message : String(err);
    }
    if (reason === undefined) {
      lines.push(`[+]${name} ok`);
    } else {
      failed = true;
      lines.push(`[-]${name} failed: ${reason}`);
    }
  }
  if (failed) return respond(500, `${lines.join("\n")}\nhealthz check failed\n`);
  respond(200, url.searchParams.has("verbose") ? `${lines.join("\n")}\nok\n` : "ok\n");
}
