// What the provider benchmark writes in place of Cluster API (a provisioned Cluster,
// and per machine a bootstrap Secret, a Machine and the MaasMachine it owns), the
// watches it measures with (MaasMachines and Events, through the runtime's Informer:
// every change is seen when it happens, no list polling), and the floor: the fewest
// writes any provider must make per machine, made by the bench itself.
import { MAAS_MACHINE, MaasMachineFinalizer, MachineDeployedCondition, ReadyCondition, type MaasMachine } from "../src/api/v1beta1/index.ts";
import { CAPI_CLUSTER, CAPI_MACHINE, SECRET } from "../src/capi/index.ts";
import type { Logger } from "../src/observability/index.ts";
import { Informer, apiServerSource, getCondition, kindLabel, type KindSpec, type KubeClient, type KubeObject } from "../src/runtime/index.ts";
import {
  CLOUD_INIT,
  NAMESPACE_KIND,
  bootstrapSecret,
  clusterObject,
  machineObject,
  maasMachineObject,
} from "../test/integration/controllers/provider-harness.ts";

export const WRITERS = 32;
export const CLUSTER = "bench";
const FILTER = "bench";
export const EVENT = { group: "events.k8s.io", version: "v1", kind: "Event", plural: "events", namespaced: true } as const satisfies KindSpec;

export function machineName(i: number): string {
  return `m-${String(i).padStart(5, "0")}`;
}

/** A namespace holding a Cluster whose infrastructure is provisioned, as CAPI reports it. */
export async function prepareNamespace(client: KubeClient, namespace: string): Promise<void> {
  await client.create(NAMESPACE_KIND, { metadata: { name: namespace } });
  await client.create(CAPI_CLUSTER, clusterObject(FILTER, namespace, CLUSTER));
  await client.patch(CAPI_CLUSTER, { namespace, name: CLUSTER }, { status: { initialization: { infrastructureProvisioned: true } } }, { subresource: "status" });
}

