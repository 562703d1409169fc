import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { httpCall } from "./api-request.ts";
import { Child } from "./children.ts";
import { ExitedBeforeReadyError, waitUntilReady } from "./probe.ts";

/** A loopback HTTP server on port 0 answering with handler; closed in after(). */
async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === "object");
  return { server, url: `http://127.0.0.1:${String(address.port)}` };
}

describe("readiness probes", () => {
  let dir: string;
  let healthy: { server: Server; url: string };
  let stalling: { server: Server; url: string };
  const children: Child[] = [];

  /** A stand-in for a control-plane process: it only has to be running, or not. */
  function sleeper(seconds: number): Child {
    const child = new Child({ name: "sleeper", command: "sleep", args: [String(seconds)], logPath: join(dir, "sleeper.log") });
    children.push(child);
    return child;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "testenv-probe-"));
    // Another etcd on "our" port: healthy, but a member list without our member.
    healthy = await listen((req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(req.url === "/health" ? '{"health":"true"}' : '{"members":[{"name":"someone-else"}]}');
    });
    // Sends headers and half a body, then nothing: only a bound on the whole call ends the wait.
    stalling = await listen((_req, res) => {
      res.writeHead(200, { "content-length": "100" });
      res.write("partial");
    });
  });

  after(async () => {
    await Promise.all(children.map((child) => child.kill()));
    healthy?.server.closeAllConnections();
    stalling?.server.closeAllConnections();
    healthy?.server.close();
    stalling?.server.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("is ready when the server answers 200 with the expected marker", async () => {
    const child = sleeper(30);
    await waitUntilReady(child, [{ url: `${healthy.url}/health` }, { url: `${healthy.url}/v3/cluster/member/list`, method: "POST", jsonBody: "{}", bodyIncludes: '"someone-else"' }], 5000);
  });

  it("does not take another server's answer on our port for our process's", async () => {
    const child = sleeper(30);
    const targets = [{ url: `${healthy.url}/health` }, { url: `${healthy.url}/v3/cluster/member/list`, method: "POST" as const, jsonBody: "{}", bodyIncludes: '"testenv-ours"' }];
    await assert.rejects(waitUntilReady(child, targets, 500), /sleeper \(pid \d+\) not ready after 500 ms .*another server on this port\?/);
  });

  it("stops waiting as soon as the process exits, naming its log", async () => {
    const child = sleeper(0);
    await child.exited;
    await assert.rejects(waitUntilReady(child, [{ url: `${healthy.url}/health` }], 5000), (err: unknown) => {
      assert.ok(err instanceof ExitedBeforeReadyError);
      assert.match(err.message, /sleeper exited before it was ready \(code 0.*sleeper\.log/);
      return true;
    });
  });

  it("gives up on a server that stalls mid-answer, within its bound", { timeout: 10_000 }, async () => {
    const child = sleeper(30);
    const started = Date.now();
    await assert.rejects(waitUntilReady(child, [{ url: stalling.url }], 1500), /not ready after 1500 ms \(GET \/: no complete answer after \d+ ms\)/);
    assert.ok(Date.now() - started < 5000);
  });

  it("bounds a single call as a whole, not only while the socket idles", { timeout: 10_000 }, async () => {
    await assert.rejects(httpCall(new URL(stalling.url), { timeoutMs: 300 }), /GET \/: no complete answer after 300 ms/);
  });
});
