// Shared set-up for the client-against-simulator tests: a simulator on port 0 with a
// small, known inventory (so constraints have predictable answers) and a client with
// short timeouts and retry delays, because these tests run on real time.
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
        { hostname: "big-2", cpuCount: 16, memoryMiB: 65536, zone: "zone-a", tags: [] },
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
