import assert from "node:assert/strict";
import { createHash, X509Certificate } from "node:crypto";
import { createServer, connect, type Server } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import { caCertHash, ClusterRegistry, splitEndpoint, type Cluster } from "./clusters.ts";
import { EndpointForwarder } from "./endpoint-forwarder.ts";
import { makeCa } from "./pki-test-support.ts";

describe("splitting host:port endpoints", () => {
  const cases: Array<[string, string, number | undefined]> = [
    ["127.10.255.1:6443", "127.10.255.1", 6443],
    ["kc.maas.test:443", "kc.maas.test", 443],
    ["kc.maas.test", "kc.maas.test", undefined],
    ["[fd00::1]:6443", "fd00::1", 6443],
    ["fd00::1", "fd00::1", undefined],
  ];
  for (const [endpoint, host, port] of cases) {
    it(`${endpoint} → ${host} ${String(port)}`, () => assert.deepEqual(splitEndpoint(endpoint), { host, port }));
  }
});

describe("the cluster registry", () => {
  let registry: ClusterRegistry;
  let caPem: string;
  let cluster: Cluster;

  before(async () => {
    caPem = (await makeCa()).certPem;
  });

  beforeEach(() => {
    registry = new ClusterRegistry();
    cluster = registry.add({ key: caCertHash(caPem), name: "wc", controlPlaneEndpoint: "127.10.255.1:6443", caPem, admin: { certPem: "", keyPem: "" } });
    cluster.members.set("cp1", { systemId: "cp1", nodeName: "cp-1", address: "127.10.0.12", apiServerPort: 6443, running: true });
    cluster.members.set("w1", { systemId: "w1", nodeName: "w-1", address: "127.10.0.13", running: true });
  });

  it("keys a cluster by kubeadm's CA pin: sha256 of the CA's SubjectPublicKeyInfo", () => {
    const spki = new X509Certificate(caPem).publicKey.export({ type: "spki", format: "der" });
    assert.equal(cluster.key, `sha256:${createHash("sha256").update(spki).digest("hex")}`);
  });

  describe("finding the cluster a join's apiServerEndpoint leads to", () => {
    // [endpoint, what the simulator's DNS answers, found?]
    const cases: Array<[string, string, Record<string, string[]>, boolean]> = [
      ["its controlPlaneEndpoint", "127.10.255.1:6443", {}, true],
      ["a control-plane member's address and API port", "127.10.0.12:6443", {}, true],
      ["a control-plane member's address on another port", "127.10.0.12:443", {}, false],
      ["a worker's address", "127.10.0.13:6443", {}, false],
      ["a DNS name the simulator's records point at a control-plane member", "wc.maas.test:6443", { "wc.maas.test": ["127.10.0.12"] }, true],
      ["a DNS name the simulator does not know", "other.maas.test:6443", {}, false],
    ];
    for (const [what, endpoint, dns, found] of cases) {
      it(`${found ? "finds" : "does not find"} it by ${what}`, () => {
        assert.equal(registry.findByEndpoint(endpoint, (name) => dns[name] ?? []) === cluster, found);
      });
    }
  });

  it("lists the running control-plane members as its live API servers, except the one going down", () => {
    assert.deepEqual(registry.liveApiServers(cluster).map((m) => m.systemId), ["cp1"]);
    assert.deepEqual(registry.liveApiServers(cluster, "cp1"), []);
    assert.equal(registry.api(cluster, { except: "cp1" }), undefined);
  });

  it("refuses a second kubeadm init with the CA of a cluster that still has machines, and takes it once they are gone", async () => {
    assert.throws(() => registry.add({ key: cluster.key, name: "again", controlPlaneEndpoint: "", caPem, admin: { certPem: "", keyPem: "" } }), /already runs on cp-1, w-1/);
    await registry.removeMember("cp1");
    await registry.removeMember("w1");
    assert.equal(registry.add({ key: cluster.key, name: "again", controlPlaneEndpoint: "", caPem, admin: { certPem: "", keyPem: "" } }).name, "again");
  });

  it("serves no endpoint that is not a loopback VIP: a DNS name, or a machine's own address", async () => {
    for (const endpoint of ["wc.maas.test:6443", "127.10.0.12:6443", ""]) {
      const other = registry.add({ key: `sha256:${endpoint}`, name: endpoint, controlPlaneEndpoint: endpoint, caPem, admin: { certPem: "", keyPem: "" } });
      await registry.ensureEndpoint(other, (ip) => ip === "127.10.0.12");
      const served = other.forwarder !== undefined;
      await other.forwarder?.close();
      assert.equal(served, false, endpoint);
    }
  });
});

/** A TCP server on 127.0.0.1 that answers every connection with its name. */
async function named(name: string): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    socket.on("error", () => undefined);
    socket.end(name);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as { port: number }).port };
}

function answerThrough(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let text = "";
    socket.on("data", (chunk: Buffer) => (text += chunk.toString()));
    socket.on("error", () => undefined);
    socket.once("close", () => resolve(text));
  });
}

describe("the endpoint forwarder (the VIP's load balancer)", () => {
  let a: { server: Server; port: number };
  let b: { server: Server; port: number };
  let deadPort: number;
  const forwarders: EndpointForwarder[] = [];

  before(async () => {
    [a, b] = await Promise.all([named("a"), named("b")]);
    const dead = await named("dead");
    deadPort = dead.port;
    await new Promise((resolve) => dead.server.close(resolve));
  });

  after(async () => {
    for (const f of forwarders) await f.close();
    a.server.close();
    b.server.close();
  });

  it("spreads connections over the live backends", async () => {
    const forwarder = await EndpointForwarder.listen("127.0.0.1", 0, () => [{ host: "127.0.0.1", port: a.port }, { host: "127.0.0.1", port: b.port }]);
    forwarders.push(forwarder);
    const answers = [await answerThrough(forwarder.port), await answerThrough(forwarder.port)];
    assert.deepEqual(answers.sort(), ["a", "b"]);
  });

  it("tries the next backend when one refuses the connection", async () => {
    const forwarder = await EndpointForwarder.listen("127.0.0.1", 0, () => [{ host: "127.0.0.1", port: deadPort }, { host: "127.0.0.1", port: b.port }]);
    forwarders.push(forwarder);
    for (let i = 0; i < 3; i++) assert.equal(await answerThrough(forwarder.port), "b");
  });

  it("closes the connection when no API server is live", async () => {
    const forwarder = await EndpointForwarder.listen("127.0.0.1", 0, () => []);
    forwarders.push(forwarder);
    assert.equal(await answerThrough(forwarder.port), "");
  });

  it("refuses to listen where something already does", async () => {
    await assert.rejects(EndpointForwarder.listen("127.0.0.1", a.port, () => []), { code: "EADDRINUSE" });
  });
});
