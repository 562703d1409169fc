// The MaasMachineTemplate controller against a real kube-apiserver and the MAAS
// simulator: status.capacity and nodeInfo as the cluster autoscaler reads them, from a
// dry-run allocation or the template's minimums, refreshed once per interval. The
// reconciler's clock is a FakeClock the tests move, so "within the interval" and "after
// it" need no waiting; informers resync every 250 ms, so events keep arriving between.
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { Registry } from "prom-client";
import {
  CapacityFromMaasReason,
  CapacityFromTemplateReason,
  CapacityReadyCondition,
  ClusterNameLabel,
  MAAS_MACHINE_TEMPLATE,
  MaasReachableCondition,
  MaasUnavailableReason,
  PausedAnnotation,
  PausedCondition,
  QUANTITY_PATTERN,
  type MaasMachineSpec,
  type MaasMachineTemplate,
} from "../../../src/api/v1beta1/index.ts";
import { CAPI_CLUSTER, CAPI_INDEXERS, type Cluster } from "../../../src/capi/index.ts";
import { FakeClock, systemClock } from "../../../src/clock/index.ts";
import { setupMaasMachineTemplateController } from "../../../src/controllers/maasmachinetemplate/setup.ts";
import { DEFAULT_SETTINGS, type ControllerDeps } from "../../../src/controllers/shared/deps.ts";
import { MaasConnection } from "../../../src/controllers/shared/maas-connection.ts";
import { createProviderMetrics } from "../../../src/controllers/shared/metrics.ts";
import { createMaasClient } from "../../../src/maas/index.ts";
import { createLogger } from "../../../src/observability/index.ts";
import { KubeClient, KubeTransport, Manager, getCondition, type KindSpec } from "../../../src/runtime/index.ts";
import { MachineStatus, startSimulator, type RunningSimulator } from "../../../src/sim/index.ts";
import { useSharedTestEnv } from "../../testenv/shared.ts";
import type { TestEnvHandle } from "../../testenv/test-env.ts";

const NAMESPACE: KindSpec = { group: "", version: "v1", kind: "Namespace", plural: "namespaces", namespaced: false };
const REFRESH_MS = DEFAULT_SETTINGS.templateCapacityRefreshMs;
const logger = createLogger({ level: process.env.LOG_LEVEL ?? "silent" });

/** What the autoscaler accepts: resource.ParseQuantity's grammar, and nothing but strings. */
function assertAutoscalerReadable(capacity: Record<string, unknown> | undefined): void {
  assert.ok(capacity !== undefined, "status.capacity is set");
  for (const [name, value] of Object.entries(capacity)) {
    assert.equal(typeof value, "string", `${name} is a string`);
    assert.match(String(value), new RegExp(QUANTITY_PATTERN), `${name} is a quantity`);
  }
}

/** Bytes of a quantity with the suffixes the controller writes. */
function quantityBytes(quantity: string): number {
  const units: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12, "": 1 };
  const match = /^(\d+)(Ki|Mi|Gi|Ti|k|M|G|T|)$/.exec(quantity);
  assert.ok(match !== null, `${quantity} has a known suffix`);
  return Number(match[1]) * (units[match[2] ?? ""] ?? NaN);
}

