import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { KubeClient } from "../../../src/runtime/index.ts";
import { WIDGET, widget, type Widget } from "../../fixtures/runtime/widget.ts";
import type { TestEnv } from "../../testenv/index.ts";
import { ManagerProcess } from "./manager-process.ts";
import { createNamespace, eventually, newClient, startRuntimeEnv } from "./support.ts";

interface LeaseJson {
  metadata: { resourceVersion: string };
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; leaseTransitions?: number; renewTime?: string };
}

const timings = { leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 1_000 };

describe("leader election between two manager processes", () => {
  let env: TestEnv | undefined;
  let client: KubeClient;
  const processes: ManagerProcess[] = [];
  const ns = "election-test";
  const leaseName = "sample-manager";

  before(async () => {
    env = await startRuntimeEnv();
    client = newClient(env);
    await createNamespace(client, ns);
  });

  after(async () => {
    await Promise.all(processes.map((p) => p.kill()));
    await client?.transport.close();
    await env?.stop();
  });

  function spawnManager(identity: string): ManagerProcess {
    assert.ok(env);
    const p = new ManagerProcess({
      identity,
      kubeconfigPath: env.kubeconfigPath,
      namespace: ns,
      leaseName,
      logPath: join(env.dir, `${identity}.log`),
      ...timings,
    });
    processes.push(p);
    return p;
  }

  async function lease(): Promise<LeaseJson> {
    const response = await client.transport.request({
      method: "GET",
      path: `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/${leaseName}`,
    });
    return JSON.parse(response.body) as LeaseJson;
  }

  async function reconciledBy(name: string): Promise<string | undefined> {
    return (await client.get<Widget>(WIDGET, { namespace: ns, name })).status?.reconciledBy;
  }

  let first: ManagerProcess;
  let second: ManagerProcess;

  it("lets exactly one of two processes lead and reconcile", async () => {
    const a = spawnManager("manager-a");
    const b = spawnManager("manager-b");
    await Promise.all([a.waitFor("started", 60_000), b.waitFor("started", 60_000)]);
    await eventually(() => a.milestones.has("leading") || b.milestones.has("leading"), { message: "someone leads" });
    // Give the other a few retry periods to (wrongly) lead as well.
    await new Promise((resolve) => setTimeout(resolve, 3 * timings.retryPeriodMs));
    const leaders = [a, b].filter((p) => p.milestones.has("leading"));
    assert.equal(leaders.length, 1);
    first = leaders[0]!;
    second = first === a ? b : a;
    assert.equal((await lease()).spec.holderIdentity, first.identity);

    for (const name of ["one", "two", "three"]) await client.create(WIDGET, widget(ns, name, name));
    for (const name of ["one", "two", "three"]) {
      await eventually(async () => (await reconciledBy(name)) !== undefined, { message: `${name} reconciled` });
      assert.equal(await reconciledBy(name), first.identity, `${name} reconciled by the leader only`);
    }
    const metricsOf = async (p: ManagerProcess) =>
      (await fetch(`http://127.0.0.1:${String(p.milestones.get("started")?.line.probesPort)}/metrics`)).text();
    assert.match(await metricsOf(first), /leader_election_master_status\{name="sample-manager"\} 1/);
    const followerMetrics = await metricsOf(second);
    assert.match(followerMetrics, /leader_election_master_status\{name="sample-manager"\} 0/);
    assert.doesNotMatch(followerMetrics, /controller_runtime_reconcile_total\{controller="widget",result="success"\} [1-9]/);
  });

  it("hands over to the other process within the lease duration when the leader is SIGKILLed", async () => {
    const before = await lease();
    const killedAt = Date.now();
    await first.kill();
    const { at } = await second.waitFor("leading", 20_000);
    const takeoverMs = at - killedAt;
    const lastRenewMs = Date.parse(before.spec.renewTime ?? "");
    process.stdout.write(`# takeover ${takeoverMs} ms after SIGKILL, ${at - lastRenewMs} ms after the last renewal\n`);
    // Expiry is judged from when the follower last saw the record change (≤ one
    // jittered retry before the kill), plus one jittered retry to notice.
    const bound = timings.leaseDurationMs + 2 * timings.retryPeriodMs * 2.2;
    assert.ok(takeoverMs <= bound, `took ${takeoverMs} ms, bound ${bound} ms`);
    assert.ok(takeoverMs >= timings.leaseDurationMs - timings.retryPeriodMs * 2.2, "did not take over before expiry");
    const after = await lease();
    assert.equal(after.spec.holderIdentity, second.identity);
    assert.equal(after.spec.leaseTransitions, (before.spec.leaseTransitions ?? 0) + 1);

    await client.create(WIDGET, widget(ns, "four", "four"));
    await eventually(async () => (await reconciledBy("four")) === second.identity, { message: "new leader reconciles" });
  });

  it("shuts down cleanly on SIGTERM (exit 0) and releases the Lease", async () => {
    second.signal("SIGTERM");
    const exit = await Promise.race([
      second.exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no exit within 15 s")), 15_000)),
    ]);
    assert.deepEqual(exit, { code: 0, signal: null });
    const released = await lease();
    assert.equal(released.spec.holderIdentity ?? "", "");
    assert.equal(released.spec.leaseDurationSeconds, 1);
  });

  it("stops and exits non-zero when the leader cannot renew within renewDeadline", async () => {
    assert.ok(env);
    const c = spawnManager("manager-c");
    await c.waitFor("leading", 60_000);
    await env.killApiServer();
    const killedAt = Date.now();
    try {
      const exit = await Promise.race([
        c.exited,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error("still running 20 s after the API server died")), 20_000)),
      ]);
      const exitMs = Date.now() - killedAt;
      process.stdout.write(`# leader exited ${exitMs} ms after the API server died\n`);
      assert.equal(exit.code, 1);
      // It must be gone before a follower could take over (leaseDuration after its last renewal).
      assert.ok(exitMs < timings.leaseDurationMs, `exited after ${exitMs} ms`);
    } finally {
      await env.startApiServer();
    }
  });
});
