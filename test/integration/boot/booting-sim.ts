// maas-sim as its own process with booting on (--boot-binaries), on a loopback subnet of
// its own, driven through the MAAS API as a provider would (allocate, deploy with user
// data, power, release) and watched through GET /_sim/boot.
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BootPhase, BootState, MachineBootStatus } from "../../../src/sim/boot/boot.ts";
import { startSimProcess, type SimProcess } from "../../../src/sim/test-process.ts";
import type { TestClient } from "../../../src/sim/test-support.ts";
import { locateBinaries } from "../../testenv/binaries.ts";
import { killAll, pidsMentioning, waitUntilGone } from "../../testenv/pids.ts";

/** The binaries a booted machine runs: BOOT_BINARIES_DIR, else the testenv's bin directory. */
export async function bootBinaries(): Promise<{ binDir: string; kubectl: string }> {
  const binaries = await locateBinaries();
  const binDir = process.env.BOOT_BINARIES_DIR ?? binaries.binDir;
  const missing = ["etcd", "kube-apiserver", "kubelet-stub", "kubectl"].filter((name) => !existsSync(join(binDir, name)));
  if (missing.length > 0) throw new Error(`${binDir} has no ${missing.join(", ")}; run hack/testenv/build.sh core, or set BOOT_BINARIES_DIR to a directory it filled`);
  return { binDir, kubectl: join(binDir, "kubectl") };
}

export interface BootingSim {
  sim: SimProcess;
  client: TestClient;
  /** "127.N": the /16 the machines' addresses are in. */
  net: string;
  /** Where the machines' files are (--boot-dir). */
  bootDir: string;
  boot(): Promise<BootState>;
  machine(systemId: string): Promise<MachineBootStatus | undefined>;
  /** Polls /_sim/boot until the machine's phase is one of `phases`; fails with its status otherwise. */
  waitFor(systemId: string, phases: BootPhase[], timeoutMs?: number): Promise<MachineBootStatus>;
  /** Allocates any Ready machine and deploys it with this user data; returns its system_id. */
  deploy(userData: string, options?: { ephemeral?: boolean }): Promise<string>;
  op(systemId: string, op: "power_off" | "power_on" | "release", form?: Record<string, string>): Promise<void>;
  /** SIGTERM to the simulator, then a check (and a SIGKILL) for any machine process left. Returns those that outlived it. */
  stop(): Promise<number[]>;
}

export async function startBootingSim(args: string[] = []): Promise<BootingSim> {
  const { binDir } = await bootBinaries();
  const net = `127.${randomInt(20, 250)}`;
  const bootDir = await mkdtemp(join(tmpdir(), "boot-stage-"));
  const sim = await startSimProcess(["--subnet", `${net}.0.0/16`, "--deploy-seconds", "0", "--release-seconds", "0", "--boot-binaries", binDir, "--boot-dir", bootDir, ...args]);
  const client = sim.client;
  const adminUrl = client.endpoint.replace(/\/MAAS$/, "/_sim");
  const boot = async (): Promise<BootState> => (await (await fetch(`${adminUrl}/boot`)).json()) as BootState;
  const machine = async (systemId: string): Promise<MachineBootStatus | undefined> => (await boot()).machines.find((m) => m.systemId === systemId);
  let stopped: number[] | undefined;
  return {
    sim,
    client,
    net,
    bootDir,
    boot,
    machine,
    async waitFor(systemId, phases, timeoutMs = 300_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const status = await machine(systemId);
        if (status !== undefined && phases.includes(status.phase)) return status;
        if (Date.now() > deadline) assert.fail(`machine ${systemId} is not ${phases.join(" or ")} after ${timeoutMs} ms: ${JSON.stringify(status)}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
    async deploy(userData, options = {}) {
      const allocated = await client.post("machines/", "allocate", {});
      assert.equal(allocated.status, 200, allocated.text);
      const systemId = allocated.json<{ system_id: string }>().system_id;
      const deployed = await client.post(`machines/${systemId}/`, "deploy", { user_data: userData, distro_series: "jammy", ...(options.ephemeral === true ? { ephemeral_deploy: "true" } : {}) });
      assert.equal(deployed.status, 200, deployed.text);
      return systemId;
    },
    async op(systemId, op, form = {}) {
      const answer = await client.post(`machines/${systemId}/`, op, form);
      assert.equal(answer.status, 200, answer.text);
    },
    async stop() {
      if (stopped !== undefined) return stopped;
      await sim.stop();
      // The machines' processes run with paths under bootDir on their command lines.
      const left = await waitUntilGone(pidsMentioning(bootDir), 15_000);
      killAll(left);
      await rm(bootDir, { recursive: true, force: true, maxRetries: 5 });
      stopped = left;
      return left;
    },
  };
}

/** `net` plus a random host part in the last /24 of the subnet, which no machine is given (they count up from .0.10). */
export function virtualIp(net: string): string {
  return `${net}.255.${randomInt(1, 250)}`;
}
