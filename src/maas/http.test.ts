import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { inspect } from "node:util";
import { FakeClock } from "../clock/index.ts";
import { createLogger } from "../observability/index.ts";
import { MaasClient, type MaasClientOptions } from "./client.ts";
import { MaasError, MaasNetworkError, MaasTimeoutError } from "./errors.ts";
import { backoffDelayMs } from "./retry.ts";
import { API_KEY, RecordingClock, json, scriptedServer, text, waitFor, withoutRetry, type Handler, type ScriptedServer } from "./test-support.ts";

const openServers: ScriptedServer[] = [];
const openClients: MaasClient[] = [];

/** A scripted server closed after each test. */
async function serve(handler: Handler, port = 0): Promise<ScriptedServer> {
  const server = await scriptedServer(handler, { port });
  openServers.push(server);
  return server;
}

/** Deterministic uniform [0, 1) source (mulberry32). */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function client(server: ScriptedServer, clock: FakeClock, options: Partial<MaasClientOptions> = {}): MaasClient {
  const result = new MaasClient({ endpoint: server.url, apiKey: API_KEY, clock, random: () => 0.5, ...options });
  openClients.push(result);
  return result;
}

/** Lets `promise` finish, advancing the clock through each backoff sleep the client takes. */
async function driveSleeps<T>(promise: Promise<T>, clock: RecordingClock): Promise<T> {
  let done = false;
  promise.then(() => (done = true), () => (done = true));
  let handled = 0;
  while (!done) {
    const next = clock.sleeps[handled];
    if (next === undefined) await new Promise((resolve) => setTimeout(resolve, 1));
    else {
      handled++;
      await clock.advance(next);
    }
  }
  return promise;
}

function oauthFields(header: string | undefined): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of (header ?? "").matchAll(/([a-z_]+)="([^"]*)"/g)) fields[match[1] as string] = decodeURIComponent(match[2] as string);
  return fields;
}

const version = { version: "3.6.0", subversion: "", capabilities: ["authenticate-api"] };
const machine = {
  system_id: "abc123", hostname: "h", fqdn: "h.maas", status: 10, status_name: "Allocated", power_state: "off",
  cpu_count: 2, memory: 4096, zone: { name: "default" }, pool: { name: "default" }, tag_names: [], ip_addresses: [],
  osystem: "", distro_series: "", owner: "admin",
};

afterEach(async () => {
  for (const c of openClients.splice(0)) c.close();
  for (const s of openServers.splice(0)) await s.close();
});

