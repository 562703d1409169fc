// Watches one manager process from outside for the soak: its /metrics and /proc every
// 500 ms, kept as a compact series (MaasMachine queue depth, busy workers, adds,
// reconciles, RSS, CPU, MAAS calls so far), from which the soak reads the deepest
// queue of a window, finds the resyncs (every MaasMachine enqueued at once: the adds
// jump by most of N between two polls) and how long each took to drain.
import type { ManagerProcess } from "./provider-manager.ts";
import { queueNow, type MetricSample } from "./provider-metrics.ts";

export const POLL_MS = 500;

export interface Poll {
  t: number;
  depth: number;
  active: number;
  adds: number;
  reconciles: number;
  /** Reconciles that ended without asking to be requeued. */
  succeeded: number;
  rssMiB: number;
  cpu: number;
  /** How many MAAS calls the bench had recorded by then (an index into its log). */
  calls: number;
}

/** A burst of reconciles that enqueued (nearly) every MaasMachine at once, from the poll before it to the poll that found the queue empty. */
export interface Resync {
  before: Poll;
  beforeMetrics: MetricSample[];
  after: Poll | undefined;
  afterMetrics: MetricSample[] | undefined;
  maxDepth: number;
}

export class ManagerMonitor {
  readonly polls: Poll[] = [];
  readonly resyncs: Resync[] = [];
  /** Resyncs are looked for from this time on: while machines are being created the adds can jump as far. */
  detectResyncsFrom = Number.POSITIVE_INFINITY;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private previous: { poll: Poll; metrics: MetricSample[] } | undefined;

  /** `machines`: how many MaasMachines a resync enqueues; `calls`: the bench's count of MAAS calls so far. */
  constructor(
    private readonly manager: ManagerProcess,
    private readonly machines: number,
    private readonly calls: () => Promise<number>,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  latest(): Poll | undefined {
    return this.polls.at(-1);
  }

  /** The deepest MaasMachine queue polled in [from, to]. */
  maxDepth(from: number, to: number): number {
    let max = 0;
    for (const p of this.polls) if (p.t >= from && p.t <= to && p.depth > max) max = p.depth;
    return max;
  }

  /** Resolves with the first poll at or after `from` for which `done` holds; rejects after `timeoutMs`. */
  async waitFor(what: string, from: number, done: (poll: Poll, index: number, polls: readonly Poll[]) => boolean, timeoutMs: number): Promise<Poll> {
    const deadline = Date.now() + timeoutMs;
    let checked = 0;
    for (;;) {
      for (; checked < this.polls.length; checked++) {
        const poll = this.polls[checked];
        if (poll !== undefined && poll.t >= from && done(poll, checked, this.polls)) return poll;
      }
      if (Date.now() > deadline) throw new Error(`timed out after ${String(timeoutMs / 1000)} s waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS / 2));
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const next = Date.now() + POLL_MS;
      try {
        const metrics = await this.manager.scrape();
        const q = queueNow(metrics);
        const poll: Poll = { t: Date.now(), ...q, rssMiB: this.manager.memory().rssMiB, cpu: this.manager.cpuSeconds(), calls: await this.calls() };
        this.polls.push(poll);
        this.track(poll, metrics);
      } catch {
        // A manager that is stopping answers no more; the poll is skipped, not fatal.
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())));
    }
  }

  private track(poll: Poll, metrics: MetricSample[]): void {
    const open = this.resyncs.at(-1);
    if (open !== undefined && open.after === undefined) {
      open.maxDepth = Math.max(open.maxDepth, poll.depth);
      if (poll.depth === 0 && poll.active === 0) {
        open.after = poll;
        open.afterMetrics = metrics;
      }
    } else if (this.previous !== undefined && this.previous.poll.t >= this.detectResyncsFrom && poll.adds - this.previous.poll.adds >= this.machines / 2) {
      const resync: Resync = { before: this.previous.poll, beforeMetrics: this.previous.metrics, after: undefined, afterMetrics: undefined, maxDepth: poll.depth };
      this.resyncs.push(resync);
      if (poll.depth === 0 && poll.active === 0) {
        // Drained within one poll.
        resync.after = poll;
        resync.afterMetrics = metrics;
      }
    }
    this.previous = { poll, metrics };
  }
}
