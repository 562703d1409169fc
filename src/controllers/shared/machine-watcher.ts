// One watcher per MAAS endpoint: it reads every machine the MaasMachine reconciler
// waits on in batches (`GET machines/?id=a&id=b…`), fast while something is moving
// (Deploying, Releasing, …) and slowly otherwise, and enqueues only the MaasMachines
// whose MAAS machine changed. Reconciles read its snapshots instead of polling each
// machine, so MAAS sees a few reads per interval whatever the number of machines.
// It is also the manager's one steady look at MAAS: when its reads start failing (MAAS
// down) and when they succeed again, every watched MaasMachine is enqueued once, so
// objects at rest say that MAAS cannot be reached without asking MAAS themselves.
import type { Clock, TimerHandle } from "../../clock/index.ts";
import { MachineStatus, typedFieldsOf, type Machine, type MachinesService } from "../../maas/index.ts";
import type { Logger } from "../../observability/index.ts";

export interface MachineWatcherOptions {
  machines: Pick<MachinesService, "list">;
  clock: Clock;
  logger: Logger;
  /** Called with the key given to {@link MachineWatcher.watch} when that machine changed in MAAS. */
  onChange: (key: string) => void;
  /**
   * Called when reads start failing (with the failure) and when one succeeds again
   * (undefined), after the watched keys were given to onChange.
   */
  onReadFailureChange?: (failure: ReadFailure | undefined) => void;
  /** Interval while a watched machine is in a transitional state, or not yet read (default 500 ms). */
  fastIntervalMs?: number;
  /** Interval when every watched machine is at rest (default 60 s). */
  slowIntervalMs?: number;
  /** System IDs per GET (default 200), which keeps URLs well under common limits. */
  batchSize?: number;
  /** Delay between a new watch and the read that fetches it, to batch a burst (default 50 ms). */
  settleMs?: number;
  /**
   * How long after observe({ reportNextRead }) a read that finds the machine unchanged
   * still waits before reporting it (default 2 s): a fast MAAS has moved on by then, and
   * the one status write says Deployed instead of Deploying first.
   */
  unchangedReportMs?: number;
}

/** What the watcher last saw of one machine. */
export interface MachineSnapshot {
  /** The machine's typed fields as MAAS answered (typedFieldsOf: one is held per machine); undefined when MAAS no longer has it. */
  machine: Machine | undefined;
  /** When this was read (Clock ms). */
  observedAtMs: number;
}

/** Why the watcher's reads fail, since when: MAAS cannot be read right now. */
export interface ReadFailure {
  /** The last read's error (a MaasError when MAAS was reached or refused; anything the client threw otherwise). */
  error: unknown;
  /** When the first read of this run of failures failed (Clock ms). */
  sinceMs: number;
  /** When the last one failed (Clock ms): a snapshot observed after it is fresh. */
  lastMs: number;
}

/** MAAS states that change by themselves soon; while any watched machine is in one, poll fast. */
const TRANSITIONAL = new Set<number>([
  MachineStatus.Deploying,
  MachineStatus.Releasing,
  MachineStatus.DiskErasing,
  MachineStatus.Commissioning,
  MachineStatus.Testing,
  MachineStatus.EnteringRescueMode,
  MachineStatus.ExitingRescueMode,
]);

interface Watched {
  key: string;
  snapshot: MachineSnapshot | undefined;
  /** Bumped by observe(): a read that started before it must not overwrite what it saw. */
  observations: number;
  /**
   * Set by observe({ reportNextRead }): the first read from this time on reports the
   * machine even if unchanged (a change, or a failed read, reports it at once).
   */
  reportDueAtMs: number | undefined;
}

export interface ObserveOptions {
  /**
   * Enqueue the object after a later read even when MAAS still answers the same (the
   * first read past unchangedReportMs), or at once on a change or a failed read: the
   * reconcile that observed this left its status for that read to write.
   */
  reportNextRead?: boolean;
}

export class MachineWatcher {
  private readonly opts: Required<Omit<MachineWatcherOptions, "machines" | "clock" | "logger" | "onChange" | "onReadFailureChange">> &
    MachineWatcherOptions;
  private readonly watched = new Map<string, Watched>();
  private timer: TimerHandle | undefined;
  private dueAtMs = Number.POSITIVE_INFINITY;
  private running = false;
  private polling: Promise<void> | undefined;
  private readonly stopController = new AbortController();
  private consecutiveFailures = 0;
  private failure: ReadFailure | undefined;
  private lastSuccessMs: number | undefined;
  /** Reads sent to MAAS, for the benchmark and tests. */
  reads = 0;