describe("MAAS HTTP exchange", () => {
  describe("when MAAS answers at once", () => {
    it("sends a signed request with op in the query and a form body", async () => {
      const clock = new FakeClock(Date.UTC(2026, 0, 1, 0, 0, 10));
      const server = await serve((_req, res) => json(res, 200, machine));
      await client(server, clock).machines.allocate({ tags: ["a", "b"], cpuCount: 2 });
      const [request] = server.requests;
      assert.ok(request);
      assert.equal(request.method, "POST");
      assert.equal(request.url, "/MAAS/api/2.0/machines/?op=allocate");
      assert.equal(request.headers["content-type"], "application/x-www-form-urlencoded");
      assert.equal(request.body, "cpu_count=2&tags=a&tags=b");
      assert.equal(request.headers.accept, "application/json");
      assert.deepEqual({ ...oauthFields(request.headers.authorization), oauth_nonce: "-" }, {
        realm: "",
        oauth_consumer_key: "consumerKEY1",
        oauth_token: "tokenKEY22",
        oauth_signature_method: "PLAINTEXT",
        oauth_signature: "&tokenSECRET333",
        oauth_timestamp: String(Date.UTC(2026, 0, 1, 0, 0, 10) / 1000),
        oauth_nonce: "-",
        oauth_version: "1.0",
      });
    });

    it("signs each request with a fresh nonce and reuses the connection", async () => {
      const server = await serve((_req, res) => json(res, 200, version));
      const maas = client(server, new FakeClock());
      await maas.version.get();
      await maas.version.get();
      const nonces = server.requests.map((r) => oauthFields(r.headers.authorization).oauth_nonce);
      assert.equal(new Set(nonces).size, 2);
      assert.equal(server.connections, 1);
      assert.equal(server.requests[0]?.url, "/MAAS/api/2.0/version/");
    });

    it("accepts an endpoint that already ends in /api/2.0/", async () => {
      const server = await serve((_req, res) => json(res, 200, []));
      const maas = new MaasClient({ endpoint: `${server.url}/api/2.0//`, apiKey: API_KEY });
      openClients.push(maas);
      await maas.zones.list();
      assert.equal(server.requests[0]?.url, "/MAAS/api/2.0/zones/");
    });

    it("treats a 204 with an empty body as success", async () => {
      const server = await serve((_req, res) => {
        res.writeHead(204);
        res.end();
      });
      await client(server, new FakeClock()).dnsResources.delete(5);
      assert.equal(server.requests[0]?.method, "DELETE");
      assert.equal(server.requests[0]?.url, "/MAAS/api/2.0/dnsresources/5/");
    });

    it("reports a 200 that is not JSON as Unexpected", async () => {
      const server = await serve((_req, res) => text(res, 200, "<html>proxy login</html>"));
      await assert.rejects(client(server, new FakeClock()).zones.list(), { code: "Unexpected", op: "GET zones/" });
    });
  });

  describe("when MAAS refuses", () => {
    it("reads 400 form errors into fieldErrors", async () => {
      const server = await serve((_req, res) => json(res, 400, { tags: ["No such tag(s): 'nope'."] }));
      await assert.rejects(client(server, new FakeClock()).machines.allocate({ tags: ["nope"] }), (error: unknown) => {
        assert.ok(error instanceof MaasError);
        assert.equal(error.code, "BadRequest");
        assert.deepEqual((error as MaasError & { fieldErrors: unknown }).fieldErrors, { tags: ["No such tag(s): 'nope'."] });
        assert.equal(error.op, "POST machines/?op=allocate");
        return true;
      });
      assert.equal(server.requests.length, 1);
    });

    it("maps 409 to Conflict without retrying", async () => {
      const server = await serve((_req, res) => text(res, 409, "No machine available."));
      await assert.rejects(client(server, new FakeClock()).machines.allocate(), { code: "Conflict", status: 409, body: "No machine available." });
      assert.equal(server.requests.length, 1);
    });

    it("never lets any part of the key into the error, even when MAAS echoes it", async () => {
      const server = await serve((_req, res) =>
        text(res, 401, "Authorization Error: 'Invalid access token: tokenKEY22'", { "WWW-Authenticate": 'OAuth realm="OAuth"' }),
      );
      const error = await client(server, new FakeClock()).machines.get("abc123").catch((e: unknown) => e);
      assert.ok(error instanceof MaasError);
      assert.equal(error.code, "Unauthorized");
      assert.match(error.body ?? "", /Invalid access token: \[REDACTED\]/);
      const everything = [error.message, error.body, String(error), error.stack, JSON.stringify(error), inspect(error, { depth: Infinity, showHidden: true })].join("\n");
      for (const part of API_KEY.split(":")) assert.ok(!everything.includes(part), `error leaks ${part}`);
      assert.ok(!everything.includes("WWW-Authenticate"));
    });
  });

  describe("when MAAS answers 503", () => {
    it("waits the Retry-After, then retries with a fresh nonce, even for allocate", async () => {
      const clock = new RecordingClock();
      const server = await serve((_req, res, index) =>
        index === 0 ? text(res, 503, "busy", { "Retry-After": "2" }) : json(res, 200, machine),
      );
      const pending = client(server, clock).machines.allocate({ agentName: "capi" });
      await waitFor(() => clock.sleeps.length === 1, "the backoff sleep");
      assert.deepEqual(clock.sleeps, [2000]);
      assert.equal(server.requests.length, 1);
      await clock.advance(1999);
      assert.equal(server.requests.length, 1);
      await clock.advance(1);
      const allocated = await pending;
      assert.equal(allocated.system_id, "abc123");
      assert.equal(server.requests.length, 2);
      const [first, second] = server.requests.map((r) => oauthFields(r.headers.authorization));
      assert.notEqual(first?.oauth_nonce, second?.oauth_nonce);
      assert.equal(Number(second?.oauth_timestamp) - Number(first?.oauth_timestamp), 2);
    });

    it("backs off exponentially with full jitter and gives up after maxAttempts", async () => {
      const clock = new RecordingClock();
      const retry = { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 1000 };
      const server = await serve((_req, res) => text(res, 503, "Unable to allocate static IP due to address exhaustion."));
      const maas = client(server, clock, { retry, random: seededRandom(42) });
      const error = await driveSleeps(maas.zones.list(), clock).catch((e: unknown) => e);
      assert.ok(error instanceof MaasError);
      assert.equal(error.code, "Unavailable");
      assert.equal(server.requests.length, 5);
      const expectedRandom = seededRandom(42);
      assert.deepEqual(clock.sleeps, [1, 2, 3, 4].map((attempt) => backoffDelayMs(attempt, retry, expectedRandom)));
    });

    it("surfaces a Retry-After longer than maxDelayMs at once, with retryAfterMs", async () => {
      const clock = new RecordingClock();
      const server = await serve((_req, res) => text(res, 503, "", { "Retry-After": "120" }));
      await assert.rejects(client(server, clock).zones.list(), { code: "Unavailable", retryAfterMs: 120_000 });
      assert.equal(server.requests.length, 1);
      assert.deepEqual(clock.sleeps, []);
    });
  });

  describe("when the connection breaks", () => {
    const resetFirst: Handler = (req, res, index) => {
      if (index === 0) res.socket?.destroy();
      else json(res, 200, req.url.includes("machines") ? machine : []);
    };

    it("retries a GET after a reset", async () => {
      const clock = new RecordingClock();
      const server = await serve(resetFirst);
      await driveSleeps(client(server, clock).zones.list(), clock);
      assert.equal(server.requests.length, 2);
    });

    it("does not retry an allocate after a reset: MAAS may have allocated", async () => {
      const clock = new RecordingClock();
      const server = await serve(resetFirst);
      const error = await withoutRetry(client(server, clock).machines.allocate(), clock);
      assert.ok(error instanceof MaasNetworkError);
      assert.equal(error.code, "Network");
      assert.equal(error.requestSent, true);
      assert.equal(server.requests.length, 1);
      assert.deepEqual(clock.sleeps, []);
    });

    it("retries a deploy whose connection was refused, since MAAS never saw it", async () => {
      const probe = await serve(() => undefined);
      const port = probe.port;
      await probe.close();
      openServers.splice(openServers.indexOf(probe), 1);
      const clock = new RecordingClock();
      const maas = new MaasClient({ endpoint: `http://127.0.0.1:${port}/MAAS`, apiKey: API_KEY, clock, random: () => 0.5 });
      openClients.push(maas);
      const pending = maas.machines.deploy("abc123", { distroSeries: "jammy" });
      await waitFor(() => clock.sleeps.length === 1, "the backoff after a refused connection");
      const server = await serve((_req, res) => json(res, 200, { ...machine, status: 9 }), port);
      await clock.advance(clock.sleeps[0] ?? 0);
      assert.equal((await pending).status, 9);
      assert.equal(server.requests.length, 1);
    });

    it("says a refused connection was never sent", async () => {
      const probe = await serve(() => undefined);
      const port = probe.port;
      await probe.close();
      openServers.splice(openServers.indexOf(probe), 1);
      const maas = new MaasClient({ endpoint: `http://127.0.0.1:${port}/MAAS`, apiKey: API_KEY, retry: { maxAttempts: 1 } });
      openClients.push(maas);
      const error = await maas.machines.release("abc123").catch((e: unknown) => e);
      assert.ok(error instanceof MaasNetworkError);
      assert.equal(error.requestSent, false);
      assert.equal(error.syscallCode, "ECONNREFUSED");
    });
  });

  describe("when MAAS does not answer", () => {
    const hang: Handler = () => undefined;

    it("times out each attempt and retries a GET", async () => {
      const clock = new RecordingClock();
      const server = await serve(hang);
      const pending = client(server, clock, { timeoutMs: 5000, retry: { maxAttempts: 2 } }).zones.list().catch((e: unknown) => e);
      await waitFor(() => server.requests.length === 1, "the first attempt");
      await clock.advance(5000);
      await waitFor(() => clock.sleeps.length === 1, "the backoff sleep");
      await clock.advance(clock.sleeps[0] ?? 0);
      await waitFor(() => server.requests.length === 2, "the second attempt");
      await clock.advance(5000);
      const error = await pending;
      assert.ok(error instanceof MaasTimeoutError);
      assert.equal(error.code, "Timeout");
      assert.equal(error.timeoutMs, 5000);
    });

    it("does not retry a deploy that timed out after sending", async () => {
      const clock = new RecordingClock();
      const server = await serve(hang);
      const outcome = withoutRetry(client(server, clock, { timeoutMs: 5000 }).machines.deploy("abc123", { ephemeralDeploy: true }), clock);
      await waitFor(() => server.requests.length === 1, "the attempt");
      await clock.advance(5000);
      const error = await outcome;
      assert.ok(error instanceof MaasTimeoutError);
      assert.equal(error.requestSent, true);
      assert.equal(error.op, "POST machines/abc123/?op=deploy");
      assert.deepEqual(clock.sleeps, []);
      assert.equal(server.requests.length, 1);
    });
  });
});

