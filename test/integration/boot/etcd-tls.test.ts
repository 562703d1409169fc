// The etcd member of an emulated kubeadm machine: the testenv's etcd (upstream's
// etcdmain) started by src/sim/boot/processes.ts with kubeadm's flags on the
// machine's loopback address. KubeadmControlPlane talks to it with a client
// certificate of the etcd CA; anything else must be refused, and a second
// control-plane machine must be able to join it as kubeadm join does.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { request } from "node:https";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { mintCa, mintClient } from "./kubeadm-pki.ts";
import { prepareMachine, randomMachineSubnet, type TestMachine } from "./machine.ts";

interface ClientTls {
  ca: string;
  cert?: string;
  key?: string;
}

interface Member {
  ID: string;
  name?: string;
  peerURLs?: string[];
  clientURLs?: string[];
  isLearner?: boolean;
}

/** POST to etcd's gRPC gateway (/v3/...) with JSON; resolves with the status and parsed body. */
function etcdPost(address: string, path: string, body: unknown, tls: ClientTls): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(`https://${address}:2379${path}`, { method: "POST", ...tls, agent: false, headers: { "content-type": "application/json" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.once("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, unknown> }));
      res.once("error", reject);
    });
    req.setTimeout(15_000, () => req.destroy(new Error(`POST ${path}: no answer in 15 s`)));
    req.once("error", reject);
    req.end(JSON.stringify(body));
  });
}

async function tlsOf(machine: TestMachine, client?: string): Promise<ClientTls> {
  const ca = await readFile(join(machine.pki.dir, "etcd/ca.crt"), "utf8");
  if (client === undefined) return { ca };
  return { ca, cert: await readFile(join(machine.pki.dir, `${client}.crt`), "utf8"), key: await readFile(join(machine.pki.dir, `${client}.key`), "utf8") };
}

async function members(machine: TestMachine): Promise<Member[]> {
  const { status, json } = await etcdPost(machine.address, "/v3/cluster/member/list", {}, await tlsOf(machine, "apiserver-etcd-client"));
  assert.equal(status, 200, JSON.stringify(json));
  return json.members as Member[];
}

describe("an emulated machine's etcd member", () => {
  let first: TestMachine | undefined;
  let second: TestMachine | undefined;
  let subnet: string;

  before(async () => {
    subnet = randomMachineSubnet();
    first = await prepareMachine(`etcd-${subnet.split(".")[2] ?? ""}-a`, `${subnet}.2`);
    await first.processes.startEtcd({ name: first.name, address: first.address, dataDir: join(first.dir, "etcd"), certificatesDir: first.pki.dir });
    // A client certificate from a CA the member does not trust.
    await mintCa(first.pki.dir, "stranger-ca");
    await mintClient(first.pki.dir, "stranger-client", "/CN=cluster-api.x-k8s.io", "stranger-ca");
  });

  after(async () => {
    await second?.destroy();
    await first?.destroy();
  });

  describe("when a client connects over TLS", () => {
    it("serves one with a client certificate of the etcd CA: the member list names the Node, on the machine's address", async () => {
      assert.ok(first);
      assert.deepEqual(
        (await members(first)).map((m) => ({ name: m.name, peerURLs: m.peerURLs, clientURLs: m.clientURLs })),
        [{ name: first.name, peerURLs: [`https://${first.address}:2380`], clientURLs: [`https://${first.address}:2379`] }],
      );
    });

    // [client, its TLS material]
    const refused: [string, string | undefined][] = [
      ["without a client certificate", undefined],
      ["with a client certificate of another CA", "stranger-client"],
    ];
    for (const [who, client] of refused) {
      it(`refuses one ${who} during the handshake`, async () => {
        assert.ok(first);
        await assert.rejects(etcdPost(first.address, "/v3/cluster/member/list", {}, await tlsOf(first, client)), (err: NodeJS.ErrnoException) => {
          // Refused by TLS, not answered: no HTTP status ever comes back.
          assert.ok(err.code === "ECONNRESET" || /alert|certificate|socket hang up/i.test(err.message), `${String(err.code)}: ${err.message}`);
          return true;
        });
      });
    }
  });

  describe("when a second control-plane machine joins as kubeadm join does", () => {
    it("starts as a learner with initial-cluster-state existing over peer mutual TLS, and is promoted to a voting member", async () => {
      assert.ok(first);
      second = await prepareMachine(`etcd-${subnet.split(".")[2] ?? ""}-b`, `${subnet}.3`, first);
      const tls = await tlsOf(first, "apiserver-etcd-client");
      const added = await etcdPost(first.address, "/v3/cluster/member/add", { peerURLs: [`https://${second.address}:2380`], isLearner: true }, tls);
      assert.equal(added.status, 200, JSON.stringify(added.json));
      const id = (added.json.member as Member).ID;

      await second.processes.startEtcd({
        name: second.name,
        address: second.address,
        dataDir: join(second.dir, "etcd"),
        certificatesDir: second.pki.dir,
        initialCluster: [
          { name: first.name, peerUrl: `https://${first.address}:2380` },
          { name: second.name, peerUrl: `https://${second.address}:2380` },
        ],
        // A learner never passes /readyz (its non_learner check).
        waitFor: "live",
      });
      // The leader promotes a learner only once it has caught up.
      const deadline = Date.now() + 60_000;
      let promoted = await etcdPost(first.address, "/v3/cluster/member/promote", { ID: id }, tls);
      while (promoted.status !== 200 && Date.now() < deadline) {
        await sleep(500);
        promoted = await etcdPost(first.address, "/v3/cluster/member/promote", { ID: id }, tls);
      }
      assert.equal(promoted.status, 200, JSON.stringify(promoted.json));

      const list = await members(second);
      assert.deepEqual(
        list.map((m) => ({ name: m.name, learner: m.isLearner === true })).sort((a, b) => String(a.name).localeCompare(String(b.name))),
        [{ name: first.name, learner: false }, { name: second.name, learner: false }],
      );
    });
  });
});
