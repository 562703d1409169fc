import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startHarness, type Harness } from "./test-support.ts";

async function admin(h: Harness, method: string, path: string, body?: unknown): Promise<{ status: number; json: () => Record<string, unknown> }> {
  const res = await fetch(`${h.sim.adminUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: () => JSON.parse(text) as Record<string, unknown> };
}

describe("admin API under /_sim/", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ machines: 1, deploySeconds: 5, apiKey: "CKX:TKX:Secret0Value0XYZ" });
  });
  after(async () => {
    await h.sim.close();
  });

  it("shows the full state without secrets", async () => {
    const r = await admin(h, "GET", "/state");
    assert.equal(r.status, 200);
    const state = r.json();
    assert.equal(state.maasVersion, "3.6.0");
    assert.equal((state.machines as unknown[]).length, 1);
    assert.ok(!JSON.stringify(state).includes("Secret0Value0XYZ"), "no token secret");
  });

  it("adds machines by count and by description", async () => {
    const r = await admin(h, "POST", "/machines", { count: 1, machines: [{ hostname: "extra", cpuCount: 32, tags: ["big"] }] });
    assert.equal(r.status, 201);
    const added = r.json().machines as Array<{ hostname: string; systemId: string }>;
    assert.equal(added.length, 2);
    assert.equal(added[0]?.hostname, "extra");
    const api = await h.client.post("machines/", "allocate", { tags: "big", dry_run: "true" });
    assert.equal(api.json().hostname, "extra");
  });

  it("refuses an added machine a hostname in use, also one a machine was renamed to", async () => {
    const systemId = h.sim.state().machines[0]?.systemId ?? "";
    assert.equal((await h.client.call("PUT", `machines/${systemId}/`, { form: { hostname: "renamed" } })).status, 200);
    const r = await admin(h, "POST", "/machines", { machines: [{ hostname: "renamed" }] });
    assert.equal(r.status, 400);
    assert.match(r.json().error as string, /hostname "renamed" is used twice/);
  });

  it("refuses a bad machine description, naming the field", async () => {
    const r = await admin(h, "POST", "/machines", { machines: [{ memoryMiB: "8G" }] });
    assert.equal(r.status, 400);
    assert.match(String(r.json().error), /machines\[0\]\.memoryMiB is invalid \(got "8G"\); write a whole number ≥ 1 \(MiB as a number, e\.g\. memoryMiB: 8192\)/);
  });

  it("tunes a machine's deploy time and makes its next deployment fail", async () => {
    const id = h.sim.state().machines[0]?.systemId ?? "";
    const r = await admin(h, "PATCH", `/machines/${id}`, { deploySeconds: 1, failDeployment: true });
    assert.equal(r.status, 200);
    await h.client.post(`machines/${id}/`, "deploy", {});
    await h.clock.advance(1_000);
    assert.equal(h.sim.state().machines[0]?.status, 11);
    assert.equal((await admin(h, "PATCH", `/machines/${id}`, { colour: 1 })).status, 400);
    assert.equal((await admin(h, "PATCH", "/machines/nosuch", {})).status, 404);
  });

  it("sets, shows and clears faults", async () => {
    const put = await admin(h, "PUT", "/faults", { rules: [{ kind: "unavailable", path: "^/zones/$", times: 1 }], seed: 3 });
    assert.equal(put.status, 200);
    assert.equal((await h.client.get("zones/")).status, 503);
    const shown = (await admin(h, "GET", "/faults")).json();
    assert.equal(shown.seed, 3);
    assert.equal((shown.rules as Array<{ fired: number }>)[0]?.fired, 1);
    assert.equal((await admin(h, "PUT", "/faults", { rules: [{ kind: "nope" }] })).status, 400);
    assert.equal((await admin(h, "DELETE", "/faults")).status, 204);
    assert.deepEqual((await admin(h, "GET", "/faults")).json().rules, []);
  });

  it("lists and clears the request log", async () => {
    await h.client.get("zones/");
    const log = (await fetch(`${h.sim.adminUrl}/requests`).then((r) => r.json())) as Array<{ path: string; status: number }>;
    assert.ok(log.some((e) => e.path === "/MAAS/api/2.0/zones/" && e.status === 200));
    assert.ok(!log.some((e) => e.path.startsWith("/_sim")));
    assert.equal((await admin(h, "DELETE", "/requests")).status, 204);
    assert.deepEqual(h.sim.requestLog(), []);
  });

  it("answers 404 naming the index for an unknown admin path", async () => {
    const r = await admin(h, "GET", "/nope");
    assert.equal(r.status, 404);
    assert.match(String(r.json().error), /GET \/_sim\/ lists them/);
  });
});
