// The HTTPS server the API server calls: one POST path per webhook, answering
// AdmissionReviews, with the serving certificate swapped in place when its files change
// (existing connections finish on the old one, new handshakes get the new one). GET
// /healthz and /readyz on the same port answer "ok" once it serves, so a probe that
// goes through the Service checks what the API server will reach.
import https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "../observability/index.ts";
import { BadAdmissionReview, decodeAdmissionReview, encodeAdmissionReview, type AdmissionRequest } from "./admission.ts";
import { CertificateWatcher, readCertificatePair, secureContextOptions } from "./certificates.ts";
import type { AdmissionHandler } from "./webhook.ts";

// An AdmissionReview carries the object and the old object; each is at most ~1.5 MiB in etcd.
const MAX_BODY_BYTES = 8 * 1024 * 1024;

export interface WebhookServerOptions {
  /** 0 picks a free port (tests). */
  port: number;
  /** Default: every interface, as the API server reaches it through a Service. */
  host?: string;
  /** Holds tls.crt and tls.key. */
  certDir: string;
  handlers: ReadonlyMap<string, AdmissionHandler>;
  logger: Logger;
  /** How often the certificate files are read again besides the directory watch. Default 10 s. */
  certPollIntervalMs?: number;
}

export interface WebhookServer {
  readonly port: number;
  /** For a readiness check: undefined while serving, else why not. */
  readyReason(): string | undefined;
  /** Reads the certificate files now (the watch and poll do it on their own). */
  reloadCertificate(): Promise<void>;
  close(): Promise<void>;
}

/** Starts serving; rejects when the certificate cannot be read or the port is taken. */
export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const log = options.logger.child({ component: "webhook-server" });
  const initial = await readCertificatePair(options.certDir);
  const server = https.createServer({ ...secureContextOptions(initial), minVersion: "TLSv1.2" }, (req, res) => {
    handle(req, res, options.handlers, log);
  });
  // A client that fails the handshake (e.g. an old caBundle) is its problem, not a crash.
  server.on("tlsClientError", (err) => log.debug({ err: err.message }, "TLS handshake failed"));
  const watcher = new CertificateWatcher({
    dir: options.certDir,
    initial,
    pollIntervalMs: options.certPollIntervalMs ?? 10_000,
    onChange: (pair) => {
      server.setSecureContext({ ...secureContextOptions(pair), minVersion: "TLSv1.2" });
      // Idle keep-alive connections would go on with the old certificate; busy ones finish first.
      server.closeIdleConnections();
      log.info({ certDir: options.certDir }, "webhook serving certificate reloaded");
    },
    onError: (message) => log.warn({ certDir: options.certDir, reason: message }, "webhook serving certificate not reloaded; serving the previous one"),
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      const done = (): void => {
        server.off("error", reject);
        resolve();
      };
      if (options.host === undefined) server.listen(options.port, done);
      else server.listen(options.port, options.host, done);
    });
  } catch (err) {
    watcher.close();
    throw err;
  }
  let listening = true;
  server.on("close", () => {
    listening = false;
  });
  return {
    port: (server.address() as AddressInfo).port,
    readyReason: () => (listening ? undefined : "the webhook server is not listening"),
    reloadCertificate: () => watcher.check(),
    close: () =>
      new Promise<void>((resolve) => {
        watcher.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function handle(req: IncomingMessage, res: ServerResponse, handlers: ReadonlyMap<string, AdmissionHandler>, log: Logger): void {
  const path = new URL(req.url ?? "/", "https://webhook").pathname;
  const reply = (status: number, body: string, type = "text/plain; charset=utf-8"): void => {
    res.writeHead(status, { "Content-Type": type });
    res.end(body);
  };
  if (path === "/healthz" || path === "/readyz") {
    if (req.method !== "GET" && req.method !== "HEAD") return reply(405, "method not allowed\n");
    return reply(200, "ok\n");
  }
  const handler = handlers.get(path);
  if (handler === undefined) return reply(404, `no webhook at ${path}\n`);
  if (req.method !== "POST") return reply(405, "method not allowed: webhooks take POST\n");
  const type = req.headers["content-type"] ?? "";
  if (!type.startsWith("application/json")) return reply(415, `content-type ${JSON.stringify(type)}: expected application/json\n`);

  const chunks: Buffer[] = [];
  let size = 0;
  req.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      reply(413, "request body too large\n");
      req.destroy();
      return;
    }
    chunks.push(chunk);
  });
  req.on("end", () => {
    if (res.headersSent) return;
    const started = process.hrtime.bigint();
    let request: AdmissionRequest;
    try {
      request = decodeAdmissionReview(Buffer.concat(chunks).toString("utf8"));
    } catch (err) {
      if (err instanceof BadAdmissionReview) return reply(400, `${err.message}\n`);
      throw err;
    }
    let body: string;
    try {
      const response = handler(request);
      body = encodeAdmissionReview(response);
      log.debug(
        {
          path,
          operation: request.operation,
          kind: request.kind.kind,
          namespace: request.namespace,
          name: request.name,
          dryRun: request.dryRun,
          allowed: response.allowed,
          patched: response.patch !== undefined,
          warnings: response.warnings?.length ?? 0,
          durationMs: Number(process.hrtime.bigint() - started) / 1e6,
        },
        "admission request",
      );
    } catch (err) {
      // A bug of ours: refuse with 500 (the failurePolicy decides), never crash the manager.
      log.error({ err, path, operation: request.operation, name: request.name }, "webhook failed");
      body = encodeAdmissionReview({
        uid: request.uid,
        allowed: false,
        status: { code: 500, reason: "InternalError", message: `the ${path} webhook failed: ${err instanceof Error ? err.message : String(err)}` },
      });
    }
    reply(200, body, "application/json");
  });
  req.on("error", () => undefined);
}
