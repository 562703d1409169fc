import assert from "node:assert/strict";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import { after, before, beforeEach, describe, it } from "node:test";
import { KubeApi, type KubeApiError } from "./kube-api.ts";
import { makeCa } from "./pki-test-support.ts";
import { issueCertificate, loadAuthority, newKeyPair } from "./x509.ts";

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

describe("the API client a booting machine writes with", () => {
  let server: Server;
  let caPem: string;
  let url: string;
  let handler: Handler;
  let calls: string[];

  before(async () => {
    const ca = await makeCa();
    caPem = ca.certPem;
    const keys = await newKeyPair("ECDSA-P256");
    const now = Date.now();
    const certPem = await issueCertificate(await loadAuthority(ca, "ca"), { commonName: "kube-apiserver", usages: ["serverAuth"], altNames: { dnsNames: [], ips: ["127.0.0.1"] }, notBefore: new Date(now - 60_000), notAfter: new Date(now + 3_600_000) }, keys.publicKeyDer);
    server = createServer({ cert: certPem, key: keys.privateKeyPem }, (req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString()));
      req.on("end", () => {
        calls.push(`${req.method ?? ""} ${req.url ?? ""}`);
        handler(req, body, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  beforeEach(() => {
    calls = [];
  });

  const reply = (res: ServerResponse, status: number, json: unknown): void => {
    res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(json));
  };
  const api = (o: { retryForMs?: number; signal?: AbortSignal } = {}): KubeApi => new KubeApi({ server: url, identity: { caPem }, ...o });

  it("retries while the API server answers 503, then takes its answer", async () => {
    let n = 0;
    handler = (_req, _body, res) => (++n < 3 ? reply(res, 503, { reason: "ServiceUnavailable" }) : reply(res, 201, { metadata: { name: "x" } }));
    const created = await api().create("/api/v1/nodes", { metadata: { name: "x" } });
    assert.equal(created.metadata?.name, "x");
    assert.equal(calls.length, 3);
  });

  it("reports a refusal with the API server's status and reason, without retrying it", async () => {
    handler = (_req, _body, res) => reply(res, 422, { reason: "Invalid", message: "spec.taints: bad" });
    await assert.rejects(api().create("/api/v1/nodes", {}), (error: KubeApiError) => error.status === 422 && error.reason === "Invalid" && /spec\.taints: bad/.test(error.message));
    assert.equal(calls.length, 1);
  });

  it("reads, changes and writes again when the write meets a newer version (409)", async () => {
    let version = 1;
    const written: unknown[] = [];
    handler = (req, body, res) => {
      if (req.method === "GET") return reply(res, 200, { metadata: { name: "n", resourceVersion: String(version) }, spec: {} });
      const sent = JSON.parse(body) as { metadata: { resourceVersion: string } };
      written.push(sent.metadata.resourceVersion);
      if (sent.metadata.resourceVersion === "1") {
        version = 2;
        return reply(res, 409, { reason: "Conflict" });
      }
      return reply(res, 200, sent);
    };
    await api().modify("/api/v1/nodes/n", (node) => ({ ...node, spec: { unschedulable: true } }));
    assert.deepEqual(written, ["1", "2"]);
    assert.deepEqual(calls, ["GET /api/v1/nodes/n", "PUT /api/v1/nodes/n", "GET /api/v1/nodes/n", "PUT /api/v1/nodes/n"]);
  });

  it("stops retrying when the machine shuts down", async () => {
    handler = (_req, _body, res) => reply(res, 503, {});
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 200);
    await assert.rejects(api({ signal: abort.signal, retryForMs: 60_000 }).get("/api/v1/nodes/n"), { name: "AbortError" });
  });

  it("gives up on an unreachable API server after retryForMs", async () => {
    const gone = new KubeApi({ server: "https://127.0.0.1:1", identity: { caPem }, retryForMs: 300 });
    await assert.rejects(gone.get("/api/v1/nodes/n"), /ECONNREFUSED|connect/);
  });
});
