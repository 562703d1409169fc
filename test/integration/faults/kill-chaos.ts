// Kill points for the manager, planned from a seed and fired by progress: "the n-th
// allocate (or deploy, or release) of this phase", counted at the proxy in front of the
// simulator. A plan drawn from the same seed strikes at the same place of the work
// however fast the machine runs, which wall-clock kill times would not (which machine's
// call is the n-th still depends on scheduling). Each kill is a SIGKILL by pid at one
// moment of its call (before MAAS sees it, while MAAS works on it, after MAAS answered
// but before the manager hears), and the manager is restarted at once.
import { Prng } from "../../../src/sim/prng.ts";
import type { KillMoment, MaasProxy, ProxiedCall } from "./maas-proxy.ts";

export type Phase = "create" | "delete";
/** The MAAS calls that change a machine, where the kill points are. */
export type Write = "allocate" | "deploy" | "release";

/** The writes each phase needs once per machine at least. */
const PHASE_WRITES: Record<Phase, readonly Write[]> = { create: ["allocate", "deploy"], delete: ["release"] };
const MOMENTS: readonly KillMoment[] = ["before", "in-flight", "after"];

export interface KillPoint {
  phase: Phase;
  op: Write;
  /** The n-th call of `op` in the phase (1-based). */
  call: number;
  moment: KillMoment;
}

export interface FiredKill extends KillPoint {
  /** False when the phase ended before the call came, and the kill hit the manager at rest. */
  onCall: boolean;
}

export interface ChaosSize {
  seed: number;
  machines: number;
  createKills: number;
  deleteKills: number;
}

/**
 * The run's size from CHAOS_MACHINES, CHAOS_KILLS and CHAOS_SEED, else `defaults`. Kills
 * are split between the phases as their writes are: two per machine while creating
 * (allocate, deploy), one while deleting (release).
 */
export function chaosSizeFromEnv(env: NodeJS.ProcessEnv, defaults: { machines: number; kills: number; seed: number }): ChaosSize {
  const machines = whole(env, "CHAOS_MACHINES", defaults.machines, 1, 500);
  const kills = whole(env, "CHAOS_KILLS", defaults.kills, 0, 3 * machines);
  const seed = whole(env, "CHAOS_SEED", defaults.seed, 0, 2 ** 32 - 1);
  const createKills = Math.round((kills * 2) / 3);
  return { seed, machines, createKills, deleteKills: kills - createKills };
}

