import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { FakeClock } from "../../clock/index.ts";
import { MaasClient, MaasConfigError, MaasUnavailableError } from "../../maas/index.ts";
import { API_KEY, json, scriptedServer, text, type ScriptedServer } from "../../maas/test-support.ts";
import { createLogger } from "../../observability/index.ts";
import { MaasConnection, MaasNotConfiguredError, type MaasCredentials } from "./maas-connection.ts";

const OPERATOR_KEY = "operatorCK:operatorTK:operatorTS";
const SETTLE_MS = 50;

/** A real client that counts its close() calls. */
class CountingClient extends MaasClient {
  closes = 0;
  override close(): void {
    this.closes++;
    super.close();
  }
}

interface Bed {
  clock: FakeClock;
  connection: MaasConnection;
  /** Every client the connection asked for, in order. */
  clients: CountingClient[];
  /** Keys given to onMachineChange, with the endpoint URL current when each was given. */
  changes: Array<{ key: string; endpointUrl: string | undefined }>;
}

describe("MaasConnection", () => {
  // A real server standing in for MAAS: version/ answers 3.5.4 (503 while `versionFailures`
  // is above zero), machines/ an empty list.
  let maas: ScriptedServer;
  let versionFailures = 0;
  let versionText = "3.5.4";
  let admin: MaasCredentials;
  let operator: MaasCredentials;
  let b: Bed;

  before(async () => {
    maas = await scriptedServer((request, res) => {
      if (!request.url.includes("/version/")) return json(res, 200, []);
      if (versionFailures > 0) {
        versionFailures--;
        return text(res, 503, "MAAS is starting");
      }
      return json(res, 200, { version: versionText, subversion: "", capabilities: [] });
    });
    admin = { endpoint: maas.url, apiKey: API_KEY };
    operator = { endpoint: maas.url, apiKey: OPERATOR_KEY };
  });
  after(async () => {
    b.connection.close();
    await maas.close();
  });
  beforeEach(() => {
    b?.connection.close();
    versionFailures = 0;
    versionText = "3.5.4";
    maas.requests.length = 0;
    const clock = new FakeClock(0);
    const clients: CountingClient[] = [];
    const changes: Bed["changes"] = [];
    const connection: MaasConnection = new MaasConnection({
      clock,
      logger: createLogger({ level: "silent" }),
      createClient: (credentials) => {
        const client = new CountingClient({ ...credentials, timeoutMs: 5000, retry: { maxAttempts: 1 } });
        clients.push(client);
        return client;
      },
      onMachineChange: (key) => changes.push({ key, endpointUrl: connection.isConfigured() ? connection.endpoint().url : undefined }),
      watcher: { fastIntervalMs: 100, slowIntervalMs: 1000 },
    });
    b = { clock, connection, clients, changes };
  });

  const versionReads = (): number => maas.requests.filter((r) => r.method === "GET" && r.url.includes("/version/")).length;

  describe("before configure()", () => {
    it("has no endpoint: endpoint() throws MaasNotConfiguredError saying credentials are missing", () => {
      assert.equal(b.connection.isConfigured(), false);
      assert.throws(
        () => b.connection.endpoint(),
        (err: unknown) => err instanceof MaasNotConfiguredError && /not configured/.test(err.message),
      );
      assert.equal(b.clients.length, 0);
    });
  });

  describe("configure()", () => {
    it("gives an endpoint for those credentials with a running machine watcher", async () => {
      b.connection.configure(admin);
      const endpoint = b.connection.endpoint();
      assert.equal(endpoint.url, maas.url);
      assert.equal(endpoint.services, b.clients[0]);
      endpoint.watcher.watch("abc123", "ns/m1");
      await b.clock.advance(SETTLE_MS);
      assert.equal(endpoint.watcher.reads, 1, "the watcher was started");
    });

    describe("with the credentials it already has", () => {
      it("does nothing: one client, the same endpoint and watcher, nothing closed", () => {
        b.connection.configure(admin);
        const first = b.connection.endpoint();
        first.watcher.watch("abc123", "ns/m1");
        b.connection.configure({ ...admin });
        assert.equal(b.clients.length, 1);
        assert.equal(b.connection.endpoint(), first);
        assert.deepEqual(first.watcher.keys(), ["ns/m1"]);
        assert.equal(b.clients[0]?.closes, 0);
        assert.deepEqual(b.changes, []);
      });
    });

    describe("with different credentials", () => {
      it("closes the old client and stops its watcher", async () => {
        b.connection.configure(admin);
        const old = b.connection.endpoint();
        old.watcher.watch("abc123", "ns/m1");
        b.connection.configure(operator);

        assert.equal(b.clients.length, 2);
        assert.equal(b.clients[0]?.closes, 1);
        assert.equal(b.clients[1]?.closes, 0);
        const current = b.connection.endpoint();
        assert.notEqual(current, old);
        assert.equal(current.services, b.clients[1]);
        await b.clock.advance(SETTLE_MS * 10);
        assert.equal(old.watcher.reads, 0, "the old watcher never reads");
      });

      it("passes the keys the old watcher watched to onMachineChange, once the new endpoint is in place", () => {
        b.connection.configure(admin);
        const old = b.connection.endpoint();
        old.watcher.watch("abc123", "ns/m1");
        old.watcher.watch("def456", "ns/m2");
        b.connection.configure({ ...admin, endpoint: `${maas.url}/` });

        assert.deepEqual(b.changes.map((c) => c.key).sort(), ["ns/m1", "ns/m2"]);
        for (const change of b.changes) assert.equal(change.endpointUrl, `${maas.url}/`, "a reconcile it starts sees the new endpoint");
        assert.deepEqual(b.connection.endpoint().watcher.keys(), [], "the next reconcile registers them again");

        b.connection.configure(operator);
        assert.equal(b.changes.length, 2, "keys are passed once, not again at the next change");
      });

      it("keeps the current endpoint when the new credentials are refused", () => {
        b.connection.configure(admin);
        const current = b.connection.endpoint();
        assert.throws(() => b.connection.configure({ endpoint: "ftp://maas", apiKey: API_KEY }), MaasConfigError);
        assert.throws(() => b.connection.configure({ endpoint: maas.url, apiKey: "not-a-key" }), MaasConfigError);
        assert.equal(b.connection.endpoint(), current);
        assert.equal(b.clients[0]?.closes, 0);
      });
    });
  });

  describe("after unconfigure(reason)", () => {
    it("has no endpoint: endpoint() throws MaasNotConfiguredError with that reason", () => {
      b.connection.configure(admin);
      b.connection.unconfigure("Secret capmaas-system/maas is gone; create it");
      assert.equal(b.connection.isConfigured(), false);
      assert.throws(
        () => b.connection.endpoint(),
        (err: unknown) => err instanceof MaasNotConfiguredError && err.message === "Secret capmaas-system/maas is gone; create it",
      );
    });

    it("closes the client and stops the watcher", async () => {
      b.connection.configure(admin);
      const old = b.connection.endpoint();
      old.watcher.watch("abc123", "ns/m1");
      b.connection.unconfigure("gone");
      assert.equal(b.clients[0]?.closes, 1);
      await b.clock.advance(SETTLE_MS * 10);
      assert.equal(old.watcher.reads, 0);
      assert.equal(b.clock.pendingTimers, 0);
    });

    it("builds a new client when configured again, even with the same credentials, and passes the watched keys then", () => {
      b.connection.configure(admin);
      b.connection.endpoint().watcher.watch("abc123", "ns/m1");
      b.connection.unconfigure("gone");
      assert.deepEqual(b.changes, [], "nothing to reconcile against while unconfigured");

      b.connection.configure(admin);
      assert.equal(b.clients.length, 2);
      assert.deepEqual(b.changes, [{ key: "ns/m1", endpointUrl: maas.url }]);
    });
  });

  describe("close()", () => {
    it("closes the client and forgets the endpoint", () => {
      b.connection.configure(admin);
      b.connection.close();
      assert.equal(b.clients[0]?.closes, 1);
      assert.throws(() => b.connection.endpoint(), MaasNotConfiguredError);
    });
  });

  describe("endpoint().version()", () => {
    it("reads the MAAS version once and answers later calls from the cache", async () => {
      b.connection.configure(admin);
      const endpoint = b.connection.endpoint();
      const [first, second] = await Promise.all([endpoint.version(), endpoint.version()]);
      const third = await endpoint.version();
      assert.deepEqual({ major: first.major, minor: first.minor, patch: first.patch }, { major: 3, minor: 5, patch: 4 });
      assert.equal(second, first);
      assert.equal(third, first);
      assert.equal(versionReads(), 1);
    });

    it("reads it again on the next call when a read failed", async () => {
      versionFailures = 1;
      b.connection.configure(admin);
      const endpoint = b.connection.endpoint();
      await assert.rejects(endpoint.version(), MaasUnavailableError);
      const version = await endpoint.version();
      assert.equal(version.raw.startsWith("3.5.4"), true);
      await endpoint.version();
      assert.equal(versionReads(), 2);
    });

    it("refuses a version it cannot parse, and reads it again on the next call", async () => {
      versionText = "unknown";
      b.connection.configure(admin);
      const endpoint = b.connection.endpoint();
      await assert.rejects(endpoint.version(), /cannot be parsed: "unknown"/);
      versionText = "3.6.1";
      assert.equal((await endpoint.version()).minor, 6);
      assert.equal(versionReads(), 2);
    });

    it("is read again for new credentials, which may name another MAAS", async () => {
      b.connection.configure(admin);
      await b.connection.endpoint().version();
      b.connection.configure(operator);
      await b.connection.endpoint().version();
      assert.equal(versionReads(), 2);
    });
  });
});
