// Request limits at the wire, with raw sockets: what a client that sends too much,
// too slowly, or gives up half-way gets, and what it costs the simulator.
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { createLogger } from "../observability/index.ts";
import { startHarness, type Harness } from "./test-support.ts";

const LIMIT = 64 * 1024;
const ALLOCATE = "/MAAS/api/2.0/machines/?op=allocate";

interface Conversation {
  socket: Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** Resolves when the server closed the connection (or it broke). */
  closed: Promise<void>;
}

function open(port: number, head: string): Promise<Conversation> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(head);
      resolve({ socket, received: () => data, closed });
    });
    let data = "";
    socket.on("data", (chunk: Buffer) => (data += chunk.toString("latin1")));
    // Writes after the server closed fail with EPIPE/ECONNRESET: that is the point of these tests.
    socket.on("error", () => undefined);
    const closed = new Promise<void>((done) => socket.once("close", () => done()));
    socket.once("error", reject);
  });
}

function head(lines: string[]): string {
  return [`POST ${ALLOCATE} HTTP/1.1`, "Host: 127.0.0.1", "Content-Type: application/x-www-form-urlencoded", ...lines, "", ""].join("\r\n");
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // Waiting on a real server over real sockets: no simulated time is involved.
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function capture(): { stream: Writable; levels: () => number[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split("\n").filter((l) => l !== ""));
      done();
    },
  });
  return { stream, levels: () => lines.map((l) => (JSON.parse(l) as { level: number }).level) };
}

describe("request limits", () => {
  let h: Harness;
  const log = capture();
  before(async () => {
    h = await startHarness({ maxBodyBytes: LIMIT, requestTimeoutMs: 400, logger: createLogger({ level: "debug", destination: log.stream }) });
  });
  after(() => h.sim.close());

  describe("when Content-Length is over the limit", () => {
    it("answers 413 and closes before a byte of the body is sent, unauthenticated as it is", { timeout: 10_000 }, async () => {
      const c = await open(h.sim.port, head([`Content-Length: ${LIMIT + 1}`]));
      try {
        await until(() => c.received().includes("\r\n\r\n"), 5_000, "an answer to the headers alone");
        assert.match(c.received(), /^HTTP\/1\.1 413 /);
        assert.match(c.received(), /\r\nConnection: close\r\n/i);
        await c.closed;
      } finally {
        c.socket.destroy();
      }
    });
  });

  describe("when a client asks first (Expect: 100-continue, as curl does for large bodies)", () => {
    it("answers 413 instead of inviting a body over the limit", { timeout: 10_000 }, async () => {
      const c = await open(h.sim.port, head([`Content-Length: ${LIMIT + 1}`, "Expect: 100-continue"]));
      try {
        await until(() => c.received().includes("\r\n\r\n"), 5_000, "an answer to the headers");
        assert.match(c.received(), /^HTTP\/1\.1 413 /);
        await c.closed;
      } finally {
        c.socket.destroy();
      }
    });

    it("invites a body within the limit, and serves the request", { timeout: 10_000 }, async () => {
      const c = await open(h.sim.port, head(["Content-Length: 3", "Expect: 100-continue"]));
      try {
        await until(() => c.received().includes("\r\n\r\n"), 5_000, "100 Continue");
        assert.match(c.received(), /^HTTP\/1\.1 100 Continue\r\n\r\n$/);
        c.socket.write("a=b");
        await until(() => /\r\n\r\nHTTP\/1\.1 \d{3} [\s\S]*\r\n\r\n/.test(c.received()), 5_000, "the answer");
        // Unauthenticated machines/ goes to MAAS's anonymous handler: routed, so the body was read.
        assert.match(c.received(), /\r\n\r\nHTTP\/1\.1 400 [\s\S]*Unrecognised signature: method=POST op=allocate$/);
      } finally {
        c.socket.destroy();
      }
    });
  });

  describe("when a chunked body grows past the limit", () => {
    it("answers 413 and closes the connection without reading the rest", { timeout: 10_000 }, async () => {
      const c = await open(h.sim.port, head(["Transfer-Encoding: chunked"]));
      try {
        const chunk = `4000\r\n${"a".repeat(0x4000)}\r\n`;
        let sent = 0;
        // Four times the limit at most, and never the final chunk: only the limit can end this request.
        while (sent < 4 * LIMIT && !c.received().includes("\r\n\r\n") && !c.socket.destroyed) {
          c.socket.write(chunk);
          sent += 0x4000;
          await new Promise((resolve) => setImmediate(resolve));
        }
        await until(() => c.received().includes("\r\n\r\n"), 5_000, "the 413");
        assert.match(c.received(), /^HTTP\/1\.1 413 /);
        await c.closed;
      } finally {
        c.socket.destroy();
      }
    });
  });

  describe("when the body comes too slowly", () => {
    it("cuts the request off with 408 once the request timeout has passed", { timeout: 10_000 }, async () => {
      const startedMs = Date.now();
      const c = await open(h.sim.port, head(["Content-Length: 100"]));
      try {
        c.socket.write("system_id=");
        await c.closed;
        assert.match(c.received(), /^HTTP\/1\.1 408 /);
        assert.ok(Date.now() - startedMs >= 350, "not before the timeout");
      } finally {
        c.socket.destroy();
      }
    });
  });

  describe("when the client disconnects half-way through the body", () => {
    it("logs it below error level: the client's doing, not a simulator failure", { timeout: 10_000 }, async () => {
      const before = log.levels().length;
      const c = await open(h.sim.port, head(["Content-Length: 100"]));
      c.socket.write("system_id=");
      await new Promise((resolve) => setTimeout(resolve, 50)); // let the server start reading the body
      c.socket.destroy();
      await until(() => log.levels().length > before, 5_000, "the simulator to notice");
      const errorLevel = 50;
      assert.deepEqual(log.levels().slice(before).filter((level) => level >= errorLevel), []);
    });
  });
});

describe("a deploy with large user data, under the default limits", () => {
  it("is served", { timeout: 30_000 }, async () => {
    const h = await startHarness({ machines: 1 });
    try {
      const systemId = h.sim.state().machines[0]?.systemId ?? "";
      const userData = Buffer.alloc(4 * 1024 * 1024, "#cloud-config\n").toString("base64"); // 5.3 MiB on the wire
      const reply = await h.client.post(`machines/${systemId}/`, "deploy", { user_data: userData });
      assert.equal(reply.status, 200, reply.text);
      assert.equal(h.sim.state().machines[0]?.userData, userData);
    } finally {
      await h.sim.close();
    }
  });
});
