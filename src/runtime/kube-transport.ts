import http from "node:http";
import https from "node:https";
import type { Readable } from "node:stream";
import {
  ResponseContext,
  ServerConfiguration,
  createConfiguration,
  wrapHttpLibrary,
  type Configuration,
  type KubeConfig,
  type RequestContext,
  type SecurityAuthentication,
} from "@kubernetes/client-node";
import { createKubeConnection, type KubeConnection } from "./https-agent.ts";
import { KubeApiError } from "./kube-errors.ts";
import type { KubeMetrics } from "./kube-metrics.ts";
import { requestVerb } from "./request-verb.ts";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface KubeRequest {
  method: HttpMethod;
  /** Absolute path on the API server, e.g. `/apis/g/v1/namespaces/ns/things`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Fails the request when the socket is silent this long; default 30 s. */
  timeoutMs?: number;
}

export interface KubeResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface KubeStream {
  status: number;
  body: Readable;
}

export interface KubeTransportOptions {
  kubeConfig: KubeConfig;
  metrics?: KubeMetrics;
  maxSockets?: number;
}

/**
 * Every HTTP exchange with the API server goes through here: one agent, one place to
 * count requests (`rest_client_requests_total` and {@link requestCounts}), one error
 * type. Non-2xx answers become a {@link KubeApiError} (status, reason, message; never
 * headers); the generated clients throw ApiException, and kube-errors.ts reads both.
 */
export class KubeTransport {
  private readonly kubeConfig: KubeConfig;
  private readonly metrics: KubeMetrics | undefined;
  private readonly maxSockets: number | undefined;
  private connection: Promise<KubeConnection> | undefined;
  private readonly counts = new Map<string, number>();

  constructor(options: KubeTransportOptions) {
    this.kubeConfig = options.kubeConfig;
    this.metrics = options.metrics;
    this.maxSockets = options.maxSockets;
  }

  /** Requests sent so far, by method (`WATCH` for watch requests) and in total. */
  requestCounts(): { total: number; byMethod: Record<string, number> } {
    const byMethod = Object.fromEntries(this.counts);
    return { total: [...this.counts.values()].reduce((a, b) => a + b, 0), byMethod };
  }

  /** Sends a request and reads the whole answer; throws KubeApiError on non-2xx. */
  async request(req: KubeRequest): Promise<KubeResponse> {
    const { status, headers, body } = await this.send(req);
    const text = await readAll(body);
    if (status < 200 || status > 299) throw KubeApiError.fromResponse(status, text);
    return { status, headers, body: text };
  }

  /** Opens a streaming request (a watch); throws KubeApiError on non-2xx. */
  async stream(req: KubeRequest): Promise<KubeStream> {
    const { status, body } = await this.send({ ...req, timeoutMs: req.timeoutMs ?? 0 });
    if (status < 200 || status > 299) throw KubeApiError.fromResponse(status, await readAll(body));
    return { status, body };
  }

  /**
   * A client-node configuration whose generated clients (`new CoordinationV1Api(cfg)`)
   * send through this transport: same agent, same counting, same auth.
   */
  apiConfiguration(): Configuration {
    const auth: SecurityAuthentication = {
      getName: () => "runtime-transport",
      applySecurityAuthentication: async (context: RequestContext) => {
        const headers = await (await this.connect()).authHeaders();
        for (const [name, value] of Object.entries(headers)) context.setHeaderParam(name, value);
      },
    };
    const httpApi = wrapHttpLibrary({ send: (ctx) => this.sendGenerated(ctx) });
    return createConfiguration({
      baseServer: new ServerConfiguration(this.serverUrl(), {}),
      authMethods: { default: auth },
      httpApi,
    });
  }

  /** Closes pooled sockets. */
  async close(): Promise<void> {
    if (this.connection === undefined) return;
    const connection = await this.connection.catch(() => undefined);
    connection?.agent.destroy();
  }

  private serverUrl(): string {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (cluster === null) throw new Error("kubeconfig has no current cluster");
    return cluster.server.replace(/\/+$/, "");
  }

  private connect(): Promise<KubeConnection> {
    if (this.connection === undefined) {
      const connecting = createKubeConnection({
        kubeConfig: this.kubeConfig,
        ...(this.maxSockets === undefined ? {} : { maxSockets: this.maxSockets }),
      });
      this.connection = connecting;
      // A failure (an exec plugin that is briefly down) must not stick: the next
      // request tries again instead of every request failing for the process's life.
      connecting.catch(() => {
        if (this.connection === connecting) this.connection = undefined;
      });
    }
    return this.connection;
  }

  private async sendGenerated(ctx: RequestContext): Promise<ResponseContext> {
    const url = new URL(ctx.getUrl());
    const rawBody = ctx.getBody();
    if (rawBody !== undefined && typeof rawBody !== "string") {
      throw new Error("only string request bodies are supported");
    }
    const { status, headers, body } = await this.send({
      method: ctx.getHttpMethod() as HttpMethod,
      path: url.pathname + url.search,
      headers: ctx.getHeaders(),
      ...(rawBody === undefined ? {} : { body: rawBody }),
      ...(ctx.getSignal() === undefined ? {} : { signal: ctx.getSignal() as AbortSignal }),
    });
    const buffer = await readAllBuffer(body);
    return new ResponseContext(status, flattenHeaders(headers), {
      text: () => Promise.resolve(buffer.toString("utf8")),
      binary: () => Promise.resolve(buffer),
    });
  }

  private async send(req: KubeRequest): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Readable }> {
    const connection = await this.connect();
    const url = new URL(connection.server + req.path);
    for (const [name, value] of Object.entries(req.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const isWatch = url.searchParams.get("watch") === "true";
    const countKey = isWatch ? "WATCH" : req.method;
    this.counts.set(countKey, (this.counts.get(countKey) ?? 0) + 1);
    this.metrics?.restRequestsByVerb.inc({ ...requestVerb(req.method, url.pathname, isWatch) });
    const headers: Record<string, string> = {
      Accept: "application/json",
      ...req.headers,
      ...(await connection.authHeaders()),
    };
    if (req.body !== undefined) headers["Content-Length"] = String(Buffer.byteLength(req.body));
    const requestFn = url.protocol === "http:" ? http.request : https.request;
    return new Promise((resolve, reject) => {
      const outgoing = requestFn(url, {
        method: req.method,
        headers,
        agent: connection.agent,
        ...(req.signal === undefined ? {} : { signal: req.signal }),
      });
      const timeoutMs = req.timeoutMs ?? 30_000;
      if (timeoutMs > 0) {
        outgoing.setTimeout(timeoutMs, () => outgoing.destroy(new Error(`request timed out after ${timeoutMs} ms`)));
      }
      outgoing.on("response", (response) => {
        const status = response.statusCode ?? 0;
        this.metrics?.restRequests.inc({ method: countKey, code: String(status) });
        resolve({ status, headers: response.headers, body: response });
      });
      outgoing.on("error", (err) => {
        this.metrics?.restRequests.inc({ method: countKey, code: "<error>" });
        reject(err);
      });
      outgoing.end(req.body);
    });
  }
}

/** Node's headers as client-node's ResponseContext and ApiException hold them: one string each. */
function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return flat;
}

async function readAllBuffer(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function readAll(stream: Readable): Promise<string> {
  return (await readAllBuffer(stream)).toString("utf8");
}