describe("MaasMachineTemplate controller", () => {
  let env: TestEnvHandle;
  let sim: RunningSimulator;
  let manager: Manager;
  let maas: MaasConnection;
  let client: KubeClient;
  let namespace: string;
  const clock = new FakeClock(Date.now());

  before(async () => {
    env = await useSharedTestEnv();
    sim = await startSimulator({
      port: 0,
      maasVersion: "3.6.0",
      inventory: {
        zones: [{ name: "zone-a" }],
        pools: [{ name: "workers" }],
        tags: [{ name: "worker" }],
        machines: [
          // The cheapest match of the worker templates: MAAS orders by cpu_count + memory/1024.
          { hostname: "arm-small", cpuCount: 8, memoryMiB: 32768, architecture: "arm64/generic", disks: [{ sizeGB: 480 }, { sizeGB: 2000 }], pool: "workers", tags: ["worker"] },
          { hostname: "arm-big", cpuCount: 16, memoryMiB: 65536, architecture: "arm64/generic", pool: "workers", tags: ["worker"] },
          { hostname: "x86-spare", cpuCount: 4, memoryMiB: 8192, architecture: "amd64/generic" },
        ],
      },
    });
    maas = new MaasConnection({
      // Its machine watcher polls on this clock; only the reconciler's clock is the test's.
      clock: systemClock,
      logger,
      onMachineChange: () => undefined,
      createClient: (credentials) => createMaasClient({ ...credentials, logger, retry: { maxAttempts: 1 } }),
    });
    maas.configure({ endpoint: sim.endpoint, apiKey: sim.apiKey });
    manager = new Manager({
      kubeConfig: env.kubeConfig(),
      logger,
      probesPort: false,
      indexers: CAPI_INDEXERS,
      informers: { resyncPeriodMs: 250 },
      shutdownDeadlineMs: 5000,
    });
    const deps: ControllerDeps = {
      client: manager.client,
      events: manager.events,
      maas,
      clock,
      settings: DEFAULT_SETTINGS,
      metrics: createProviderMetrics(new Registry()),
    };
    setupMaasMachineTemplateController({ manager, deps, workers: 2, scope: {} });
    client = new KubeClient({
      transport: new KubeTransport({ kubeConfig: env.kubeConfig() }),
      fieldManager: "template-test",
      kinds: [NAMESPACE, MAAS_MACHINE_TEMPLATE, CAPI_CLUSTER],
    });
    namespace = `templates-${String(process.pid)}-${String(Date.now() % 100_000)}`;
    await client.create(NAMESPACE, { metadata: { name: namespace } });
    await manager.start();
  });

  after(async () => {
    await manager?.stop();
    maas?.close();
    await sim?.close();
    await client?.delete(NAMESPACE, { name: namespace }).catch(() => undefined);
    await env?.stop();
  });

  const template = (name: string, spec: Partial<MaasMachineSpec>, labels?: Record<string, string>): MaasMachineTemplate => ({
    apiVersion: "infrastructure.cluster.x-k8s.io/v1beta1",
    kind: "MaasMachineTemplate",
    metadata: { name, namespace, ...(labels === undefined ? {} : { labels }) },
    spec: { template: { spec: { minCPU: 1, minMemory: 1024, image: "ubuntu/jammy", ...spec } } },
  });
  const createTemplate = (obj: MaasMachineTemplate) => client.create<MaasMachineTemplate>(MAAS_MACHINE_TEMPLATE, obj);
  const read = (name: string) => client.get<MaasMachineTemplate>(MAAS_MACHINE_TEMPLATE, { namespace, name });
  const patch = (name: string, body: object) => client.patch(MAAS_MACHINE_TEMPLATE, { namespace, name }, body, { type: "merge" });

  /** Polls the stored template until `done` holds. */
  async function until(name: string, done: (t: MaasMachineTemplate) => boolean, what: string): Promise<MaasMachineTemplate> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const current = await read(name);
      if (done(current)) return current;
      if (Date.now() > deadline) assert.fail(`timed out waiting until ${name} ${what}; status: ${JSON.stringify(current.status)}`);
      await sleep(50);
    }
  }
  const reason = (t: MaasMachineTemplate, type: string) => getCondition(t.status?.conditions, type)?.reason;
  /** Dry-run allocations the simulator served for a template, told apart by its unique minMemory. */
  const dryRuns = (minMemory: number) =>
    sim.requestLog().filter((e) => e.op === "allocate" && e.params.mem === String(minMemory) && e.status !== null);

  describe("when a Ready MAAS machine matches the template", () => {
    const spec = { minCPU: 4, minMemory: 16000, tags: ["worker"], resourcePool: "workers" };

    it("publishes the cpu, memory and root filesystem of the machine MAAS would allocate, as quantity strings", async () => {
      await createTemplate(template("workers", spec));
      const t = await until("workers", (x) => reason(x, CapacityReadyCondition) === CapacityFromMaasReason, "reads MAAS");
      assertAutoscalerReadable(t.status?.capacity);
      assert.equal(t.status?.capacity?.cpu, "8");
      assert.equal(t.status?.capacity?.memory, "32Gi");
      // "/" is a partition of the 480 GB first disk (MAAS's flat layout), a little smaller than the disk.
      const rootBytes = quantityBytes(t.status?.capacity?.["ephemeral-storage"] ?? "");
      assert.ok(rootBytes > 479e9 && rootBytes <= 480e9, `ephemeral-storage ${String(rootBytes)} is the first disk's root partition`);
      assert.deepEqual(t.status?.nodeInfo, { architecture: "arm64", operatingSystem: "linux" });
      assert.equal(getCondition(t.status?.conditions, MaasReachableCondition)?.status, "True");
      assert.equal(getCondition(t.status?.conditions, PausedCondition)?.status, "False");
      assert.equal(t.status?.observedGeneration, t.metadata.generation);
    });

    it("allocates nothing: the dry run leaves every machine Ready and unowned", () => {
      const [call] = dryRuns(16000);
      assert.equal(call?.params.dry_run, "true");
      for (const machine of sim.state().machines) {
        assert.equal(machine.owner, null, `${machine.hostname} has no owner`);
        assert.equal(machine.status, MachineStatus.READY, `${machine.hostname} is Ready`);
      }
    });
  });

  describe("when the template deploys to memory", () => {
    it("leaves ephemeral-storage out: the root filesystem is in RAM, not on the disk", async () => {
      await createTemplate(template("in-memory", { minCPU: 4, minMemory: 16001, tags: ["worker"], ephemeral: true }));
      const t = await until("in-memory", (x) => reason(x, CapacityReadyCondition) === CapacityFromMaasReason, "reads MAAS");
      assertAutoscalerReadable(t.status?.capacity);
      assert.deepEqual(t.status?.capacity, { cpu: "8", memory: "32Gi" });
    });
  });

  describe("when no MAAS machine matches", () => {
    it("publishes the template's minimums and says in CapacityReady that MAAS had no match", async () => {
      await createTemplate(template("too-big", { minCPU: 128, minMemory: 16002 }));
      const t = await until("too-big", (x) => reason(x, CapacityReadyCondition) === CapacityFromTemplateReason, "falls back");
      assert.deepEqual(t.status?.capacity, { cpu: "128", memory: "16002Mi" });
      assertAutoscalerReadable(t.status?.capacity);
      const ready = getCondition(t.status?.conditions, CapacityReadyCondition);
      assert.equal(ready?.status, "False");
      assert.match(ready?.message ?? "", /No MAAS machine matches now .*No available machine matches constraints/);
      assert.deepEqual(t.status?.nodeInfo, { operatingSystem: "linux" });
      assert.equal(getCondition(t.status?.conditions, MaasReachableCondition)?.status, "True");
    });
  });

  describe("when MAAS is unavailable", () => {
    after(() => sim.clearFaults());

    it("publishes the template's minimums, marks MAAS unreachable, and reads MAAS once it answers again", async () => {
      sim.setFaults([{ op: "allocate", kind: "unavailable", retryAfterSeconds: 0 }]);
      await createTemplate(template("outage", { minCPU: 2, minMemory: 16003, tags: ["worker"] }));
      const t = await until("outage", (x) => reason(x, MaasReachableCondition) === MaasUnavailableReason, "sees the outage");
      assert.deepEqual(t.status?.capacity, { cpu: "2", memory: "16003Mi" });
      assert.equal(reason(t, CapacityReadyCondition), CapacityFromTemplateReason);
      assert.match(getCondition(t.status?.conditions, CapacityReadyCondition)?.message ?? "", /MAAS could not be asked/);
      assert.equal(t.status?.lastRefreshTime, undefined);
      sim.clearFaults();
      const back = await until("outage", (x) => reason(x, CapacityReadyCondition) === CapacityFromMaasReason, "recovers");
      assert.equal(back.status?.capacity?.cpu, "8");
      assert.ok(back.status?.lastRefreshTime !== undefined);
      assert.equal(getCondition(back.status?.conditions, MaasReachableCondition)?.status, "True");
    });
  });

  describe("between refreshes", () => {
    it("does not ask MAAS again for events within the refresh interval", async () => {
      assert.equal(dryRuns(16000).length, 1, "one dry run so far");
      // A pause and an unpause: two events the controller reconciles, no generation change.
      await patch("workers", { metadata: { annotations: { [PausedAnnotation]: "" } } });
      await until("workers", (x) => getCondition(x.status?.conditions, PausedCondition)?.status === "True", "is paused");
      await patch("workers", { metadata: { annotations: { [PausedAnnotation]: null } } });
      await until("workers", (x) => getCondition(x.status?.conditions, PausedCondition)?.status === "False", "is unpaused");
      await sleep(1000); // four resyncs more
      assert.equal(dryRuns(16000).length, 1);
    });

    it("asks MAAS at once when the spec changes (a new generation)", async () => {
      await patch("workers", { spec: { template: { spec: { minCPU: 9 } } } });
      const t = await until("workers", (x) => x.status?.capacity?.cpu === "16", "reads the bigger machine");
      assert.equal(t.status?.capacity?.memory, "64Gi");
      assert.equal(t.status?.observedGeneration, t.metadata.generation);
      assert.equal(dryRuns(16000).length, 2);
      assert.equal(dryRuns(16000).at(-1)?.params.cpu_count, "9");
    });

    it("asks MAAS again once the interval has passed", async () => {
      const refreshed = (await read("workers")).status?.lastRefreshTime;
      await clock.advance(REFRESH_MS + 1000);
      const t = await until("workers", (x) => x.status?.lastRefreshTime !== refreshed, "refreshes");
      assert.equal(dryRuns(16000).length, 3);
      assert.equal(reason(t, CapacityReadyCondition), CapacityFromMaasReason);
    });
  });

  describe("when its Cluster is paused", () => {
    it("does not read MAAS for a template labelled with that Cluster, and reads it once the Cluster is unpaused", async () => {
      await client.create(CAPI_CLUSTER, { apiVersion: "cluster.x-k8s.io/v1beta2", kind: "Cluster", metadata: { name: "frozen", namespace }, spec: { paused: true } });
      await createTemplate(template("frozen-workers", { minCPU: 4, minMemory: 16004, tags: ["worker"] }, { [ClusterNameLabel]: "frozen" }));
      const t = await until("frozen-workers", (x) => getCondition(x.status?.conditions, PausedCondition)?.status === "True", "is paused");
      assert.equal(t.status?.capacity, undefined);
      await sleep(600);
      assert.equal(dryRuns(16004).length, 0);
      await client.patch(CAPI_CLUSTER, { namespace, name: "frozen" }, { spec: { paused: false } }, { type: "merge" });
      await until("frozen-workers", (x) => reason(x, CapacityReadyCondition) === CapacityFromMaasReason, "reads MAAS");
      assert.equal(dryRuns(16004).length, 1);
    });

    it("does not read MAAS for a template the paused Cluster owns (CAPI's owner reference), and reads it once unpaused", async () => {
      const owner = await client.create<Cluster>(CAPI_CLUSTER, { apiVersion: "cluster.x-k8s.io/v1beta2", kind: "Cluster", metadata: { name: "owner-frozen", namespace }, spec: { paused: true } });
      const owned = template("owned-workers", { minCPU: 4, minMemory: 16006, tags: ["worker"] });
      owned.metadata.ownerReferences = [{ apiVersion: "cluster.x-k8s.io/v1beta2", kind: "Cluster", name: "owner-frozen", uid: owner.metadata.uid ?? "" }];
      await createTemplate(owned);
      await until("owned-workers", (x) => getCondition(x.status?.conditions, PausedCondition)?.status === "True", "is paused");
      await sleep(600);
      assert.equal(dryRuns(16006).length, 0);
      await client.patch(CAPI_CLUSTER, { namespace, name: "owner-frozen" }, { spec: { paused: false } }, { type: "merge" });
      await until("owned-workers", (x) => reason(x, CapacityReadyCondition) === CapacityFromMaasReason, "reads MAAS");
      assert.equal(dryRuns(16006).length, 1);
    });

    it("still reads MAAS for a template without the cluster-name label", async () => {
      await client.create(CAPI_CLUSTER, { apiVersion: "cluster.x-k8s.io/v1beta2", kind: "Cluster", metadata: { name: "also-frozen", namespace }, spec: { paused: true } });
      await createTemplate(template("shared", { minCPU: 4, minMemory: 16005, tags: ["worker"] }));
      const t = await until("shared", (x) => reason(x, CapacityReadyCondition) === CapacityFromMaasReason, "reads MAAS");
      assert.equal(getCondition(t.status?.conditions, PausedCondition)?.status, "False");
    });
  });
});