function whole(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const text = env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name}=${JSON.stringify(text)}: expected a whole number from ${String(min)} to ${String(max)}, e.g. ${name}=${String(fallback)}`);
  }
  return value;
}

/**
 * Distinct (write, call number) pairs within the calls a phase needs at least (one of
 * each of its writes per machine), so every point is reached however the work interleaves.
 */
export function planKills(size: ChaosSize): KillPoint[] {
  const prng = new Prng(size.seed, "kill-chaos");
  const plan = (phase: Phase, kills: number): KillPoint[] => {
    const writes = PHASE_WRITES[phase];
    return sample(prng, kills, writes.length * size.machines).map((slot) => ({
      phase,
      op: writes[Math.floor((slot - 1) / size.machines)] as Write,
      call: ((slot - 1) % size.machines) + 1,
      moment: prng.pick(MOMENTS),
    }));
  };
  return [...plan("create", size.createKills), ...plan("delete", size.deleteKills)];
}

/** `count` distinct numbers from 1..`max`, ascending (a partial Fisher–Yates shuffle). */
function sample(prng: Prng, count: number, max: number): number[] {
  const pool = Array.from({ length: max }, (_, i) => i + 1);
  for (let i = 0; i < count; i++) {
    const j = i + prng.int(max - i);
    [pool[i], pool[j]] = [pool[j] as number, pool[i] as number];
  }
  return pool.slice(0, count).sort((a, b) => a - b);
}

export interface KillChaosOptions {
  proxy: MaasProxy;
  plan: readonly KillPoint[];
  /** Sends SIGKILL to the running manager by pid (synchronously) and resolves once it is gone. */
  killManager: () => Promise<unknown>;
  /** Starts the next manager; resolves when it is ready. */
  startManager: () => Promise<void>;
}

/**
 * Fires the plan through the proxy's hook. While a killed manager is being replaced,
 * its successor's calls are held until it is ready; while a kill waits for its moment,
 * calls are counted but no other point fires: one reached then fires at the next call
 * of its write (or at rest, when the phase ends first).
 */
export class KillChaos {
  readonly fired: FiredKill[] = [];
  restarts = 0;
  /** From each SIGKILL to the next manager ready, ms. */
  readonly restartMs: number[] = [];
  /** A restart that failed; the test reports it. */
  readonly errors: unknown[] = [];
  private phase: Phase | undefined;
  private readonly counts = new Map<string, number>();
  private readonly pending: KillPoint[];
  private restarting: Promise<void> | undefined;
  private armed = false;

  constructor(private readonly opts: KillChaosOptions) {
    this.pending = [...opts.plan];
    opts.proxy.hook = (call) => this.onCall(call);
    opts.proxy.kill = () => this.strike();
  }

  /** Kill points of `phase` are counted from now. */
  enter(phase: Phase): void {
    this.phase = phase;
  }

  /** Calls of `op` counted in `phase` so far. */
  callsOf(phase: Phase, op: Write): number {
    return this.counts.get(`${phase}/${op}`) ?? 0;
  }

  /**
   * Ends the phase: waits for a restart under way, fires the points the phase left
   * unreached on the manager at rest, and resolves once a manager runs again.
   */
  async settle(): Promise<void> {
    await this.restarted();
    for (let point = this.pending.find((p) => p.phase === this.phase); point !== undefined; point = this.pending.find((p) => p.phase === this.phase)) {
      this.take(point, false);
      this.strike();
      await this.restarted();
    }
    this.phase = undefined;
  }

  /** Resolves once no restart is under way. */
  async restarted(): Promise<void> {
    while (this.restarting !== undefined) await this.restarting;
  }

  /** No more kills or restarts (a manager stopping sends calls too); resolves once a restart under way is done. */
  async detach(): Promise<void> {
    this.phase = undefined;
    this.opts.proxy.hook = undefined;
    this.opts.proxy.kill = undefined;
    await this.restarted();
  }

  private async onCall(call: ProxiedCall): Promise<KillMoment | undefined> {
    const phase = this.phase;
    if (phase === undefined || call.method !== "POST" || !PHASE_WRITES[phase].some((op) => op === call.op)) return undefined;
    const op = call.op as Write;
    const n = this.callsOf(phase, op) + 1;
    this.counts.set(`${phase}/${op}`, n);
    // The new process's first calls can come before it is known to be ready (and the one
    // to kill): held until then, so a point due now can still strike it.
    await this.restarted();
    if (this.armed || this.phase !== phase) return undefined;
    const point = this.pending.find((p) => p.phase === phase && p.op === op && p.call <= n);
    if (point === undefined) return undefined;
    this.take(point, true);
    return point.moment;
  }

  private take(point: KillPoint, onCall: boolean): void {
    this.pending.splice(this.pending.indexOf(point), 1);
    this.fired.push({ ...point, onCall });
    this.armed = true;
  }

  /** Called by the proxy at the chosen moment: kill by pid now, restart at once. */
  private strike(): void {
    const killedAtMs = Date.now();
    const dead = this.opts.killManager();
    this.restarting = (async () => {
      try {
        await dead;
        await this.opts.startManager();
        this.restarts++;
        this.restartMs.push(Date.now() - killedAtMs);
      } catch (err) {
        this.errors.push(err);
      } finally {
        this.armed = false;
        this.restarting = undefined;
      }
    })();
  }
}
