import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { FakeClock } from "../clock/index.ts";
import { createLogger } from "../observability/index.ts";
import { StatePersistence } from "./persistence.ts";
import { startSimulator } from "./simulator.ts";
import { startHarness, TestClient } from "./test-support.ts";

describe("state file", () => {
  const dir = mkdtempSync(join(tmpdir(), "maas-sim-state-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps machines, tags, DNS records and the generated API key across a restart", async () => {
    const stateFile = join(dir, "state.json");
    const first = await startHarness({ stateFile, apiKey: undefined, machines: 2, deploySeconds: 60 });
    const client = new TestClient(first.sim.endpoint, first.sim.apiKey);
    const [m1, m2] = first.sim.state().machines;
    await client.post(`machines/${m1?.systemId ?? ""}/`, "deploy", { ephemeral_deploy: "true", user_data: "dXNlcg==" });
    await client.post("tags/", null, { name: "kept" });
    await client.post("dnsresources/", null, { fqdn: "api.maas", ip_addresses: "10.0.0.1 10.0.0.2", address_ttl: "30" });
    await first.clock.advance(60_000);
    await client.post(`machines/${m2?.systemId ?? ""}/`, "deploy", {});
    const apiKey = first.sim.apiKey;
    await first.sim.close();
    assert.equal(statSync(stateFile).mode & 0o777, 0o600);

    const clock = new FakeClock(first.clock.now());
    const second = await startSimulator({ stateFile, clock, port: 0 });
    try {
      assert.equal(second.apiKey, apiKey);
      const c2 = new TestClient(second.endpoint, second.apiKey);
      const reread = (await c2.get(`machines/${m1?.systemId ?? ""}/`)).json();
      assert.equal(reread.status, 6);
      assert.equal(reread.ephemeral_deploy, true);
      assert.equal(second.state().machines[0]?.userData, "dXNlcg==");
      assert.ok((await c2.get("tags/kept/")).status === 200);
      const dns = (await c2.get("dnsresources/", { fqdn: "api.maas" })).json<Array<{ address_ttl: number; ip_addresses: Array<{ ip: string }> }>>();
      assert.deepEqual(dns[0]?.ip_addresses.map((i) => i.ip), ["10.0.0.1", "10.0.0.2"]);
      assert.equal(dns[0]?.address_ttl, 30);
      // The deployment that was in progress finishes after the restart.
      assert.equal(second.state().machines[1]?.status, 9);
      await clock.advance(60_000);
      assert.equal(second.state().machines[1]?.status, 6);
    } finally {
      await second.close();
    }
  });

  it("uses a given apiKey over the saved one", async () => {
    const stateFile = join(dir, "key.json");
    const a = await startSimulator({ stateFile, port: 0, clock: new FakeClock() });
    await a.close();
    const b = await startSimulator({ stateFile, port: 0, apiKey: "N1:N2:N3", clock: new FakeClock() });
    try {
      assert.equal(b.apiKey, "N1:N2:N3");
      assert.equal((await new TestClient(b.endpoint, "N1:N2:N3").get("zones/")).status, 200);
      assert.equal((await new TestClient(b.endpoint, a.apiKey).get("zones/")).status, 401);
    } finally {
      await b.close();
    }
  });

  it("writes a change made just before close, and leaves no temporary file behind", async () => {
    const sub = mkdtempSync(join(dir, "flush-"));
    const stateFile = join(sub, "state.json");
    const sim = await startSimulator({ stateFile, port: 0, machines: 1, clock: new FakeClock() });
    // No await between the change and close: only the flush on close can save it.
    const tagged = new TestClient(sim.endpoint, sim.apiKey).post("tags/", null, { name: "last-word" });
    assert.equal((await tagged).status, 200);
    await sim.close();
    assert.match(readFileSync(stateFile, "utf8"), /"last-word"/);
    assert.deepEqual(readdirSync(sub), ["state.json"]);
  });

  it("removes its temporary file when the state file cannot be replaced, and tells who waits", async () => {
    const sub = mkdtempSync(join(dir, "blocked-"));
    const stateFile = join(sub, "state.json");
    mkdirSync(join(stateFile, "in-the-way"), { recursive: true }); // a non-empty directory: rename fails
    const persistence = new StatePersistence(stateFile, { counters: {} } as never, createLogger({ name: "test", level: "silent" }));
    persistence.changed();
    await assert.rejects(persistence.commit());
    assert.deepEqual(readdirSync(sub), ["state.json"]);
    assert.ok(statSync(stateFile).isDirectory());
  });

  it("removes the temporary files a crashed run left (full copies of the state, API keys included)", async () => {
    const sub = mkdtempSync(join(dir, "crashed-"));
    const stateFile = join(sub, "state.json");
    const first = await startSimulator({ stateFile, port: 0, machines: 1, clock: new FakeClock() });
    await first.close();
    const saved = readFileSync(stateFile, "utf8");
    // What a SIGKILL between open and rename leaves: this version's name, and the pid-named one of earlier versions.
    writeFileSync(`${stateFile}.tmp`, saved, { mode: 0o644 });
    writeFileSync(`${stateFile}.4242.tmp`, saved, { mode: 0o644 });
    writeFileSync(join(sub, "unrelated.json.77.tmp"), "not ours");
    const second = await startSimulator({ stateFile, port: 0, clock: new FakeClock() });
    try {
      assert.deepEqual(readdirSync(sub).sort(), ["state.json", "unrelated.json.77.tmp"]);
      await new TestClient(second.endpoint, second.apiKey).post("tags/", null, { name: "after-crash" });
      assert.deepEqual(readdirSync(sub).sort(), ["state.json", "unrelated.json.77.tmp"]);
      assert.equal(statSync(stateFile).mode & 0o777, 0o600);
    } finally {
      await second.close();
    }
  });

  it("answers 500 rather than break the file while another writer's temporary file is there", async () => {
    const sub = mkdtempSync(join(dir, "two-writers-"));
    const stateFile = join(sub, "state.json");
    const sim = await startSimulator({ stateFile, port: 0, machines: 1, clock: new FakeClock(), logger: createLogger({ level: "silent" }) });
    try {
      const before = readFileSync(stateFile, "utf8");
      writeFileSync(`${stateFile}.tmp`, "{half a file"); // a second simulator on the same --state, mid-write
      const client = new TestClient(sim.endpoint, sim.apiKey);
      assert.equal((await client.post("tags/", null, { name: "refused" })).status, 500);
      assert.equal(readFileSync(stateFile, "utf8"), before);
      rmSync(`${stateFile}.tmp`);
      // Once the other writer is gone, the next answer waits for a write that holds both changes.
      assert.equal((await client.post("tags/", null, { name: "accepted" })).status, 200);
      assert.match(readFileSync(stateFile, "utf8"), /"refused"[\s\S]*"accepted"/);
    } finally {
      await sim.close();
    }
  });

  it("makes a state file that an earlier version left readable to others owner-only", async () => {
    const sub = mkdtempSync(join(dir, "mode-"));
    const stateFile = join(sub, "state.json");
    const first = await startSimulator({ stateFile, port: 0, machines: 1, clock: new FakeClock() });
    await first.close();
    chmodSync(stateFile, 0o644);
    const second = await startSimulator({ stateFile, port: 0, clock: new FakeClock() });
    try {
      assert.equal(statSync(stateFile).mode & 0o777, 0o600);
    } finally {
      await second.close();
    }
  });

  it("refuses a file that is not a simulator state file, saying how to fix it", async () => {
    const stateFile = join(dir, "bad.json");
    writeFileSync(stateFile, '{"hello": 1}');
    await assert.rejects(startSimulator({ stateFile, port: 0 }), /not a maas-sim-state\/1 file; delete it or point --state elsewhere/);
    assert.equal(readFileSync(stateFile, "utf8"), '{"hello": 1}');
  });
});
