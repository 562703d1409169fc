// The MAAS simulator as users run it: the maas-sim command (bin/maas-sim.mjs) as a
// child process with a --state file, killed with SIGKILL and started again on the same
// port from that file. Its state and request log are read through its admin API. The
// process is a testenv Child: stopped by pid, and never outliving the test process.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Inventory, RequestLogEntry, SimulatorState } from "../../../src/sim/types.ts";
import { repoRoot } from "../../testenv/binaries.ts";
import { Child, disownDir, ownDir } from "../../testenv/children.ts";
import { waitFor } from "../controllers/provider-harness.ts";

export interface SimProcessOptions {
  inventory: Inventory;
  /** Extra flags, e.g. ["--deploy-seconds", "2"]. */
  args?: readonly string[];
}

export class SimProcess {
  endpoint = "";
  apiKey = "";
  port = 0;
  private child: Child | undefined;

  private constructor(
    private readonly dir: string,
    private readonly options: SimProcessOptions,
  ) {}

  /** Starts maas-sim on a free port with a fresh state file; resolves once it printed its endpoint. */
  static async start(options: SimProcessOptions): Promise<SimProcess> {
    const dir = await mkdtemp(join(tmpdir(), "maas-sim-process-"));
    ownDir(dir);
    await writeFile(join(dir, "inventory.json"), JSON.stringify(options.inventory));
    const sim = new SimProcess(dir, options);
    try {
      await sim.launch(0);
    } catch (err) {
      await sim.stop();
      throw err;
    }
    return sim;
  }

  get adminUrl(): string {
    return this.endpoint.replace(/\/MAAS$/, "/_sim");
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async state(): Promise<SimulatorState> {
    return (await fetch(`${this.adminUrl}/state`)).json() as Promise<SimulatorState>;
  }

  /** The log of this process only: a restarted simulator starts a new one. */
  async requestLog(): Promise<RequestLogEntry[]> {
    return (await fetch(`${this.adminUrl}/requests`)).json() as Promise<RequestLogEntry[]>;
  }

  /** SIGKILL: no shutdown, no last save; what it acknowledged is in the state file already. */
  async kill(): Promise<void> {
    await this.child?.kill();
  }

  /** Starts it again on the same port from the same state file (the inventory is ignored then). */
  async restart(): Promise<void> {
    if (this.child !== undefined && !this.child.hasExited) throw new Error("maas-sim is still running; kill() it first");
    await this.launch(this.port);
  }

  async stop(): Promise<void> {
    await this.child?.stop(5_000);
    await rm(this.dir, { recursive: true, force: true });
    disownDir(this.dir);
  }

  private async launch(port: number): Promise<void> {
    const child = new Child({
      name: "maas-sim",
      command: process.execPath,
      args: [
        join(repoRoot, "bin", "maas-sim.mjs"),
        `--port=${String(port)}`,
        `--state=${join(this.dir, "state.json")}`,
        `--inventory=${join(this.dir, "inventory.json")}`,
        ...(this.options.args ?? []),
      ],
      logPath: join(this.dir, "maas-sim.log"),
      env: { LOG_LEVEL: "warn" },
    });
    this.child = child;
    const line = await waitFor(`maas-sim (pid ${String(child.pid)}) printing its endpoint`, async () => {
      const output = (await readFile(child.logPath)).subarray(child.logOffset).toString("utf8");
      if (child.hasExited) throw new Error(`maas-sim exited before it served: ${output}`);
      return /MAAS_ENDPOINT=(\S+) MAAS_API_KEY=(\S+)/.exec(output) ?? undefined;
    }, 30_000);
    this.endpoint = line[1] ?? "";
    this.apiKey = line[2] ?? "";
    this.port = Number(new URL(this.endpoint).port);
  }
}