describe("closing the client", () => {
  it("lets a request in flight finish, drops idle connections, and stays usable", async () => {
    const clock = new RecordingClock();
    let answer: (() => void) | undefined;
    const server = await serve((req, res) => {
      if (req.url.includes("op=deploy")) answer = () => json(res, 200, { ...machine, status: 9 });
      else json(res, 200, version);
    });
    const maas = client(server, clock);
    await maas.version.get();
    const deploying = maas.machines.deploy("abc123", { distroSeries: "jammy" });
    await waitFor(() => answer !== undefined, "the deploy to reach MAAS");
    maas.close();
    answer?.();
    assert.equal((await deploying).status, 9);
    assert.equal(server.connections, 1);
    maas.close(); // now the connection is idle: dropped, and the next request opens another
    await maas.version.get();
    assert.equal(server.requests.length, 3);
    assert.equal(server.connections, 2);
  });
});

describe("MaasClient logging", () => {
  it("logs method, path, op and status at debug without the key, the header or user data", async () => {
    const lines: string[] = [];
    const destination = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done(); } });
    const logger = createLogger({ level: "debug", destination });
    const server = await serve((_req, res) => json(res, 200, machine));
    const maas = client(server, new FakeClock(), { logger });
    await maas.machines.deploy("abc123", { userData: "#cloud-config secret-bootstrap-token", ephemeralDeploy: true });
    const record = JSON.parse(lines.find((l) => l.includes('"status":200')) ?? "{}") as Record<string, unknown>;
    assert.equal(record.method, "POST");
    assert.equal(record.path, "machines/abc123/");
    assert.equal(record.op, "deploy");
    const all = lines.join("");
    const userDataB64 = Buffer.from("#cloud-config secret-bootstrap-token").toString("base64");
    for (const secret of [...API_KEY.split(":"), "secret-bootstrap-token", userDataB64, "OAuth "]) assert.ok(!all.includes(secret), `log leaks ${secret}`);
  });
});
