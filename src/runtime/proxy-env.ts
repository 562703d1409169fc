// Which HTTP proxy, if any, a connection to a Kubernetes API server goes through: the
// kubeconfig cluster's proxy-url, else the environment, read as Go's net/http reads it
// (golang.org/x/net/http/httpproxy, what kubectl and the Cluster API managers use), so
// one HTTPS_PROXY / NO_PROXY setting means the same to every process of a management
// cluster.
import { isIP } from "node:net";

export type ProxyEnvironment = Readonly<Record<string, string | undefined>>;

export class ProxyConfigError extends Error {}

function variable(env: ProxyEnvironment, name: string): string {
  return env[name] ?? env[name.toLowerCase()] ?? "";
}

/** The proxy for `target`, or undefined to connect directly. */
export function proxyFor(target: URL, env: ProxyEnvironment, kubeconfigProxyUrl?: string): URL | undefined {
  if (kubeconfigProxyUrl !== undefined && kubeconfigProxyUrl !== "") return parseProxyUrl(kubeconfigProxyUrl, "the kubeconfig cluster's proxy-url");
  const name = target.protocol === "https:" ? "HTTPS_PROXY" : "HTTP_PROXY";
  const configured = variable(env, name);
  if (configured === "") return undefined;
  const host = target.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const port = target.port !== "" ? target.port : target.protocol === "https:" ? "443" : "80";
  // httpproxy.Config.useProxy: localhost and loopback addresses are never proxied.
  if (host === "localhost" || isLoopback(host)) return undefined;
  if (excluded(host, port, variable(env, "NO_PROXY"))) return undefined;
  return parseProxyUrl(configured, name);
}

function parseProxyUrl(text: string, source: string): URL {
  // Go reads a proxy given without a scheme as http://.
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ProxyConfigError(`${source} ${JSON.stringify(text)} is not a URL; give http://host:port`);
  }
  if (url.protocol !== "http:") {
    throw new ProxyConfigError(`${source} ${url.protocol}//${url.host}: only http:// proxies (HTTP CONNECT) are supported; give http://host:port`);
  }
  return url;
}

function isLoopback(host: string): boolean {
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1";
}

/** NO_PROXY as httpproxy reads it: "*", addresses, CIDRs, and names that match themselves and their subdomains (".name": subdomains only), each with an optional :port. */
function excluded(host: string, port: string, noProxy: string): boolean {
  for (const raw of noProxy.split(",")) {
    let entry = raw.trim().toLowerCase();
    if (entry === "") continue;
    if (entry === "*") return true;
    if (entry.includes("/")) {
      if (isIP(host) === 4 && inCidr(host, entry)) return true;
      continue;
    }
    let entryPort = "";
    const portMatch = /^(.*[^:]):(\d+)$/.exec(entry);
    if (portMatch !== null && isIP(entry) === 0) {
      entry = portMatch[1] ?? "";
      entryPort = portMatch[2] ?? "";
    }
    if (entryPort !== "" && entryPort !== port) continue;
    if (isIP(entry) !== 0) {
      if (entry === host) return true;
      continue;
    }
    if (entry.startsWith("*.")) entry = entry.slice(1);
    if (entry.startsWith(".")) {
      if (host.endsWith(entry)) return true;
    } else if (host === entry || host.endsWith(`.${entry}`)) {
      return true;
    }
  }
  return false;
}

function inCidr(address: string, cidr: string): boolean {
  const [base = "", bitsText = ""] = cidr.split("/");
  const bits = Number(bitsText);
  if (isIP(base) !== 4 || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const toInt = (ip: string): number => ip.split(".").reduce((n, part) => (n << 8) + Number(part), 0) >>> 0;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (toInt(address) & mask) >>> 0 === (toInt(base) & mask) >>> 0;
}