  constructor(options: MachineWatcherOptions) {
    this.opts = { fastIntervalMs: 500, slowIntervalMs: 60_000, batchSize: 200, settleMs: 50, unchangedReportMs: 2_000, ...options };
  }

  start(): void {
    this.running = true;
    this.schedule(this.opts.settleMs);
  }

  stop(): void {
    this.running = false;
    this.stopController.abort(new Error("machine watcher stopped"));
    if (this.timer !== undefined) this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Watches `systemId` for the object `key`; read soon if the watcher has not seen it yet. */
  watch(systemId: string, key: string): void {
    const existing = this.watched.get(systemId);
    if (existing !== undefined) {
      existing.key = key;
      return;
    }
    this.watched.set(systemId, { key, snapshot: undefined, observations: 0, reportDueAtMs: undefined });
    this.schedule(this.opts.settleMs);
  }

  unwatch(systemId: string): void {
    this.watched.delete(systemId);
  }

  /** The keys of every watched machine. */
  keys(): string[] {
    return [...this.watched.values()].map((w) => w.key);
  }

  /** What was last seen of `systemId`; undefined until the first read (or observe) of it. */
  snapshot(systemId: string): MachineSnapshot | undefined {
    return this.watched.get(systemId)?.snapshot;
  }

  /**
   * Records a machine MAAS just returned to a reconcile (allocate, deploy, release), so
   * the next read compares against it and the reconcile that caused it is not re-run.
   */
  observe(machine: Machine, options?: ObserveOptions): void {
    const entry = this.watched.get(machine.system_id);
    if (entry === undefined) return;
    entry.snapshot = { machine: typedFieldsOf(machine), observedAtMs: this.opts.clock.now() };
    entry.observations++;
    if (options?.reportNextRead === true) entry.reportDueAtMs = this.opts.clock.now() + this.opts.unchangedReportMs;
    if (TRANSITIONAL.has(machine.status) || entry.reportDueAtMs !== undefined) this.schedule(this.opts.fastIntervalMs);
  }

  /** True while a reconcile's status waits on a report from this watcher (observe with reportNextRead). */
  reportPending(systemId: string): boolean {
    return this.watched.get(systemId)?.reportDueAtMs !== undefined;
  }

  /** Why reads fail while they do; undefined once one succeeds (and before any fails). */
  readFailure(): ReadFailure | undefined {
    return this.failure;
  }

  /** When a read last succeeded (Clock ms); undefined before the first. */
  lastReadMs(): number | undefined {
    return this.lastSuccessMs;
  }

  /** Reads every watched machine now; resolves when done (tests and shutdown). */
  async pollNow(): Promise<void> {
    await this.pollOnce([...this.watched.keys()]);
  }

  private async pollOnce(ids?: readonly string[]): Promise<void> {
    this.polling ??= this.poll(ids).finally(() => (this.polling = undefined));
    await this.polling;
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    const dueAtMs = this.opts.clock.now() + delayMs;
    // Earliest wins, so a fast request is never pushed back by a slow one.
    if (this.timer !== undefined && dueAtMs >= this.dueAtMs) return;
    if (this.timer !== undefined) this.opts.clock.clearTimeout(this.timer);
    this.dueAtMs = dueAtMs;
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = undefined;
      this.dueAtMs = Number.POSITIVE_INFINITY;
      void this.pollOnce().finally(() => this.schedule(this.nextIntervalMs()));
    }, delayMs);
  }

  private nextIntervalMs(): number {
    if (this.consecutiveFailures > 0) {
      // MAAS is failing: back off up to the slow interval rather than hammer it.
      return Math.min(this.opts.slowIntervalMs, this.opts.fastIntervalMs * 2 ** Math.min(this.consecutiveFailures, 10));
    }
    const now = this.opts.clock.now();
    let nextMs = this.opts.slowIntervalMs;
    for (const entry of this.watched.values()) {
      if (needsFastRead(entry)) return this.opts.fastIntervalMs;
      // A machine at rest is read once its last view is slowIntervalMs old.
      const observedAtMs = entry.snapshot?.observedAtMs ?? now;
      nextMs = Math.min(nextMs, observedAtMs + this.opts.slowIntervalMs - now);
    }
    return Math.max(this.opts.fastIntervalMs, nextMs);
  }

  /**
   * The machines a scheduled poll reads: every one that moves or waits on a read, and
   * those at rest whose last view is old — from three quarters of slowIntervalMs on, so
   * machines read at slightly different times share a batch. Reading only these keeps a
   * few machines deploying among thousands at rest from costing a read of all of them
   * every fastIntervalMs.
   */
  private dueIds(): string[] {
    const now = this.opts.clock.now();
    const staleAfterMs = (this.opts.slowIntervalMs * 3) / 4;
    return [...this.watched].filter(([, entry]) => needsFastRead(entry) || now - (entry.snapshot?.observedAtMs ?? now) >= staleAfterMs).map(([id]) => id);
  }

  private async poll(ids: readonly string[] = this.dueIds()): Promise<void> {
    if (ids.length === 0) return;
    try {
      for (let start = 0; start < ids.length; start += this.opts.batchSize) {
        const batch = ids.slice(start, start + this.opts.batchSize);
        const observationsBefore = new Map(batch.map((id) => [id, this.watched.get(id)?.observations ?? 0] as const));
        this.reads++;
        const machines = await this.opts.machines.list({ systemIds: batch }, { signal: this.stopController.signal });
        this.apply(batch, machines, observationsBefore);
      }
      this.consecutiveFailures = 0;
      this.lastSuccessMs = this.opts.clock.now();
      if (this.failure !== undefined) {
        this.opts.logger.info({ failedForMs: this.opts.clock.now() - this.failure.sinceMs }, "reading watched MAAS machines works again");
        this.setFailure(undefined);
      }
    } catch (err) {
      if (this.stopController.signal.aborted) return;
      this.consecutiveFailures++;
      this.opts.logger.warn({ err: describe(err), failures: this.consecutiveFailures }, "reading watched MAAS machines failed");
      const now = this.opts.clock.now();
      if (this.failure === undefined) this.setFailure({ error: err, sinceMs: now, lastMs: now });
      else {
        this.failure = { ...this.failure, error: err, lastMs: now };
        // Their reconciles left the status to this read; with MAAS failing they write what they last saw.
        for (const entry of this.watched.values()) this.report(entry, Number.POSITIVE_INFINITY);
      }
    }
  }

  /**
   * A change between "MAAS reads fine" and "MAAS cannot be read": every watched object
   * goes once, to say so (or that it is over), and not on every failed read after.
   */
  private setFailure(failure: ReadFailure | undefined): void {
    this.failure = failure;
    for (const entry of this.watched.values()) {
      entry.reportDueAtMs = undefined;
      this.opts.onChange(entry.key);
    }
    this.opts.onReadFailureChange?.(failure);
  }

  /** Reports an entry whose reconcile waits on a read, once its time has come. */
  private report(entry: Watched, nowMs: number): void {
    if (entry.reportDueAtMs === undefined || nowMs < entry.reportDueAtMs) return;
    entry.reportDueAtMs = undefined;
    this.opts.onChange(entry.key);
  }

  private apply(batch: readonly string[], machines: readonly Machine[], observationsBefore: ReadonlyMap<string, number>): void {
    const now = this.opts.clock.now();
    const byId = new Map(machines.map((m) => [m.system_id, m] as const));
    for (const id of batch) {
      const entry = this.watched.get(id);
      if (entry === undefined) continue; // unwatched while the read was in flight
      // A reconcile observed a newer answer (its deploy, say) while this read was in
      // flight: this read may predate it, and would send the machine back to Allocated.
      if (entry.observations !== (observationsBefore.get(id) ?? 0)) continue;
      const machine = byId.get(id);
      const before = entry.snapshot;
      entry.snapshot = { machine: machine === undefined ? undefined : typedFieldsOf(machine), observedAtMs: now };
      if (before === undefined || fingerprint(before.machine) !== fingerprint(machine)) {
        entry.reportDueAtMs = undefined;
        this.opts.onChange(entry.key);
      } else {
        this.report(entry, now);
      }
    }
  }
}

/** Not read yet, moving (Deploying, Releasing…), or a reconcile waits on its next read. */
function needsFastRead(entry: Watched): boolean {
  const machine = entry.snapshot?.machine;
  return entry.snapshot === undefined || entry.reportDueAtMs !== undefined || (machine !== undefined && TRANSITIONAL.has(machine.status));
}

/** The fields a reconcile acts on; a change to any of them enqueues the MaasMachine. */
function fingerprint(machine: Machine | undefined): string {
  if (machine === undefined) return "gone";
  return JSON.stringify([
    machine.status,
    machine.power_state,
    machine.owner,
    machine.ephemeral_deploy,
    machine.hostname,
    machine.fqdn,
    machine.ip_addresses,
    machine.zone.name,
  ]);
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
