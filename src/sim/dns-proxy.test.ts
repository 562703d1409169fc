import assert from "node:assert/strict";
import http from "node:http";
import { createServer, type Server } from "node:net";
import { after, before, describe, it } from "node:test";
import { startHarness, type Harness } from "./test-support.ts";

/** A TCP server on `host` that answers each connection with `reply` and closes. */
async function listenOn(host: string, reply: string): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.end(reply));
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  return { server, port: typeof address === "object" && address !== null ? address.port : 0 };
}

/** CONNECT through the proxy; resolves with the status line and, after a 200, what the far end sent. */
function tunnel(proxyUrl: string, authority: string): Promise<{ status: number; body: string }> {
  const proxy = new URL(proxyUrl);
  return new Promise((resolve, reject) => {
    const request = http.request({ host: proxy.hostname, port: Number(proxy.port), method: "CONNECT", path: authority });
    request.once("connect", (response, socket, head) => {
      // What arrived with the status line comes as `head`, the rest on the socket.
      let body = head.toString("utf8");
      socket.setEncoding("utf8");
      socket.on("data", (chunk: string) => (body += chunk));
      socket.once("end", () => resolve({ status: response.statusCode ?? 0, body }));
      socket.once("error", reject);
    });
    request.once("error", reject);
    request.end();
  });
}

describe("the simulator's DNS proxy (HTTPS_PROXY for MAAS DNS names)", () => {
  let h: Harness;
  const servers: Server[] = [];
  const machineIp = "127.31.0.10";
  before(async () => {
    h = await startHarness({
      dnsProxyPort: 0,
      subnet: "127.31.0.0/16",
      deploySeconds: 0,
      inventory: { domains: [{ name: "maas.test", authoritative: true }], machines: [{ systemId: "abc101", hostname: "node-1", domain: "maas.test" }] },
    });
  });
  after(async () => {
    for (const server of servers) await new Promise((resolve) => server.close(resolve));
    await h.sim.close();
  });

  it("is off unless asked for", async () => {
    const plain = await startHarness({});
    try {
      assert.equal(plain.sim.dnsProxyUrl, null);
    } finally {
      await plain.sim.close();
    }
  });

  it("tunnels a DNS resource's name to the address it holds", async () => {
    const far = await listenOn("127.31.255.7", "hello from the VIP");
    servers.push(far.server);
    const created = await h.client.post("dnsresources/", null, { fqdn: "workload.maas.test", ip_addresses: "127.31.255.7" });
    assert.equal(created.status, 200, created.text);
    const answer = await tunnel(h.sim.dnsProxyUrl ?? "", `workload.maas.test:${String(far.port)}`);
    assert.deepEqual(answer, { status: 200, body: "hello from the VIP" });
  });

  it("tunnels a deployed machine's FQDN to its address, and refuses it once released", async () => {
    await h.client.post("machines/", "allocate", { system_id: "abc101" });
    const deployed = await h.client.post("machines/abc101/", "deploy", {});
    assert.equal(deployed.status, 200, deployed.text);
    await h.clock.advance(1000);
    const ips = (await h.client.get("machines/abc101/")).json<{ ip_addresses: string[] }>().ip_addresses;
    assert.deepEqual(ips, [machineIp]);
    const far = await listenOn(machineIp, "hello from node-1");
    servers.push(far.server);
    assert.deepEqual(await tunnel(h.sim.dnsProxyUrl ?? "", `NODE-1.maas.test:${String(far.port)}`), { status: 200, body: "hello from node-1" });
    assert.deepEqual(await tunnel(h.sim.dnsProxyUrl ?? "", `${machineIp}:${String(far.port)}`), { status: 200, body: "hello from node-1" });

    await h.client.post("machines/abc101/", "release", {});
    await h.clock.advance(5000);
    const refused = await tunnel(h.sim.dnsProxyUrl ?? "", `node-1.maas.test:${String(far.port)}`);
    assert.equal(refused.status, 502);
  });

  describe("is not an open proxy", () => {
    it("refuses a name MAAS has no record of", async () => {
      const answer = await tunnel(h.sim.dnsProxyUrl ?? "", "example.com:443");
      assert.equal(answer.status, 502);
      assert.match(answer.body, /example\.com has no address in this MAAS's DNS/);
    });

    it("refuses an address no machine or DNS resource holds", async () => {
      const far = await listenOn("127.0.0.1", "management host");
      servers.push(far.server);
      const answer = await tunnel(h.sim.dnsProxyUrl ?? "", `127.0.0.1:${String(far.port)}`);
      assert.equal(answer.status, 502);
    });

    it("answers a request that is not CONNECT with 405", async () => {
      const answer = await fetch(`${h.sim.dnsProxyUrl ?? ""}/anything`);
      assert.equal(answer.status, 405);
      assert.equal(answer.headers.get("allow"), "CONNECT");
    });
  });

  it("says which name has no listener behind it", async () => {
    await h.client.post("dnsresources/", null, { fqdn: "silent.maas.test", ip_addresses: "127.31.255.8" });
    const answer = await tunnel(h.sim.dnsProxyUrl ?? "", "silent.maas.test:1");
    assert.equal(answer.status, 502);
    assert.match(answer.body, /nothing accepts connections on silent\.maas\.test:1 \(127\.31\.255\.8\)/);
  });
});
