// A test process that ends without calling stop(), by a signal or a crash,
// must still take its control plane and temp dir with it (children.ts).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { createInterface } from "node:readline";
import { repoRoot } from "./binaries.ts";
import { killAll, pidsMentioning, waitUntilGone } from "./pids.ts";

const testEnvModule = new URL("./test-env.ts", import.meta.url).href;

/** Starts a control plane in a fresh node process, which prints DIR=<dir> and then does `then`. */
function startOwner(then: string) {
  const script = [
    `import { startTestEnv } from ${JSON.stringify(testEnvModule)};`,
    "const env = await startTestEnv({ installCrds: false, log: () => undefined });",
    "process.stdout.write(`DIR=${env.dir}\\n`);",
    "setInterval(() => undefined, 1000);",
    then,
  ].join("\n");
  const proc = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  proc.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const dir = new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout }).on("line", (line) => {
      if (line.startsWith("DIR=")) resolve(line.slice("DIR=".length));
    });
    void exited.then((exit) => reject(new Error(`exited (${JSON.stringify(exit)}) before its control plane was up:\n${stderr}`)));
  });
  return { proc, dir, exited };
}

describe("a process that ends without stop()", () => {
  // [situation, what the process does once its control plane is up, signal we send, how it must end]
  const cases: [string, string, NodeJS.Signals | undefined, { code: number | null; signal: NodeJS.Signals | null }][] = [
    ["on SIGTERM", "", "SIGTERM", { code: null, signal: "SIGTERM" }],
    ["on SIGINT", "", "SIGINT", { code: null, signal: "SIGINT" }],
    ["on an uncaught exception (a crashed test)", "setTimeout(() => { throw new Error('boom'); }, 10);", undefined, { code: 1, signal: null }],
    ["on process.exit", "setTimeout(() => process.exit(3), 10);", undefined, { code: 3, signal: null }],
  ];
  for (const [situation, then, signal, expectedExit] of cases) {
    it(`${situation}: ends as Node would, leaving no etcd, kube-apiserver or temp dir`, async () => {
      const owner = startOwner(then);
      let dir: string | undefined;
      let children: number[] = [];
      try {
        dir = await owner.dir;
        children = pidsMentioning(dir);
        assert.equal(children.length, 2, "etcd and kube-apiserver");
        if (signal) owner.proc.kill(signal);
        assert.deepEqual(await owner.exited, expectedExit);
        assert.deepEqual(await waitUntilGone(children, 10_000), []);
        assert.equal(existsSync(dir), false);
      } finally {
        if (owner.proc.pid !== undefined) killAll([owner.proc.pid]);
        killAll(children);
        if (dir) await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
