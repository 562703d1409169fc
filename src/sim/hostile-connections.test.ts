// Clients that hold connections open: the simulator runs as its own process, so
// its descriptor count and memory are read from /proc without this test's sockets.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { rawConnection, startSimProcess, until, type RawConnection, type SimProcess } from "./test-process.ts";

const VERSION_REQUEST = "GET /MAAS/api/2.0/version/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
const MiB = 1024 * 1024;

function settle(connections: RawConnection[]): void {
  for (const c of connections) c.socket.destroy();
}

/** A well-behaved client's call while the attack goes on. */
async function served(sim: SimProcess): Promise<void> {
  const reply = await sim.client.get("version/", {}, { auth: "none" });
  assert.equal(reply.status, 200);
}

describe("hostile clients holding connections", () => {
  describe("when clients connect and never send a byte", () => {
    let sim: SimProcess;
    before(async () => (sim = await startSimProcess(["--request-timeout-seconds", "1"])));
    after(() => sim.stop());

    it("closes each without an answer within the request timeout, serves others meanwhile, and its descriptors return to their baseline", { timeout: 60_000 }, async () => {
      const baseline = sim.fds();
      const idle = await Promise.all(Array.from({ length: 200 }, () => rawConnection(sim.port)));
      try {
        await until(() => sim.fds() >= baseline + 200, 10_000, "the simulator to accept all 200");
        await served(sim);
        await until(() => idle.every((c) => c.isClosed()), 20_000, "the simulator to close every idle connection");
        assert.deepEqual(idle.filter((c) => c.received() !== "").map((c) => c.received()), []);
        await until(() => sim.fds() <= baseline + 2, 10_000, `descriptors back to ${baseline} (now ${sim.fds()})`);
      } finally {
        settle(idle);
      }
    });
  });

  describe("when clients send their headers a byte at a time (slowloris)", () => {
    let sim: SimProcess;
    before(async () => (sim = await startSimProcess(["--request-timeout-seconds", "1"])));
    after(() => sim.stop());

    it("cuts each off with 408 before its headers are done, serves others meanwhile, and its descriptors return to their baseline", { timeout: 60_000 }, async () => {
      const baseline = sim.fds();
      // 50 ms a byte: the head would take 20 s to arrive, twenty times the timeout.
      const head = `GET /MAAS/api/2.0/version/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${"a".repeat(360)}\r\n\r\n`;
      const slow = await Promise.all(Array.from({ length: 30 }, () => rawConnection(sim.port)));
      const sent = slow.map(() => 0);
      const dripping = slow.map(async (c, i) => {
        while (!c.isClosed() && (sent[i] ?? 0) < head.length) {
          c.socket.write(head.charAt(sent[i] ?? 0));
          sent[i] = (sent[i] ?? 0) + 1;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      });
      try {
        await until(() => sent.every((n) => n > 10), 10_000, "every slow client to start");
        await served(sim);
        await until(() => slow.every((c) => c.isClosed()), 20_000, "the simulator to cut every slow client off");
        await Promise.all(dripping);
        for (const [i, c] of slow.entries()) {
          assert.ok((sent[i] ?? 0) < head.length, "cut off before the head was complete");
          assert.match(c.received(), /^HTTP\/1\.1 408 Request Time-out\r\n[\s\S]*\r\n\r\nRequest Time-out\n$/);
        }
        await until(() => sim.fds() <= baseline + 2, 10_000, `descriptors back to ${baseline} (now ${sim.fds()})`);
      } finally {
        settle(slow);
      }
    });
  });

  describe("when a client opens a connection per request and never closes any (as spectrocloud maas-client-go does)", () => {
    const max = 100;
    let sim: SimProcess;
    before(async () => (sim = await startSimProcess(["--max-connections", String(max)])));
    after(() => sim.stop());

    it("holds at most --max-connections of them, closing the oldest idle ones, with bounded memory", { timeout: 180_000 }, async () => {
      const baseline = sim.fds();
      const leaked: RawConnection[] = [];
      let peakFds = 0;
      let rssAfterWarmUp = 0;
      // RSS climbs for the first few thousand requests as the heap settles, then stays:
      // the second half is what a leak per connection would show in.
      const total = 6000;
      try {
        for (let done = 0; done < total; done += 10) {
          // Ten at a time, each waiting for its answer, none ever closed by the client.
          const batch = await Promise.all(Array.from({ length: 10 }, () => rawConnection(sim.port, VERSION_REQUEST)));
          leaked.push(...batch);
          await until(() => batch.every((c) => /\r\n\r\n\{.*\}$/.test(c.received())), 10_000, "the answers");
          for (const c of batch) assert.match(c.received(), /^HTTP\/1\.1 200 OK\r\n/);
          if (done % 100 === 0) peakFds = Math.max(peakFds, sim.fds());
          if (done === total / 2) rssAfterWarmUp = sim.rssBytes();
        }
        const growth = sim.rssBytes() - rssAfterWarmUp;
        assert.ok(peakFds <= baseline + max + 5, `descriptors peaked at ${peakFds}, baseline ${baseline}, cap ${max}`);
        assert.ok(leaked[0]?.isClosed(), "the oldest connection was closed by the simulator");
        assert.ok(!leaked.at(-1)?.isClosed(), "the newest connection is still open");
        assert.ok(growth < 16 * MiB, `RSS grew by ${(growth / MiB).toFixed(1)} MiB over the last ${total / 2} requests`);
        await served(sim);
      } finally {
        settle(leaked);
      }
    });
  });

  describe("when every connection up to --max-connections is busy", () => {
    const max = 8;
    let sim: SimProcess;
    before(async () => (sim = await startSimProcess(["--max-connections", String(max), "--request-timeout-seconds", "3"])));
    after(() => sim.stop());

    it("closes a new connection at once without an answer, and serves again once they are done", { timeout: 60_000 }, async () => {
      const baseline = sim.fds();
      // Each has sent its head and part of its body: a request in progress, not idle.
      const partial = "POST /MAAS/api/2.0/machines/?op=allocate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nsystem_id=";
      const busy = await Promise.all(Array.from({ length: max }, () => rawConnection(sim.port, partial)));
      try {
        await until(() => sim.fds() >= baseline + max, 10_000, "the simulator to accept them");
        const refused = await rawConnection(sim.port, VERSION_REQUEST);
        await refused.closed;
        assert.equal(refused.received(), "");
        assert.ok(busy.every((c) => !c.isClosed()), "the busy connections were kept");
        await until(() => busy.every((c) => c.isClosed()), 20_000, "the request timeout to end the busy ones");
        await served(sim);
      } finally {
        settle(busy);
      }
    });
  });

  describe("when clients send bodies far over --max-body-bytes (declared or chunked)", () => {
    let sim: SimProcess;
    before(async () => (sim = await startSimProcess(["--max-body-bytes", String(MiB)])));
    after(() => sim.stop());

    it("answers each 413 and buffers none of it", { timeout: 120_000 }, async () => {
      const rssBefore = sim.rssBytes();
      const chunk = `10000\r\n${"a".repeat(0x10000)}\r\n`;
      const declared = "POST /MAAS/api/2.0/machines/?op=allocate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 104857600\r\n\r\n";
      const chunked = "POST /MAAS/api/2.0/machines/?op=allocate HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n";
      const clients = await Promise.all(Array.from({ length: 16 }, (_, i) => rawConnection(sim.port, i % 2 === 0 ? declared : chunked)));
      try {
        // 32 MiB each at most, sent whatever the answer, until the simulator closes the connection.
        await Promise.all(
          clients.map(async (c, i) => {
            for (let sent = 0; sent < 32 * MiB && !c.isClosed(); sent += 0x10000) {
              if (!c.socket.write(i % 2 === 0 ? "a".repeat(0x10000) : chunk)) await Promise.race([new Promise((r) => c.socket.once("drain", r)), c.closed]);
            }
          }),
        );
        await until(() => clients.every((c) => c.isClosed()), 20_000, "the simulator to close every connection");
        for (const c of clients) assert.match(c.received(), /^HTTP\/1\.1 413 Request Entity Too Large\r\n[\s\S]*\r\n\r\nRequest Entity Too Large\n$/);
        // They sent up to 512 MiB in all: keeping it would grow RSS by about as much.
        const growth = sim.rssBytes() - rssBefore;
        assert.ok(growth < 128 * MiB, `RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
        await served(sim);
      } finally {
        settle(clients);
      }
    });
  });
});
