import http from "node:http";
import https from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";
import { proxyFor, type ProxyEnvironment } from "./proxy-env.ts";
import { TunnelAgent } from "./tunnel-agent.ts";

/**
 * One connection pool to the API server for the whole process.
 *
 * client-node 1.4 builds a fresh `https.Agent` for every call: `Watch.watch` goes
 * through `KubeConfig.applyToFetchOptions`, and every generated API method through
 * `applySecurityAuthentication`, both of which end in the private `createAgent`. Each
 * reconnect of a watch therefore opens a new TLS connection on a new agent whose
 * keep-alive sockets are never reused or closed (the socket leak). We read the TLS
 * material out of the kubeconfig once, build a single keep-alive agent from it, and
 * route every request (our raw list/watch and the generated clients) through it.
 */
export interface KubeConnection {
  /** The API server's base URL, without a trailing slash. */
  readonly server: string;
  readonly agent: http.Agent;
  /** Headers that authenticate a request (bearer token, basic auth, impersonation). */
  authHeaders(): Promise<Record<string, string>>;
}

export interface KubeConnectionOptions {
  kubeConfig: KubeConfig;
  /** Where HTTPS_PROXY / NO_PROXY are read (default: process.env). */
  proxyEnv?: ProxyEnvironment;
  /** Upper bound of concurrent sockets; watches hold one each for their lifetime. */
  maxSockets?: number;
}

interface TlsMaterial {
  ca?: Buffer | string;
  cert?: Buffer | string;
  key?: Buffer | string;
  rejectUnauthorized?: boolean;
  servername?: string;
  headers?: Record<string, string | number | string[]>;
  auth?: string;
}

export async function createKubeConnection(options: KubeConnectionOptions): Promise<KubeConnection> {
  const { kubeConfig } = options;
  const cluster = kubeConfig.getCurrentCluster();
  if (cluster === null) throw new Error("kubeconfig has no current cluster");
  const server = cluster.server.replace(/\/+$/, "");
  const proxy = proxyFor(new URL(server), options.proxyEnv ?? process.env, cluster.proxyUrl);
  // applyToHTTPSOptions is the public way to have client-node resolve CA, client
  // certificate, key and the Authorization header from files, data or plugins. The
  // agent it also creates is dropped: we build our own below.
  const material: TlsMaterial = {};
  await kubeConfig.applyToHTTPSOptions(material as https.RequestOptions);
  const maxSockets = options.maxSockets ?? 64;
  const agentOptions = {
    keepAlive: true,
    keepAliveMsecs: 30_000,
    maxSockets,
    maxFreeSockets: Math.min(maxSockets, 16),
    ...(material.ca === undefined ? {} : { ca: material.ca }),
    ...(material.cert === undefined ? {} : { cert: material.cert }),
    ...(material.key === undefined ? {} : { key: material.key }),
    ...(material.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: material.rejectUnauthorized }),
    ...(material.servername === undefined ? {} : { servername: material.servername }),
  };
  const agent = server.startsWith("http:")
    ? new http.Agent(agentOptions)
    : proxy === undefined
      ? new https.Agent(agentOptions)
      : new TunnelAgent(proxy, agentOptions);

  const user = kubeConfig.getCurrentUser();
  // Exec plugins and auth providers hand out short-lived tokens: ask client-node for
  // fresh headers on each request (its authenticators cache until expiry). Static
  // credentials are resolved once, which spares a synchronous file read per request.
  const dynamic = user !== null && (user.exec !== undefined || user.authProvider !== undefined);
  const staticHeaders = headersFrom(material);
  return {
    server,
    agent,
    async authHeaders() {
      if (!dynamic) return staticHeaders;
      const fresh: TlsMaterial = {};
      await kubeConfig.applyToHTTPSOptions(fresh as https.RequestOptions);
      return headersFrom(fresh);
    },
  };
}

function headersFrom(material: TlsMaterial): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(material.headers ?? {})) {
    headers[name] = Array.isArray(value) ? value.join(", ") : String(value);
  }
  if (material.auth !== undefined) {
    headers.Authorization = `Basic ${Buffer.from(material.auth).toString("base64")}`;
  }
  return headers;
}
