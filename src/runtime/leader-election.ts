import { systemClock, type Clock } from "../clock/index.ts";
import type { Logger } from "../observability/index.ts";
import type { KubeMetrics } from "./kube-metrics.ts";
import { LeaseConflictError, type LeaseLock, type LeaderElectionRecord, type LockedRecord } from "./leader-election-lock.ts";

export { KubeLeaseLock, LeaseConflictError, formatMicroTime } from "./leader-election-lock.ts";

/**
 * The system clock, but with `now()` read from the monotonic timer (still in epoch
 * milliseconds, anchored when the process started). Lease expiry and the renew
 * deadline are durations: judged on `Date.now()`, an NTP step forward on a follower
 * would let it take over a live leader's lease, and a step back on the leader would
 * keep it leading past its renew deadline. client-go measures them on Go's
 * monotonic clock for the same reason. The lease's renewTime and acquireTime are
 * informational (nobody judges expiry by them), so the small drift from wall time
 * they get is harmless.
 */
export const monotonicSystemClock: Clock = {
  ...systemClock,
  now: () => performance.timeOrigin + performance.now(),
};
export type { LeaseLock, LeaderElectionRecord, LockedRecord } from "./leader-election-lock.ts";

export interface LeaderElectorOptions {
  lock: LeaseLock;
  /** Unique per process, e.g. `${hostname}_${random}`. */
  identity: string;
  /** Names the election in logs and in `leader_election_master_status{name}`. */
  name: string;
  logger: Logger;
  /** Defaults to {@link monotonicSystemClock}. */
  clock?: Clock;
  metrics?: KubeMetrics;
  /** How long followers wait, from when they last saw the record change, before taking over (15 s). */
  leaseDurationMs?: number;
  /** How long a leader keeps retrying a failed renewal before it gives up (10 s). */
  renewDeadlineMs?: number;
  /** Pause between attempts (2 s). */
  retryPeriodMs?: number;
  /** Spread of the acquire retries, as client-go's JitterFactor (1.2). */
  jitterFactor?: number;
  random?: () => number;
  /** Called with the holder's identity whenever a different holder is observed. */
  onNewLeader?: (identity: string) => void;
}

/** How {@link LeaderElector.run} ended. */
export type ElectionOutcome = "stopped" | "lost";

/**
 * client-go's leader election over a Lease, decision for decision:
 * - followers judge expiry by when THEY last saw the record change (observedTime on
 *   our clock) plus the record's leaseDurationSeconds, never by the leader's
 *   renewTime, so clock skew between nodes cannot cause an early takeover;
 * - every write carries the resourceVersion it read, so of two racing candidates
 *   one gets 409 and stays a follower;
 * - a leader that has not renewed for renewDeadline gives up (leaseDuration >
 *   renewDeadline leaves it time to stop before anyone else may start);
 * - release on a clean stop clears holderIdentity and sets leaseDurationSeconds=1
 *   (client-go's ReleaseOnCancel), so a follower takes over at its next retry.
 */
export class LeaderElector {
  readonly identity: string;
  private readonly opts: Required<Omit<LeaderElectorOptions, "metrics" | "onNewLeader">> &
    Pick<LeaderElectorOptions, "metrics" | "onNewLeader">;
  private readonly log: Logger;
  private observed: LockedRecord | undefined;
  private observedAtMs = 0;
  private lastRenewMs = 0;
  private leading = false;

