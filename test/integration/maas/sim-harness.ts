// Shared set-up for the client-against-simulator tests: a simulator on port 0 with a
// small, known inventory (so constraints have predictable answers), a client, and for
// retry and timeout tests a client on a FakeClock that the test moves through each
// backoff sleep and request timeout, so no test waits on real time.
import { FakeClock } from "../../../src/clock/index.ts";
import { startSimulator } from "../../../src/sim/index.ts";
import { MaasClient, type MaasClientOptions } from "../../../src/maas/index.ts";

export type Simulator = Awaited<ReturnType<typeof startSimulator>>;

export const AGENT = "capi-test";
export const VIEWER_KEY = "viewerCK0000000000:viewerTK0000000000:viewerTS00000000000000000000000000";

export async function startTestSimulator(): Promise<Simulator> {
  return startSimulator({
    port: 0,
    seed: 1,
    maasVersion: "3.6.0",
    deploySeconds: 0,
    releaseSeconds: 0,
    inventory: {
      zones: [{ name: "zone-a", description: "rack A" }, { name: "zone-b" }],
      pools: [{ name: "capi", description: "for clusters" }],
      domains: [{ name: "example.com", ttl: 300, authoritative: true }],
      tags: [{ name: "control-plane", comment: "control planes" }, { name: "small" }],
      bootResources: [{ name: "ubuntu/jammy" }, { name: "ubuntu/noble" }, { name: "custom/k8s-image", type: "uploaded" }],
      users: [{ username: "viewer", apiKey: VIEWER_KEY, admin: false }],
      machines: [
        { hostname: "small-1", cpuCount: 2, memoryMiB: 4096, zone: "zone-a", pool: "capi", tags: ["small"] },
        { hostname: "cp-1", cpuCount: 4, memoryMiB: 8192, zone: "zone-a", pool: "capi", tags: ["control-plane"] },
        { hostname: "cp-2", cpuCount: 4, memoryMiB: 8192, zone: "zone-b", pool: "capi", tags: ["control-plane"] },
        { hostname: "big-1", cpuCount: 16, memoryMiB: 65536, zone: "zone-b", tags: [] },
        // The only machine with a second disk (every other has one 500 GB disk), for storage constraints.
        { hostname: "big-2", cpuCount: 16, memoryMiB: 65536, zone: "zone-a", tags: [], disks: [{ sizeGB: 500 }, { sizeGB: 2000, tags: ["rotary"] }] },
      ],
    },
  });
}

export function clientFor(sim: Simulator, options: Partial<MaasClientOptions> = {}): MaasClient {
  return new MaasClient({
    endpoint: sim.endpoint,
    apiKey: sim.apiKey,
    timeoutMs: 5000,
    retry: { maxAttempts: 4, baseDelayMs: 10, maxDelayMs: 2000 },
    ...options,
  });
}

/** The simulator's log entries for one operation (path below /MAAS/api/2.0 as a regex). */
export function logEntries(sim: Simulator, method: string, path: RegExp, op?: string) {
  return sim
    .requestLog()
    .filter((e) => e.method === method && path.test(e.path.replace(/^.*\/api\/2\.0/, "")) && (op === undefined || e.op === op));
}

/** A FakeClock that remembers every sleep it was asked for (the client's backoff and Retry-After waits). */
export class RecordingClock extends FakeClock {
  readonly sleeps: number[] = [];

  constructor() {
    // Starts at the real time: the simulator checks OAuth timestamps against its own clock.
    super(Date.now());
  }

  override sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(delayMs);
    return super.sleep(delayMs, signal);
  }
}

export interface DriveOptions {
  clock: RecordingClock;
  /** The client's timeoutMs; moved past whenever `held()` counts a new held request. */
  timeoutMs?: number;
  /** How many requests the simulator is holding unanswered (a "timeout" fault) so far. */
  held?: () => number;
}

/**
 * Lets `promise` (calls on a client driven by `clock`) settle: advances the clock through
 * each sleep the client takes, and past the request timeout once the simulator holds a
 * request. In between it waits for I/O to happen, never for time to pass.
 */
export async function drive<T>(promise: Promise<T>, options: DriveOptions): Promise<T> {
  const { clock, timeoutMs, held } = options;
  let done = false;
  promise.then(() => (done = true), () => (done = true));
  let sleepsSeen = 0;
  let heldSeen = 0;
  while (!done) {
    const sleep = clock.sleeps[sleepsSeen];
    const holding = held?.() ?? 0;
    if (sleep !== undefined) {
      sleepsSeen++;
      await clock.advance(sleep);
    } else if (timeoutMs !== undefined && holding > heldSeen) {
      heldSeen = holding;
      await clock.advance(timeoutMs);
    } else {
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  return promise;
}
