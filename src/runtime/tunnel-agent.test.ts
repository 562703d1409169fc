import assert from "node:assert/strict";
import http from "node:http";
import https from "node:https";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { after, before, describe, it } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import { createKubeConnection, type KubeConnection } from "./https-agent.ts";

/** A private CA and a server certificate it issued for DNS:other.example only. */
function makeCertificates(): { caPem: string; key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), "tunnel-tls-"));
  const openssl = (...args: string[]): void => void execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  try {
    openssl("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=tunnel-test-ca", "-addext", "basicConstraints=critical,CA:TRUE");
    openssl("req", "-new", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=other.example");
    writeFileSync(join(dir, "server.ext"), "subjectAltName=DNS:other.example\nbasicConstraints=CA:FALSE\n");
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext");
    const read = (name: string): string => readFileSync(join(dir, name), "utf8");
    return { caPem: read("ca.pem"), key: read("server.key"), cert: read("server.pem") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A CONNECT proxy that sends every tunnel to 127.0.0.1 (a resolver of its own), or refuses names in `refuse`. */
async function startProxy(refuse: string[] = []): Promise<{ url: string; targets: string[]; close(): Promise<void> }> {
  const targets: string[] = [];
  const server = http.createServer((_req, res) => res.writeHead(405).end());
  server.on("connect", (req: http.IncomingMessage, client: Duplex) => {
    const authority = req.url ?? "";
    targets.push(authority);
    const [host = "", port = ""] = authority.split(":");
    if (refuse.includes(host)) {
      client.end("HTTP/1.1 502 Bad Gateway\r\n\r\n");
      return;
    }
    const upstream = connect(Number(port), "127.0.0.1", () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      client.pipe(upstream);
      upstream.pipe(client);
    });
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`,
    targets,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function get(connection: KubeConnection, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = https.get(`${connection.server}${path}`, { agent: connection.agent }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on("error", reject);
  });
}

describe("Kubernetes connections through an HTTPS_PROXY (CONNECT tunnel, TLS end to end)", () => {
  let certs: { caPem: string; key: string; cert: string };
  let apiServer: https.Server;
  let port: number;
  before(async () => {
    certs = makeCertificates();
    // Its certificate names only other.example: the tunnel must keep the name for TLS.
    apiServer = https.createServer({ key: certs.key, cert: certs.cert }, (req, res) => res.end(`served ${req.url ?? ""}`));
    await new Promise<void>((resolve) => apiServer.listen(0, "127.0.0.1", resolve));
    port = (apiServer.address() as AddressInfo).port;
  });
  after(async () => {
    apiServer.closeAllConnections();
    await new Promise((resolve) => apiServer.close(resolve));
  });

  const kubeConfigFor = (server: string, proxyUrl?: string): KubeConfig => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: "w", server, caData: Buffer.from(certs.caPem).toString("base64"), skipTLSVerify: false, ...(proxyUrl === undefined ? {} : { proxyUrl }) }],
      users: [{ name: "u", token: "t" }],
      contexts: [{ name: "w", cluster: "w", user: "u" }],
      currentContext: "w",
    });
    return kubeConfig;
  };

  it("reaches a server named only in the proxy's DNS, verifying its certificate for that name, over one kept-alive tunnel", async () => {
    const proxy = await startProxy();
    const connection = await createKubeConnection({ kubeConfig: kubeConfigFor(`https://other.example:${String(port)}`), proxyEnv: { HTTPS_PROXY: proxy.url } });
    try {
      assert.deepEqual(await get(connection, "/version"), { status: 200, body: "served /version" });
      assert.deepEqual(await get(connection, "/api"), { status: 200, body: "served /api" });
      assert.deepEqual(proxy.targets, [`other.example:${String(port)}`]);
    } finally {
      connection.agent.destroy();
      await proxy.close();
    }
  });

  it("uses the kubeconfig cluster's proxy-url", async () => {
    const proxy = await startProxy();
    const connection = await createKubeConnection({ kubeConfig: kubeConfigFor(`https://other.example:${String(port)}`, proxy.url), proxyEnv: {} });
    try {
      assert.equal((await get(connection, "/healthz")).status, 200);
      assert.equal(proxy.targets.length, 1);
    } finally {
      connection.agent.destroy();
      await proxy.close();
    }
  });

  it("fails with the proxy's answer when it refuses the tunnel", async () => {
    const proxy = await startProxy(["other.example"]);
    const connection = await createKubeConnection({ kubeConfig: kubeConfigFor(`https://other.example:${String(port)}`), proxyEnv: { HTTPS_PROXY: proxy.url } });
    try {
      await assert.rejects(get(connection, "/version"), /proxy 127\.0\.0\.1:\d+ refused CONNECT other\.example:\d+: 502 Bad Gateway/);
    } finally {
      connection.agent.destroy();
      await proxy.close();
    }
  });

  it("still checks the server's certificate inside the tunnel", async () => {
    const proxy = await startProxy();
    // The same server reached by another name: its certificate does not cover it.
    const connection = await createKubeConnection({ kubeConfig: kubeConfigFor(`https://api.elsewhere.test:${String(port)}`), proxyEnv: { HTTPS_PROXY: proxy.url } });
    try {
      await assert.rejects(get(connection, "/version"), /api\.elsewhere\.test.*not in the cert.s altnames/);
    } finally {
      connection.agent.destroy();
      await proxy.close();
    }
  });
});