/** Runs `task(i)` for i in 0..count-1 with `concurrency` workers. */
export async function inParallel(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

/** Per machine, as CAPI's controllers would leave it: the bootstrap Secret, the Machine naming it, the MaasMachine it owns. */
export async function createMachines(client: KubeClient, namespace: string, count: number): Promise<void> {
  await inParallel(count, WRITERS, async (i) => {
    const name = machineName(i);
    await client.create(SECRET, bootstrapSecret(namespace, `${name}-bootstrap`, CLUSTER, CLOUD_INIT));
    const machine = await client.create(CAPI_MACHINE, machineObject({ filter: FILTER, namespace, name, cluster: CLUSTER, dataSecretName: `${name}-bootstrap` }));
    const maasMachine = maasMachineObject(FILTER, namespace, name);
    maasMachine.metadata.labels = { ...maasMachine.metadata.labels, "cluster.x-k8s.io/cluster-name": CLUSTER };
    maasMachine.metadata.ownerReferences = [
      { apiVersion: "cluster.x-k8s.io/v1beta2", kind: "Machine", name, uid: machine.metadata.uid ?? "", controller: true, blockOwnerDeletion: true },
    ];
    await client.create(MAAS_MACHINE, maasMachine);
  });
}

export async function deleteMaasMachines(client: KubeClient, namespace: string, count: number): Promise<void> {
  await inParallel(count, WRITERS, (i) => client.delete(MAAS_MACHINE, { namespace, name: machineName(i) }));
}

/** One observed write to a MaasMachine (a MODIFIED watch event, or the DELETED that the last finalizer's removal causes). */
export interface ObservedWrite {
  name: string;
  label: string;
  timeMs: number;
}

/** Follows one namespace's MaasMachines through a watch: when each was added, got its spec, went Ready, was gone; and every write. */
export class MaasMachineTracker {
  readonly addedAt = new Map<string, number>();
  readonly specAt = new Map<string, number>();
  readonly readyAt = new Map<string, number>();
  readonly goneAt = new Map<string, number>();
  readonly systemIds = new Map<string, string>();
  readonly writes: ObservedWrite[] = [];
  onAdded: ((name: string) => void) | undefined;
  private readonly informer: Informer<MaasMachine>;

  constructor(client: KubeClient, namespace: string, logger: Logger) {
    this.informer = new Informer<MaasMachine>({ name: "bench-maasmachines", source: apiServerSource({ client, kind: MAAS_MACHINE, namespace }), logger, resyncPeriodMs: 0 });
    this.informer.on((event) => {
      const now = Date.now();
      const { name } = event.object.metadata;
      if (event.type === "add") {
        this.addedAt.set(name, now);
        this.observe(name, event.object, now);
        this.onAdded?.(name);
      } else if (event.type === "update" && !event.resync) {
        this.writes.push({ name, label: describeWrite(event.oldObject, event.object), timeMs: now });
        this.observe(name, event.object, now);
      } else if (event.type === "delete") {
        if (!event.finalStateUnknown) this.writes.push({ name, label: "finalizer- (gone)", timeMs: now });
        this.goneAt.set(name, now);
      }
    });
  }

  async start(): Promise<void> {
    this.informer.start();
    await this.informer.waitForSync();
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }

  /** Resolves once `done()` reaches `count`; the figures come from the event times, so the check's period does not matter. */
  async waitFor(what: string, done: () => number, count: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (done() < count) {
      if (Date.now() > deadline) throw new Error(`timed out after ${String(timeoutMs / 1000)} s: ${String(done())} of ${String(count)} MaasMachines ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  private observe(name: string, object: MaasMachine, now: number): void {
    const systemId = object.spec.systemID;
    if (systemId !== undefined && !this.specAt.has(name)) {
      this.specAt.set(name, now);
      this.systemIds.set(name, systemId);
    }
    if (getCondition(object.status?.conditions, ReadyCondition)?.status === "True" && !this.readyAt.has(name)) this.readyAt.set(name, now);
  }
}

function describeWrite(old: MaasMachine, cur: MaasMachine): string {
  if (old.metadata.deletionTimestamp === undefined && cur.metadata.deletionTimestamp !== undefined) return "delete (bench)";
  const parts: string[] = [];
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  const before = old.metadata.finalizers ?? [];
  const after = cur.metadata.finalizers ?? [];
  if (!same(before, after)) parts.push(after.length > before.length ? "finalizer+" : "finalizer-");
  if (!same(old.spec, cur.spec)) parts.push("spec");
  if (!same(old.status, cur.status)) {
    const ready = getCondition(cur.status?.conditions, ReadyCondition);
    const deployed = getCondition(cur.status?.conditions, MachineDeployedCondition);
    // No Ready or MachineDeployed yet: name the conditions the write changed instead.
    const changed = (cur.status?.conditions ?? []).filter((c) => !same(c, getCondition(old.status?.conditions, c.type))).map((c) => c.type);
    const reason = ready?.status === "True" ? "Ready" : (deployed?.reason ?? ready?.reason ?? (changed.join(",") || "-"));
    parts.push(`status[${reason}]`);
  }
  return parts.length === 0 ? "metadata" : parts.join("+");
}

type EventObject = KubeObject & { reason?: string };

/** Counts the Events written in one namespace: created ones (POST) and series updates (PATCH), by reason. */
export class EventCounter {
  readonly created = new Map<string, number>();
  readonly updated = new Map<string, number>();
  private readonly informer: Informer<EventObject>;

  constructor(client: KubeClient, namespace: string, logger: Logger) {
    this.informer = new Informer<EventObject>({ name: kindLabel(EVENT), source: apiServerSource({ client, kind: EVENT, namespace }), logger, resyncPeriodMs: 0 });
    this.informer.on((event) => {
      const reason = event.object.reason ?? "?";
      if (event.type === "add") this.created.set(reason, (this.created.get(reason) ?? 0) + 1);
      if (event.type === "update" && !event.resync) this.updated.set(reason, (this.updated.get(reason) ?? 0) + 1);
    });
  }

  total(): number {
    let n = 0;
    for (const v of [...this.created.values(), ...this.updated.values()]) n += v;
    return n;
  }

  async start(): Promise<void> {
    this.informer.start();
    await this.informer.waitForSync();
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }
}

/**
 * The floor: the same objects created the same way, while `concurrency` workers make
 * the three writes a provider cannot do without per machine (finalizer; systemID and
 * providerID; status with provisioned and Ready), each as soon as the watch shows the
 * MaasMachine. Resolves once the watch has seen every one Ready; returns the writes made.
 */
export async function runFloor(options: {
  writer: KubeClient;
  provider: KubeClient;
  tracker: MaasMachineTracker;
  namespace: string;
  count: number;
  concurrency: number;
  timeoutMs: number;
}): Promise<number> {
  const { provider, namespace, count, tracker } = options;
  const queue: string[] = [];
  const idle: Array<() => void> = [];
  let stopped = false;
  let failure: unknown;
  tracker.onAdded = (name) => {
    queue.push(name);
    idle.shift()?.();
  };
  let writes = 0;
  const patch = async (name: string, body: unknown, subresource?: "status"): Promise<void> => {
    await provider.patch(MAAS_MACHINE, { namespace, name }, body, { type: "merge", ...(subresource === undefined ? {} : { subresource }) });
    writes += 1;
  };
  const provide = async (name: string): Promise<void> => {
    const systemId = `floor${name.slice(2)}`;
    await patch(name, { metadata: { finalizers: [MaasMachineFinalizer] } });
    await patch(name, { spec: { systemID: systemId, providerID: `maas:///default/${systemId}` } });
    const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    const conditions = [{ type: ReadyCondition, status: "True", reason: "MachineDeployed", message: "", lastTransitionTime: now }];
    await patch(name, { status: { ready: true, initialization: { provisioned: true }, conditions } }, "status");
  };
  const worker = async (): Promise<void> => {
    while (!stopped) {
      const name = queue.shift();
      if (name === undefined) await new Promise<void>((resolve) => idle.push(resolve));
      else await provide(name).catch((err: unknown) => (failure ??= err));
    }
  };
  const workers = Array.from({ length: options.concurrency }, () => worker());
  try {
    await createMachines(options.writer, namespace, count);
    await tracker.waitFor("Ready (floor)", () => {
      if (failure !== undefined) throw failure;
      return tracker.readyAt.size;
    }, count, options.timeoutMs);
  } finally {
    stopped = true;
    for (const wake of idle.splice(0)) wake();
    await Promise.all(workers);
    tracker.onAdded = undefined;
  }
  return writes;
}
