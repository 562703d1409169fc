import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { repoRoot } from "./binaries.ts";
import { isAlive, killAll, pidsMentioning, waitUntilGone } from "./pids.ts";

const bin = join(repoRoot, "bin", "testenv.mjs");

interface RunningCli {
  proc: ChildProcess;
  /** The CLI's own pid: proc's, or when started via a shell, the one the shell reported. */
  cliPid: number | undefined;
  kubeconfigPath: string;
  stdoutLines: string[];
  exited: Promise<number | null>;
}

/** Starts `testenv up` and waits for its KUBECONFIG line. */
async function startCli(args: string[], options: { viaShell?: boolean } = {}): Promise<RunningCli> {
  const command = [process.execPath, bin, "up", ...args];
  // Under a shell that stays (node runs in the background and the shell waits),
  // so node has a parent that can die; the shell tells us node's pid.
  const proc = options.viaShell
    ? spawn("sh", ["-c", `${command.map((a) => `'${a}'`).join(" ")} & echo "CLI_PID=$!"; wait`], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] })
    : spawn(command[0]!, command.slice(1), { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  let stderr = "";
  proc.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const stdoutLines: string[] = [];
  const lines = createInterface({ input: proc.stdout! });
  const kubeconfigPath = await new Promise<string>((resolve, reject) => {
    lines.on("line", (line) => {
      stdoutLines.push(line);
      if (line.startsWith("KUBECONFIG=")) resolve(line.slice("KUBECONFIG=".length));
    });
    void exited.then((code) => reject(new Error(`testenv up exited with ${String(code)} before it was ready:\n${stderr}`)));
  });
  const reported = stdoutLines.find((line) => line.startsWith("CLI_PID="));
  const cliPid = reported ? Number(reported.slice("CLI_PID=".length)) : proc.pid;
  return { proc, cliPid, kubeconfigPath, stdoutLines, exited };
}

describe("testenv up", () => {
  it("prints KUBECONFIG=<path>, then on SIGTERM exits 0 leaving no process and no directory", async () => {
    let cli: RunningCli | undefined;
    let children: number[] = [];
    try {
      cli = await startCli(["--no-crds"]);
      const dir = dirname(cli.kubeconfigPath);
      assert.match(await readFile(cli.kubeconfigPath, "utf8"), /server: https:\/\/127\.0\.0\.1:\d+/);
      children = pidsMentioning(dir);
      assert.equal(children.length, 2, "etcd and kube-apiserver");

      cli.proc.kill("SIGTERM");
      assert.equal(await cli.exited, 0);
      assert.deepEqual(cli.stdoutLines, [`KUBECONFIG=${cli.kubeconfigPath}`]);
      assert.deepEqual(children.filter(isAlive), []);
      assert.equal(existsSync(dir), false);
    } finally {
      if (cli?.cliPid !== undefined) killAll([cli.cliPid]);
      killAll(children);
    }
  });

  describe("when nothing reads its stdout and stderr any more (testenv up | head -1, a harness that died)", () => {
    it("still tears down on SIGTERM and exits 0, leaving no process and no directory", async () => {
      let cli: RunningCli | undefined;
      let children: number[] = [];
      let dir: string | undefined;
      try {
        cli = await startCli(["--no-crds"]);
        dir = dirname(cli.kubeconfigPath);
        children = pidsMentioning(dir);
        assert.equal(children.length, 2, "etcd and kube-apiserver");
        // What head -1 does once it has its line: exit, closing the pipes' read ends.
        cli.proc.stdout?.destroy();
        cli.proc.stderr?.destroy();

        cli.proc.kill("SIGTERM"); // it logs "stopping" into the closed pipe
        let timer: NodeJS.Timeout | undefined;
        // Generous: a liveness check, not a timing test.
        const late = new Promise<"still running">((resolve) => (timer = setTimeout(() => resolve("still running"), 30_000)));
        const outcome = await Promise.race([cli.exited, late]);
        clearTimeout(timer);
        assert.equal(outcome, 0);
        assert.deepEqual(children.filter(isAlive), []);
        assert.equal(existsSync(dir), false);
      } finally {
        if (cli?.cliPid !== undefined) killAll([cli.cliPid]);
        killAll(children);
        if (dir) await rm(dir, { recursive: true, force: true });
      }
    });
  });

  describe("when the CLI process is killed with SIGKILL", () => {
    it("etcd and kube-apiserver exit on their own once their stdin closes", async () => {
      let cli: RunningCli | undefined;
      let children: number[] = [];
      let dir: string | undefined;
      try {
        cli = await startCli(["--no-crds"]);
        dir = dirname(cli.kubeconfigPath);
        children = pidsMentioning(dir);
        assert.equal(children.length, 2);

        cli.proc.kill("SIGKILL");
        await cli.exited;
        assert.deepEqual(await waitUntilGone(children, 10_000), []);
      } finally {
        if (cli?.cliPid !== undefined) killAll([cli.cliPid]);
        killAll(children);
        // Nothing was left to clean up after a SIGKILL; the test does it.
        if (dir) await rm(dir, { recursive: true, force: true });
      }
    });
  });

  describe("when its parent process dies (as under npx, whose shell does not pass SIGTERM on)", () => {
    it("tears down as on SIGTERM, leaving no process and no directory", async () => {
      let shell: RunningCli | undefined;
      let children: number[] = [];
      let dir: string | undefined;
      try {
        shell = await startCli(["--no-crds"], { viaShell: true });
        dir = dirname(shell.kubeconfigPath);
        children = pidsMentioning(dir);
        assert.equal(children.length, 2);

        shell.proc.kill("SIGKILL");
        await shell.exited;
        assert.deepEqual(await waitUntilGone(children, 15_000), []);
        const deadline = Date.now() + 5000;
        while (existsSync(dir) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
        assert.equal(existsSync(dir), false);
        assert.ok(shell.cliPid !== undefined && shell.cliPid !== shell.proc.pid);
        assert.deepEqual(await waitUntilGone([shell.cliPid], 5000), []);
      } finally {
        if (shell?.cliPid !== undefined) killAll([shell.cliPid]);
        killAll(children);
        if (dir) await rm(dir, { recursive: true, force: true });
      }
    });
  });
});

describe("with-testenv", () => {
  it("runs the command against a control plane it removes afterwards, and exits with the command's code", async () => {
    const script = join(repoRoot, "test", "testenv", "with-testenv.ts");
    const probe = [
      "const k = process.env.TESTENV_KUBECONFIG;",
      "process.stdout.write(k ?? '');",
      "process.exit(k && k === process.env.KUBECONFIG && require('fs').existsSync(k) ? 7 : 1);",
    ].join(" ");
    const proc = spawn(process.execPath, ["--import", "tsx", script, "--", process.execPath, "-e", probe], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
    });
    proc.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    try {
      const code = await new Promise<number | null>((resolve) => proc.once("exit", resolve));
      assert.equal(code, 7, stderr);
      const dir = dirname(stdout);
      assert.ok(dir.length > 1, "the command saw a kubeconfig path");
      assert.deepEqual(pidsMentioning(dir), []);
      assert.equal(existsSync(dir), false);
    } finally {
      if (proc.pid !== undefined) killAll([proc.pid]);
    }
  });
});
