import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { createLogger, shutdownLogger } from "./index.ts";

const index = fileURLToPath(new URL("./index.ts", import.meta.url));
// Generous: this checks that the process ends at all, not how fast.
const EXIT_BOUND_MS = 10_000;

// A command shaped like maas-sim: kept alive by a server until SIGTERM, then logs
// more than a pipe holds, writes to stdout, and exits through shutdownLogger.
const command = `
import { createLogger, installStreamGuards, shutdownLogger } from ${JSON.stringify(index)};
installStreamGuards();
const logger = createLogger({ level: "info" });
const server = setInterval(() => undefined, 1000);
process.on("SIGTERM", async () => {
  clearInterval(server);
  for (let i = 0; i < 2000; i++) logger.info({ i, pad: "x".repeat(200) }, "stopping");
  process.stdout.write("stopped\\n");
  await shutdownLogger(logger, { timeoutMs: 500 });
  process.exit(0);
});
// Ready only once the handler is in place: before, SIGTERM's default action would kill it.
process.stdout.write("ready\\n");
`;

interface Started {
  child: ChildProcess;
  exit: Promise<number | null>;
}

async function startCommand(): Promise<Started> {
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", command], { stdio: ["ignore", "pipe", "pipe"] });
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once("data", () => resolve());
    void exit.then((code) => reject(new Error(`exited with ${String(code)} before it was ready`)));
  });
  return { child, exit };
}

function kill(child: ChildProcess): void {
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, "SIGKILL");
}

async function exitsWithin(started: Started, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), ms)));
  try {
    const result = await Promise.race([started.exit, late]);
    assert.notEqual(result, "late", `still running ${ms} ms after SIGTERM`);
    return result as number | null;
  } finally {
    clearTimeout(timer);
  }
}

describe("a command that ends through shutdownLogger", () => {
  describe("when the reader of its stdout and stderr has gone (EPIPE)", () => {
    it("exits 0 on SIGTERM", { timeout: 30_000 }, async () => {
      const started = await startCommand();
      try {
        started.child.stdout?.destroy();
        started.child.stderr?.destroy();
        process.kill(started.child.pid as number, "SIGTERM");
        assert.equal(await exitsWithin(started, EXIT_BOUND_MS), 0);
      } finally {
        kill(started.child);
      }
    });
  });

  describe("when the reader is still there but has stopped reading (a full pipe)", () => {
    it("exits 0 on SIGTERM once the flush deadline passes", { timeout: 30_000 }, async () => {
      const started = await startCommand();
      try {
        started.child.stderr?.pause();
        started.child.stdout?.resume();
        process.kill(started.child.pid as number, "SIGTERM");
        assert.equal(await exitsWithin(started, EXIT_BOUND_MS), 0);
      } finally {
        kill(started.child);
      }
    });
  });
});

describe("shutdownLogger", () => {
  it("flushes a child logger of a logger with its own destination, and resolves", async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ level: "info", destination }).child({ component: "test" });
    logger.info("last words");
    await shutdownLogger(logger, { timeoutMs: 1_000 });
    assert.equal(lines.length, 1);
  });
});
