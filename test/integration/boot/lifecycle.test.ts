// The life of an emulated machine's processes (src/sim/boot): stopped by pid,
// gone with the simulator even when it is SIGKILLed, and a failed start that
// says which process failed and why, from its own log.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { BootProcessError } from "../../../src/sim/boot/readiness.ts";
import { repoRoot } from "../../testenv/binaries.ts";
import { isAlive, killAll, waitUntilGone } from "../../testenv/pids.ts";
import { prepareMachine, randomMachineSubnet, type TestMachine } from "./machine.ts";

const processesModule = new URL("../../../src/sim/boot/processes.ts", import.meta.url).href;
const binariesModule = new URL("../../testenv/binaries.ts", import.meta.url).href;

describe("an emulated machine's processes", () => {
  let machine: TestMachine | undefined;

  before(async () => {
    machine = await prepareMachine("lifecycle", `${randomMachineSubnet()}.2`);
  });

  after(async () => {
    await machine?.destroy();
  });

  describe("when stopped", () => {
    it("end by pid, and the machine can start them again", async () => {
      assert.ok(machine);
      const stub = { address: machine.address, certFile: machine.pki.kubelet.certFile, keyFile: machine.pki.kubelet.keyFile };
      const first = await machine.processes.startKubeletStub(stub);
      await machine.processes.stopAll();
      assert.deepEqual(first.exitStatus, { code: null, signal: "SIGTERM" });
      assert.equal(isAlive(first.pid), false);
      assert.equal(machine.processes.get("kubelet-stub"), undefined);

      const again = await machine.processes.startKubeletStub(stub);
      assert.notEqual(again.pid, first.pid);
      await machine.processes.stop("kubelet-stub");
      assert.equal(isAlive(again.pid), false);
    });
  });

  describe("when the simulator is SIGKILLed", () => {
    it("end too: their stdin pipe closes", async () => {
      assert.ok(machine);
      const m = machine;
      const script = [
        `import { MachineProcesses } from ${JSON.stringify(processesModule)};`,
        `import { locateBinaries } from ${JSON.stringify(binariesModule)};`,
        `const { binDir } = await locateBinaries();`,
        `const processes = new MachineProcesses({ machine: "orphan", binDir, logDir: ${JSON.stringify(m.dir)} });`,
        `const stub = await processes.startKubeletStub(${JSON.stringify({ address: m.address, certFile: m.pki.kubelet.certFile, keyFile: m.pki.kubelet.keyFile })});`,
        "process.stdout.write(`PID=${stub.pid}\\n`);",
        "setInterval(() => undefined, 1000);",
      ].join("\n");
      const owner = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      owner.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
      const exited = new Promise<void>((resolve) => owner.once("exit", () => resolve()));
      let stubPid: number | undefined;
      try {
        stubPid = await new Promise<number>((resolve, reject) => {
          createInterface({ input: owner.stdout }).on("line", (line) => {
            if (line.startsWith("PID=")) resolve(Number(line.slice(4)));
          });
          void exited.then(() => reject(new Error(`the owner exited before its stub was up:\n${stderr}`)));
        });
        assert.equal(isAlive(stubPid), true);
        owner.kill("SIGKILL");
        await exited;
        assert.deepEqual(await waitUntilGone([stubPid], 10_000), []);
      } finally {
        if (owner.pid !== undefined) killAll([owner.pid]);
        if (stubPid !== undefined) killAll([stubPid]);
      }
    });
  });

  describe("when one cannot start", () => {
    it("rejects naming the process and the machine, with the end of its own log, and leaves nothing running", async () => {
      assert.ok(machine);
      // Something else holds the kubelet port on the machine's address (and hangs up on the readiness probe).
      const squatter = createServer((socket) => socket.destroy());
      await new Promise<void>((resolve) => squatter.listen(10250, machine?.address, resolve));
      try {
        const started = machine.processes.startKubeletStub({ address: machine.address, certFile: machine.pki.kubelet.certFile, keyFile: machine.pki.kubelet.keyFile });
        const err = await started.then(
          () => assert.fail("the stub started on a taken port"),
          (e: unknown) => e,
        );
        assert.ok(err instanceof BootProcessError, String(err));
        assert.equal(err.label, "kubelet-stub of machine lifecycle");
        assert.equal(err.logPath, join(machine.dir, "kubelet-stub.log"));
        assert.equal(err.exit?.code, 1);
        assert.match(err.message, /^kubelet-stub of machine lifecycle \(pid \d+\) exited before it was ready \(code 1\); the end of .*:\n.*address already in use/s);
        assert.equal(isAlive(err.pid), false);
        assert.equal(machine.processes.get("kubelet-stub"), undefined);
      } finally {
        await new Promise((resolve) => squatter.close(resolve));
      }
    });

    it("stops one that is not ready in time, by pid, and says so", async () => {
      assert.ok(machine);
      const started = machine.processes.startKubeletStub({
        address: machine.address, certFile: machine.pki.kubelet.certFile, keyFile: machine.pki.kubelet.keyFile, readyTimeoutMs: 1,
      });
      const err = await started.then(
        () => assert.fail("ready within 1 ms"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof BootProcessError, String(err));
      assert.match(err.message, /^kubelet-stub of machine lifecycle \(pid \d+\) not ready after 1 ms/);
      assert.deepEqual(await waitUntilGone([err.pid], 10_000), []);
      assert.equal(machine.processes.get("kubelet-stub"), undefined);
    });
  });
});
