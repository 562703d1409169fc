// The state file against real crashes: the maas-sim command is killed with
// SIGKILL, again and again, while clients allocate, deploy and release; after each
// restart every operation that was answered 2xx must still be in the state.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { MachineStatus } from "./status.ts";
import { API_KEY, TestClient } from "./test-support.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const bin = join(root, "bin", "maas-sim.mjs");

const KILLS = 20;
const CLIENTS = 4;

type Op = "allocate" | "deploy" | "release";

/** Statuses a machine may be in once an operation took effect (lifecycle delays are 0, so it may have moved on). */
const AFTER: Record<Op, number[]> = {
  allocate: [MachineStatus.ALLOCATED],
  deploy: [MachineStatus.DEPLOYING, MachineStatus.DEPLOYED],
  release: [MachineStatus.RELEASING, MachineStatus.READY],
};

/** What a restart must show for one machine: the last acknowledged operation, or the one in flight when the kill came. */
interface Expectation {
  allowed: Set<number>;
  /** The operation sent but not answered when the process died: it may or may not have happened. */
  inFlight: Op | null;
}

interface Sim {
  child: ChildProcess;
  client: TestClient;
  exited: Promise<void>;
}

function startSim(stateFile: string, started: Set<ChildProcess>): Promise<Sim> {
  const child = spawn(process.execPath, [bin, "--port", "0", "--state", stateFile, "--api-key", API_KEY, "--machines", String(CLIENTS), "--deploy-seconds", "0", "--release-seconds", "0"], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, LOG_LEVEL: "warn" },
  });
  started.add(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once("line", (line) => {
      const endpoint = /MAAS_ENDPOINT=(\S+)/.exec(line)?.[1];
      if (endpoint === undefined) reject(new Error(`unexpected first line: ${line}`));
      else resolve({ child, client: new TestClient(endpoint, API_KEY), exited });
    });
    void exited.then(() => reject(new Error("maas-sim exited before it printed its endpoint")));
  });
}

function killByPid(child: ChildProcess): void {
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(child.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

/** The next operation for a machine in this status, or null to look again (e.g. still Releasing). */
function nextOp(status: number): Op | null {
  if (status === MachineStatus.READY) return "allocate";
  if (status === MachineStatus.ALLOCATED) return "deploy";
  if (status === MachineStatus.DEPLOYING || status === MachineStatus.DEPLOYED) return "release";
  return null;
}

/** One client cycling one machine until the simulator dies; records every acknowledged operation. */
async function cycle(client: TestClient, systemId: string, status: number, expect: Expectation, acked: { count: number }): Promise<void> {
  let known = status;
  for (;;) {
    const op = nextOp(known);
    expect.inFlight = op;
    let reply;
    try {
      if (op === "allocate") reply = await client.post("machines/", "allocate", { system_id: systemId });
      else if (op === "deploy") reply = await client.post(`machines/${systemId}/`, "deploy", {});
      else if (op === "release") reply = await client.post(`machines/${systemId}/`, "release", {});
      else reply = await client.get(`machines/${systemId}/`);
    } catch {
      return; // the simulator was killed; inFlight stays as it is
    }
    expect.inFlight = null;
    if (reply.status >= 200 && reply.status < 300) {
      known = reply.json<{ status: number }>().status;
      if (op !== null) {
        acked.count++;
        expect.allowed = new Set(AFTER[op]);
      }
    } else {
      known = -1; // e.g. 409 while the lifecycle catches up: look again
    }
  }
}

describe("state file durability", () => {
  it(`keeps every acknowledged allocate, deploy and release across ${KILLS} SIGKILLs`, { timeout: 240_000 }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "maas-sim-durable-"));
    const stateFile = join(dir, "state.json");
    const started = new Set<ChildProcess>();
    // Every process this test starts is killed by pid, whatever happens.
    t.after(() => {
      for (const child of started) killByPid(child);
      rmSync(dir, { recursive: true, force: true });
    });
    const acked = { count: 0 };
    const expectations = new Map<string, Expectation>();
    try {
      for (let round = 0; round <= KILLS; round++) {
        const sim = await startSim(stateFile, started);
        try {
          const machines = (await sim.client.get("machines/")).json<Array<{ system_id: string; status: number; owner: string | null }>>();
          assert.equal(machines.length, CLIENTS);
          for (const m of machines) {
            const expect = expectations.get(m.system_id);
            if (expect !== undefined) {
              const allowed = new Set([...expect.allowed, ...(expect.inFlight === null ? [] : AFTER[expect.inFlight])]);
              assert.ok(allowed.has(m.status), `round ${round}: machine ${m.system_id} is in status ${m.status}; acknowledged operations allow only ${[...allowed].join(", ")}`);
              if (m.status === MachineStatus.ALLOCATED) assert.equal(m.owner, "admin", `round ${round}: an allocated machine has its owner`);
            }
            // From here on the restarted state is the baseline (a Deploying machine may become Deployed, a Releasing one Ready).
            const moved = nextOp(m.status) === "release" ? AFTER.deploy : m.status === MachineStatus.RELEASING ? AFTER.release : [m.status];
            expectations.set(m.system_id, { allowed: new Set(moved), inFlight: null });
          }
          if (round === KILLS) break;
          const loops = machines.map((m) => cycle(sim.client, m.system_id, m.status, expectations.get(m.system_id)!, acked));
          // A different moment in the loop each round, between 30 and 250 ms in.
          await new Promise((resolve) => setTimeout(resolve, 30 + ((round * 53) % 220)));
          killByPid(sim.child);
          await sim.exited;
          await Promise.all(loops);
        } finally {
          killByPid(sim.child);
          await sim.exited;
        }
      }
      t.diagnostic(`${acked.count} operations acknowledged across ${KILLS} kills`);
      assert.ok(acked.count >= KILLS * CLIENTS, `only ${acked.count} operations were acknowledged; the test proved little`);
    } finally {
      for (const child of started) killByPid(child);
    }
  });
});
