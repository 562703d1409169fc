import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";
import { TestClient } from "./test-support.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const bin = join(root, "bin", "maas-sim.mjs");

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function run(args: string[]): Run {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LOG_LEVEL: "info" } });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function firstLine(r: Run): Promise<string> {
  for (let i = 0; i < 300 && !r.stdout().includes("\n"); i++) {
    if (r.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50)); // waiting on a real child process, not on simulated time
  }
  const line = r.stdout().split("\n")[0] ?? "";
  assert.ok(line !== "", `no output; stderr: ${r.stderr()}`);
  return line;
}

/** The exit code, or "still running" (a flag taken that should not have been): the test then fails and stops it, instead of hanging. */
async function exitedWithin(r: Run, ms: number): Promise<number | null | "still running"> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"still running">((resolve) => (timer = setTimeout(() => resolve("still running"), ms)));
  const outcome = await Promise.race([r.exited, late]);
  clearTimeout(timer);
  return outcome;
}

function stop(r: Run): void {
  if (r.child.exitCode === null && r.child.pid !== undefined) process.kill(r.child.pid, "SIGTERM");
}

describe("maas-sim command", () => {
  const dir = mkdtempSync(join(tmpdir(), "maas-sim-cli-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("prints one line with the endpoint and key, serves MAAS, and exits 0 on SIGTERM with its state saved", async () => {
    const stateFile = join(dir, "state.json");
    const r = run(["--port", "0", "--machines", "2", "--api-key", "CK:TK:TS", "--seed", "3", "--state", stateFile, "--maas-version", "3.5.0", "--fault", "kind=unavailable,path=^/zones/$,times=1"]);
    try {
      const line = await firstLine(r);
      const match = /^MAAS_ENDPOINT=(http:\/\/127\.0\.0\.1:\d+\/MAAS) MAAS_API_KEY=CK:TK:TS$/.exec(line);
      assert.ok(match, line);
      const client = new TestClient(match[1] as string, "CK:TK:TS");
      assert.equal((await client.get("version/", {}, { auth: "none" })).json().version, "3.5.0");
      assert.equal((await client.get("zones/")).status, 503);
      assert.equal((await client.get("machines/")).json<unknown[]>().length, 2);
      await client.post("tags/", null, { name: "from-cli" });
      stop(r);
      assert.equal(await r.exited, 0);
      assert.equal(r.stdout().trim().split("\n").length, 1, "exactly one stdout line");
      assert.ok(!r.stderr().includes("CK:TK:TS"), "the key never reaches the log");
      assert.ok(existsSync(stateFile));
      assert.ok(readFileSync(stateFile, "utf8").includes("from-cli"));
    } finally {
      stop(r);
    }
    // A second run on the same state file starts where the first stopped.
    const again = run(["--port", "0", "--state", stateFile]);
    try {
      const line = await firstLine(again);
      assert.match(line, /MAAS_API_KEY=CK:TK:TS$/);
      const endpoint = /MAAS_ENDPOINT=(\S+)/.exec(line)?.[1] ?? "";
      assert.equal((await new TestClient(endpoint, "CK:TK:TS").get("tags/from-cli/")).status, 200);
    } finally {
      stop(again);
      await again.exited;
    }
  });

  describe("when nothing reads its stdout and stderr any more (maas-sim 2>&1 | grep -m1 MAAS_ENDPOINT)", () => {
    it("still exits 0 on SIGTERM, with its state saved", { timeout: 60_000 }, async () => {
      const stateFile = join(dir, "gone-reader.json");
      const r = run(["--port", "0", "--state", stateFile]);
      try {
        await firstLine(r);
        // What grep -m1 does once it has its line: exit, closing the pipe's read end.
        r.child.stdout?.destroy();
        r.child.stderr?.destroy();
        stop(r); // logs "stopping" and "stopped" into the closed pipe
        let timer: NodeJS.Timeout | undefined;
        // Generous: a liveness check, not a timing test.
        const late = new Promise<"still running">((resolve) => (timer = setTimeout(() => resolve("still running"), 10_000)));
        const outcome = await Promise.race([r.exited, late]);
        clearTimeout(timer);
        assert.equal(outcome, 0);
        assert.ok(existsSync(stateFile));
      } finally {
        if (r.child.exitCode === null && r.child.signalCode === null && r.child.pid !== undefined) process.kill(r.child.pid, "SIGKILL");
      }
    });
  });

  it("takes --request-timeout-seconds and --max-body-bytes", async () => {
    const r = run(["--port", "0", "--api-key", "CK:TK:TS", "--max-body-bytes", "1024", "--request-timeout-seconds", "30"]);
    try {
      const endpoint = /MAAS_ENDPOINT=(\S+)/.exec(await firstLine(r))?.[1] ?? "";
      const reply = await new TestClient(endpoint, "CK:TK:TS").post("tags/", null, { name: "big", comment: "x".repeat(2048) });
      assert.equal(reply.status, 413);
    } finally {
      stop(r);
      await r.exited;
    }
  });

  it("gives deployed machines addresses in --subnet", async () => {
    const r = run(["--port", "0", "--api-key", "CK:TK:TS", "--machines", "1", "--deploy-seconds", "0", "--subnet", "127.10.0.0/16"]);
    try {
      const endpoint = /MAAS_ENDPOINT=(\S+)/.exec(await firstLine(r))?.[1] ?? "";
      const client = new TestClient(endpoint, "CK:TK:TS");
      const [machine] = (await client.get("machines/")).json<Array<{ system_id: string }>>();
      await client.post(`machines/${machine?.system_id ?? ""}/`, "deploy", {});
      let addresses: string[] = [];
      for (let i = 0; i < 100 && addresses.length === 0; i++) {
        addresses = (await client.get(`machines/${machine?.system_id ?? ""}/`)).json<{ ip_addresses: string[] }>().ip_addresses;
        if (addresses.length === 0) await new Promise((resolve) => setTimeout(resolve, 50)); // the real process's deploy timer
      }
      assert.deepEqual(addresses, ["127.10.0.10"]);
    } finally {
      stop(r);
      await r.exited;
    }
  });

  const subnetInventory = join(dir, "subnet.yaml");
  writeFileSync(subnetInventory, "subnet: {cidr: 10.1.0.0/16}\n");
  const badFlags: Array<[string[], RegExp]> = [
    [["--port", "abc"], /--port abc: expected a whole number from 0 to 65535, e\.g\. --port 5240/],
    [["--api-key", "nocolons"], /--api-key: expected consumer_key:token_key:token_secret/],
    [["--api-key", 'C"K:TK:TS'], /--api-key: expected consumer_key:token_key:token_secret \(three non-empty parts of letters, digits/],
    [["--deploy-failure-rate", "2"], /--deploy-failure-rate 2: expected a number from 0 to 1/],
    [["--fault", "kind=explode"], /--fault: .*kind: write one of latency, unavailable, reset, timeout/],
    [["--maas-version", "banana"], /--maas-version: maasVersion "banana" is not a MAAS version/],
    [["--bogus"], /Unknown option '--bogus'.*maas-sim --help/],
    [["--request-timeout-seconds", "0"], /--request-timeout-seconds 0: expected a number ≥ 0\.001, e\.g\. --request-timeout-seconds 60/],
    [["--max-body-bytes", "1.5"], /--max-body-bytes 1\.5: expected a whole number ≥ 0/],
    [["--max-connections", "0"], /--max-connections 0: expected a whole number ≥ 1, e\.g\. --max-connections 1536/],
    [["--subnet", "127.10.0.0"], /--subnet 127\.10\.0\.0: expected an IPv4 network with a \/8 to \/24 prefix, e\.g\. --subnet 127\.10\.0\.0\/16/],
    [["--subnet", "127.10.0.0/16", "--inventory", subnetInventory], /--inventory: inventory .*subnet\.yaml: subnet is set both here and by the subnet option \(--subnet\); keep one/],
    [["--boot-binaries", dir], /--boot-binaries .*: no etcd, kube-apiserver, kubelet-stub there; pass the bin directory hack\/testenv\/build\.sh core fills/],
    [["--max-control-planes", "2"], /--max-control-planes only applies with --boot-binaries DIR/],
    [["--boot-dir", dir], /--boot-dir only applies with --boot-binaries DIR/],
    [["--max-control-planes", "0"], /--max-control-planes 0: expected a whole number ≥ 1, e\.g\. --max-control-planes 3/],
  ];
  for (const [args, message] of badFlags) {
    it(`exits 2 naming the problem for ${args.join(" ")}`, async () => {
      const r = run(args);
      try {
        assert.equal(await exitedWithin(r, 30_000), 2);
        assert.match(r.stderr(), message);
        assert.equal(r.stdout(), "");
      } finally {
        stop(r);
      }
    });
  }

  it("exits 1 naming --port and the fix when the port is taken", async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const port = (holder.address() as AddressInfo).port;
    const r = run(["--port", String(port)]);
    try {
      assert.equal(await r.exited, 1);
      assert.match(r.stderr(), new RegExp(`cannot start: --port ${port}: the port is already in use on 127\\.0\\.0\\.1; .*--port 0 for a free one`));
      assert.equal(r.stdout(), "");
    } finally {
      stop(r);
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });

  const notState = join(dir, "not-state.json");
  writeFileSync(notState, "[1, 2");
  const badStart: Array<[string[], RegExp]> = [
    [["--port", "0", "--host", "192.0.2.1"], /--host 192\.0\.2\.1: not an address of this machine; use 127\.0\.0\.1/],
    [["--port", "0", "--state", notState], /--state: state file .*not-state\.json is not readable JSON .*delete it to start fresh/],
  ];
  for (const [args, message] of badStart) {
    it(`exits 1 naming the flag when it cannot start with ${args.slice(2).join(" ")}`, async () => {
      const r = run(args);
      try {
        assert.equal(await r.exited, 1);
        assert.match(r.stderr(), message);
        assert.equal(r.stdout(), "");
      } finally {
        stop(r);
      }
    });
  }

  it("prints help", async () => {
    const r = run(["--help"]);
    try {
      assert.equal(await r.exited, 0);
      assert.match(r.stdout(), /^Usage: maas-sim/);
    } finally {
      stop(r);
    }
  });
});