  constructor(options: LeaderElectorOptions) {
    this.opts = {
      clock: monotonicSystemClock,
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      jitterFactor: 1.2,
      random: Math.random,
      ...options,
    };
    const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = this.opts;
    if (!(leaseDurationMs > renewDeadlineMs && renewDeadlineMs > retryPeriodMs && retryPeriodMs > 0)) {
      throw new RangeError("leader election needs leaseDuration > renewDeadline > retryPeriod > 0");
    }
    this.identity = options.identity;
    this.log = options.logger.child({ leaderElection: options.name, identity: options.identity });
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The holder we last saw in the lease ("" when released or never read). */
  observedLeader(): string {
    return this.observed?.record.holderIdentity ?? "";
  }

  /**
   * Acquires the lease (retrying every retryPeriod with jitter), calls
   * `onStartedLeading`, then renews until `signal` aborts ("stopped", after the
   * lease is released) or renewal fails for renewDeadline ("lost").
   */
  async run(signal: AbortSignal, onStartedLeading: () => void): Promise<ElectionOutcome> {
    const { clock, retryPeriodMs, jitterFactor, random } = this.opts;
    this.setLeading(false);
    for (;;) {
      if (signal.aborted) return "stopped";
      if (await this.attempt(this.opts.renewDeadlineMs)) break;
      const delay = retryPeriodMs * (1 + jitterFactor * random());
      if (!(await sleepUnlessAborted(clock, delay, signal))) return "stopped";
    }
    this.lastRenewMs = clock.now();
    this.setLeading(true);
    this.log.info("acquired the lease; leading");
    onStartedLeading();
    const outcome = await this.renewLoop(signal);
    this.setLeading(false);
    if (outcome === "stopped") await this.release();
    return outcome;
  }

  /** One acquire-or-renew decision against the lock; true when we hold the lease after it. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { clock, lock } = this.opts;
    const now = clock.now();
    const desired: LeaderElectionRecord = {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.opts.leaseDurationMs / 1000),
      acquireTimeMs: now,
      renewTimeMs: now,
      leaseTransitions: 0,
    };
    const current = await lock.get();
    if (current === undefined) {
      return this.write(() => lock.create(desired), desired);
    }
    if (this.observed === undefined || !sameRecord(this.observed.record, current.record)) {
      if (this.observed?.record.holderIdentity !== current.record.holderIdentity && current.record.holderIdentity !== "") {
        this.opts.onNewLeader?.(current.record.holderIdentity);
      }
      this.observed = current;
      this.observedAtMs = clock.now();
    }
    const holder = current.record.holderIdentity;
    const heldByUs = holder === this.identity;
    if (holder !== "" && !heldByUs && this.observedAtMs + current.record.leaseDurationSeconds * 1000 > now) {
      return false;
    }
    if (heldByUs) {
      desired.acquireTimeMs = current.record.acquireTimeMs;
      desired.leaseTransitions = current.record.leaseTransitions;
    } else {
      desired.leaseTransitions = current.record.leaseTransitions + 1;
    }
    return this.write(() => lock.update(desired, current.resourceVersion), desired);
  }

  private async renewLoop(signal: AbortSignal): Promise<ElectionOutcome> {
    const { clock, retryPeriodMs, renewDeadlineMs } = this.opts;
    for (;;) {
      if (!(await sleepUnlessAborted(clock, retryPeriodMs, signal))) return "stopped";
      for (;;) {
        const remainingMs = this.lastRenewMs + renewDeadlineMs - clock.now();
        if (remainingMs <= 0) {
          this.log.error({ renewDeadlineMs }, "failed to renew the lease within the renew deadline; leadership lost");
          return "lost";
        }
        if (await this.attempt(remainingMs)) {
          this.lastRenewMs = clock.now();
          break;
        }
        if (!(await sleepUnlessAborted(clock, Math.min(retryPeriodMs, remainingMs), signal))) return "stopped";
      }
    }
  }

  /** tryAcquireOrRenew bounded by `timeoutMs`; a hung or failed request counts as "not now". */
  private async attempt(timeoutMs: number): Promise<boolean> {
    const { clock } = this.opts;
    let timer: ReturnType<Clock["setTimeout"]> | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = clock.setTimeout(() => resolve(false), timeoutMs);
    });
    const tried = this.tryAcquireOrRenew().catch((err: unknown) => {
      this.log.warn({ err: err instanceof Error ? err.message : String(err) }, "lease read or write failed");
      return false;
    });
    try {
      return await Promise.race([tried, timedOut]);
    } finally {
      if (timer !== undefined) clock.clearTimeout(timer);
    }
  }

  private async write(send: () => Promise<string>, record: LeaderElectionRecord): Promise<boolean> {
    try {
      const resourceVersion = await send();
      this.observed = { record, resourceVersion };
      this.observedAtMs = this.opts.clock.now();
      return true;
    } catch (err) {
      if (err instanceof LeaseConflictError) return false;
      throw err;
    }
  }

  /** Gives the lease up so a follower need not wait for it to expire. */
  private async release(): Promise<void> {
    const observed = this.observed;
    if (observed === undefined || observed.record.holderIdentity !== this.identity) return;
    const now = this.opts.clock.now();
    const released: LeaderElectionRecord = {
      holderIdentity: "",
      leaseDurationSeconds: 1,
      acquireTimeMs: now,
      renewTimeMs: now,
      leaseTransitions: observed.record.leaseTransitions,
    };
    try {
      await this.write(() => this.opts.lock.update(released, observed.resourceVersion), released);
      this.log.info("released the lease");
    } catch (err) {
      this.log.warn({ err: err instanceof Error ? err.message : String(err) }, "failed to release the lease");
    }
  }

  private setLeading(leading: boolean): void {
    this.leading = leading;
    this.opts.metrics?.leaderStatus.set({ name: this.opts.name }, leading ? 1 : 0);
  }
}

function sameRecord(a: LeaderElectionRecord, b: LeaderElectionRecord): boolean {
  return (
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.acquireTimeMs === b.acquireTimeMs &&
    a.renewTimeMs === b.renewTimeMs &&
    a.leaseTransitions === b.leaseTransitions
  );
}

/** Sleeps on `clock`; false when `signal` aborted before or during the sleep. */
async function sleepUnlessAborted(clock: Clock, delayMs: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  try {
    await clock.sleep(delayMs, signal);
    return true;
  } catch {
    return false;
  }
}
