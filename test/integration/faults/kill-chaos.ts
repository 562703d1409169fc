// Kill points for the manager, planned from a seed and fired by progress: "the k-th
// allocate (or deploy, or release) since this manager process started", counted at the
// proxy in front of the simulator; one kill per process, in the plan's order. The same
// seed gives the same kills, each after the same amount of work of its process, however
// fast or busy the machine is, which wall-clock kill times would not (which machine's
// call is the k-th still depends on scheduling). Each kill is a SIGKILL by pid at one
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
  /** The k-th call of `op` since the manager process started (1-based). */
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
 * The plan: per phase, one point per kill, each the k-th call of one of the phase's
 * writes within a process's life, k drawn up to machines ÷ kills. A life does more than
 * its k calls: the calls its ten workers have in flight when it dies still reach MAAS
 * (about 9 writes a life at 100 machines, 50 kills). Points still left when the work is
 * done strike the manager at rest, and are counted apart.
 */
export function planKills(size: ChaosSize): KillPoint[] {
  const prng = new Prng(size.seed, "kill-chaos");
  const plan = (phase: Phase, kills: number): KillPoint[] => {
    const maxCall = Math.max(1, Math.round(size.machines / Math.max(1, kills)));
    return Array.from({ length: kills }, () => ({ phase, op: prng.pick(PHASE_WRITES[phase]), call: 1 + prng.int(maxCall), moment: prng.pick(MOMENTS) }));
  };
  return [...plan("create", size.createKills), ...plan("delete", size.deleteKills)];
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
 * Fires the plan through the proxy's hook: the phase's next point strikes when the
 * running process makes its k-th call of the point's write. A new process's first calls
 * are held until it is known ready (and the one to kill); once a kill is decided, the
 * dying process's other calls count for nothing. Every point taken strikes exactly once.
 */
export class KillChaos {
  readonly fired: FiredKill[] = [];
  restarts = 0;
  /** From each SIGKILL to the next manager ready, ms. */
  readonly restartMs: number[] = [];
  /** A restart that failed; the test reports it. */
  readonly errors: unknown[] = [];
  private phase: Phase | undefined;
  /** Calls of each write since the running process started. */
  private lifeCalls = new Map<Write, number>();
  /** Calls of each write per phase, over all processes. */
  private readonly phaseCalls = new Map<string, number>();
  private readonly pending: KillPoint[];
  private restarting: Promise<void> | undefined;
  private armed = false;

  constructor(private readonly opts: KillChaosOptions) {
    this.pending = [...opts.plan];
    opts.proxy.hook = (call) => this.onCall(call);
    opts.proxy.kill = () => this.strike();
  }

  /** Kill points of `phase` are fired from now. */
  enter(phase: Phase): void {
    this.phase = phase;
  }

  /** Calls of `op` seen in `phase` so far, over all processes. */
  callsOf(phase: Phase, op: Write): number {
    return this.phaseCalls.get(`${phase}/${op}`) ?? 0;
  }

  /**
   * Ends the phase: waits for a restart under way, fires the points the phase left
   * unreached on the manager at rest, and resolves once a manager runs again.
   */
  async settle(): Promise<void> {
    await this.restarted();
    for (let point = this.next(); point !== undefined; point = this.next()) {
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
    this.phaseCalls.set(`${phase}/${op}`, this.callsOf(phase, op) + 1);
    // A kill is decided: this is the dying process's, and counts for nothing.
    if (this.armed) return undefined;
    const life = this.lifeCalls;
    life.set(op, (life.get(op) ?? 0) + 1);
    // The new process's first calls can come before it is known to be ready (and the one
    // to kill): held until then, so its point can strike it.
    await this.restarted();
    const point = this.next();
    // Another call took the point meanwhile, or a kill ended this call's process.
    if (this.armed || this.lifeCalls !== life || this.phase !== phase) return undefined;
    if (point === undefined || point.op !== op || (life.get(op) ?? 0) < point.call) return undefined;
    this.take(point, true);
    return point.moment;
  }

  private next(): KillPoint | undefined {
    return this.pending.find((p) => p.phase === this.phase);
  }

  private take(point: KillPoint, onCall: boolean): void {
    this.pending.splice(this.pending.indexOf(point), 1);
    this.fired.push({ ...point, onCall });
    this.armed = true;
  }

  /** Called by the proxy at the chosen moment: kill by pid now, restart at once (once per point taken). */
  private strike(): void {
    if (!this.armed) return;
    this.armed = false;
    const killedAtMs = Date.now();
    const dead = this.opts.killManager();
    // Whatever arrives from now on comes from the next process.
    this.lifeCalls = new Map();
    this.restarting = (async () => {
      try {
        await dead;
        await this.opts.startManager();
        this.restarts++;
        this.restartMs.push(Date.now() - killedAtMs);
      } catch (err) {
        this.errors.push(err);
      } finally {
        this.restarting = undefined;
      }
    })();
  }
}
