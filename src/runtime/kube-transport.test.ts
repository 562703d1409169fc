import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import { KubeClient, type WatchEvent } from "./kube-client.ts";
import { kubeMetrics } from "./kube-metrics.ts";
import type { KindSpec } from "./kube-object.ts";
import { KubeTransport } from "./kube-transport.ts";

const WIDGET: KindSpec = { group: "x.test", version: "v1", kind: "Widget", plural: "widgets", namespaced: true };

/**
 * A stand-in API server on a local port: lists answer an empty list, watches send
 * one event and end, as a watch does when its timeoutSeconds runs out. It counts
 * the TCP connections it accepts, which is what a leaked agent per request shows up as.
 */
async function startFakeApiServer(): Promise<{ url: string; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://fake");
    if (url.searchParams.get("watch") === "true") {
      res.writeHead(200, { "Content-Type": "application/json" });
      const event: WatchEvent = { type: "BOOKMARK", object: { metadata: { name: "", resourceVersion: "7" } } };
      res.end(`${JSON.stringify(event)}\n`);
      return;
    }
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ items: [], metadata: { resourceVersion: "7" } }));
  });
  server.on("connection", () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function kubeConfigFor(server: string, caFile?: string): KubeConfig {
  // client-node refuses a plain-HTTP server unless TLS verification is switched off.
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: "fake", server, skipTLSVerify: true, ...(caFile === undefined ? {} : { caFile }) }],
    users: [{ name: "tester", token: "secret-token" }],
    contexts: [{ name: "fake", cluster: "fake", user: "tester" }],
    currentContext: "fake",
  });
  return kubeConfig;
}

describe("KubeTransport", () => {
  let fake: Awaited<ReturnType<typeof startFakeApiServer>>;
  let dir: string;

  before(async () => {
    fake = await startFakeApiServer();
    dir = await mkdtemp(join(tmpdir(), "kube-transport-test-"));
  });

  after(async () => {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("sends lists and every watch reconnect over one pooled connection (one agent, no leak per watch)", async () => {
    const before = fake.connections();
    const transport = new KubeTransport({ kubeConfig: kubeConfigFor(fake.url) });
    const client = new KubeClient({ transport, fieldManager: "test" });
    try {
      await client.list(WIDGET, { namespace: "ns" });
      for (let i = 0; i < 3; i++) {
        const events: WatchEvent[] = [];
        await client.watch(WIDGET, { namespace: "ns", resourceVersion: "7", timeoutSeconds: 1 }, (e) => events.push(e));
        assert.equal(events.length, 1);
      }
      await client.list(WIDGET, { namespace: "ns" });
      assert.deepEqual(transport.requestCounts().byMethod, { GET: 2, WATCH: 3 });
      assert.equal(fake.connections() - before, 1, "every request reused the first connection");
    } finally {
      await transport.close();
    }
  });

  it("counts requests by the API server's verb and resource: a LIST apart from a GET, a status write apart from the object's", async () => {
    const metrics = kubeMetrics();
    const transport = new KubeTransport({ kubeConfig: kubeConfigFor(fake.url), metrics });
    const client = new KubeClient({ transport, fieldManager: "test" });
    try {
      await client.list(WIDGET, { namespace: "ns" });
      await client.list(WIDGET, { namespace: "ns" });
      await client.get(WIDGET, { namespace: "ns", name: "w" });
      await client.watch(WIDGET, { namespace: "ns", resourceVersion: "7", timeoutSeconds: 1 }, () => undefined);
      await client.patch(WIDGET, { namespace: "ns", name: "w" }, { status: {} }, { subresource: "status" });
      const counted = (await metrics.registry.getSingleMetric("rest_client_requests_by_verb_total")?.get())?.values ?? [];
      const byLabels = Object.fromEntries(counted.map((v) => [`${String(v.labels.verb)} ${String(v.labels.resource)}`, v.value]));
      assert.deepEqual(byLabels, { "LIST widgets": 2, "GET widgets": 1, "WATCH widgets": 1, "PATCH widgets/status": 1 });
    } finally {
      await transport.close();
    }
  });

  it("tries the kubeconfig again after a failed first connection instead of failing for good", async () => {
    const caFile = join(dir, "ca.crt");
    const transport = new KubeTransport({ kubeConfig: kubeConfigFor(fake.url, caFile) });
    const client = new KubeClient({ transport, fieldManager: "test" });
    try {
      // The CA file is not there yet (e.g. a projected volume still being written).
      await assert.rejects(client.list(WIDGET, { namespace: "ns" }), /ENOENT/);
      await writeFile(caFile, "not used by a plain-HTTP server\n");
      const page = await client.list(WIDGET, { namespace: "ns" });
      assert.equal(page.resourceVersion, "7");
    } finally {
      await transport.close();
    }
  });
});
