// Fixtures for the MachineWatcher tests: a fake MAAS machine list and a watcher on a fake clock.
import assert from "node:assert/strict";
import { afterEach } from "node:test";
import { FakeClock } from "../../clock/index.ts";
import { MachineStatus, MaasUnavailableError, type CallOptions, type Machine, type MachineFilters, type MachinesService } from "../../maas/index.ts";
import { createLogger } from "../../observability/index.ts";
import { MachineWatcher, type MachineWatcherOptions } from "./machine-watcher.ts";

export const FAST_MS = 100;
export const SLOW_MS = 1000;
export const SETTLE_MS = 50;

/** A Deployed machine as MAAS lists it, with `overrides`. */
export function machine(id: string, overrides: Partial<Machine> = {}): Machine {
  return {
    system_id: id, hostname: id, fqdn: `${id}.maas`, status: MachineStatus.Deployed, status_name: "Deployed", status_message: null,
    power_state: "on", cpu_count: 4, memory: 8192, zone: { name: "zone-a" }, pool: { name: "default" }, tag_names: [],
    ip_addresses: ["10.0.0.1"], osystem: "ubuntu", distro_series: "jammy", owner: "admin", ephemeral_deploy: false,
    ...overrides,
  };
}

export interface ListCall {
  systemIds: readonly string[];
  signal: AbortSignal | undefined;
  atMs: number;
}

/**
 * MAAS's machine list, faked at the service interface the watcher takes: it answers from
 * `machines`, records every call, fails while `failing` is set, and while `hold` is set
 * answers only when `release()` is called (or the call's signal aborts, as the real client does).
 */
export class FakeMachines implements Pick<MachinesService, "list"> {
  readonly machines = new Map<string, Machine>();
  readonly calls: ListCall[] = [];
  failing = false;
  hold = false;
  private held: Array<() => void> = [];

  constructor(private readonly clock: FakeClock) {}

  put(...machines: Machine[]): void {
    for (const m of machines) this.machines.set(m.system_id, m);
  }

  update(id: string, fields: Partial<Machine>): void {
    const current = this.machines.get(id);
    assert.ok(current !== undefined, `no machine ${id}`);
    this.machines.set(id, { ...current, ...fields });
  }

  release(): void {
    for (const answer of this.held.splice(0)) answer();
  }

  list(filters: MachineFilters = {}, call: CallOptions = {}): Promise<Machine[]> {
    const systemIds = filters.systemIds ?? [];
    this.calls.push({ systemIds, signal: call.signal, atMs: this.clock.now() });
    const answer = (): Machine[] => {
      if (this.failing) throw new MaasUnavailableError({ op: "GET machines/", status: 503, body: "down" });
      // Copies, as every HTTP answer is: the test changing MAAS never changes what was read.
      return systemIds.flatMap((id) => {
        const m = this.machines.get(id);
        return m === undefined ? [] : [structuredClone(m)];
      });
    };
    if (!this.hold) return Promise.resolve().then(answer);
    return new Promise((resolve, reject) => {
      call.signal?.addEventListener("abort", () => reject(call.signal?.reason as Error), { once: true });
      this.held.push(() => {
        try {
          resolve(answer());
        } catch (err) {
          reject(err as Error);
        }
      });
    });
  }
}

export interface Bed {
  clock: FakeClock;
  maas: FakeMachines;
  watcher: MachineWatcher;
  changed: string[];
  /** Milliseconds since the bed started of each list call. */
  callTimes(): number[];
}

const started: MachineWatcher[] = [];
afterEach(() => {
  for (const w of started.splice(0)) w.stop();
});

export function bed(options: Partial<MachineWatcherOptions> = {}): Bed {
  const clock = new FakeClock(0);
  const maas = new FakeMachines(clock);
  const changed: string[] = [];
  const watcher = new MachineWatcher({
    machines: maas,
    clock,
    logger: createLogger({ level: "silent" }),
    onChange: (key) => changed.push(key),
    fastIntervalMs: FAST_MS,
    slowIntervalMs: SLOW_MS,
    settleMs: SETTLE_MS,
    ...options,
  });
  watcher.start();
  started.push(watcher);
  return { clock, maas, watcher, changed, callTimes: () => maas.calls.map((c) => c.atMs) };
}

/** A bed watching `ids` (key "ns/<id>"), all read once. */
export async function watching(ids: string[], options: Partial<MachineWatcherOptions> = {}, status: number = MachineStatus.Deployed): Promise<Bed> {
  const b = bed(options);
  b.maas.put(...ids.map((id) => machine(id, { status })));
  for (const id of ids) b.watcher.watch(id, `ns/${id}`);
  await b.clock.advance(SETTLE_MS);
  b.changed.length = 0;
  return b;
}

