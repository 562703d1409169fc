// Bad input for every field of every kind, through the real kube-apiserver with the
// provider's webhooks installed: each case of bad-input-cases.ts (generated from the
// schemas, plus hand-written ones) is created, and sent again as an update of a stored
// good object; each must be refused with a message naming the field, and a refusal of our
// webhooks must also say how to fix it. Updates that change a fixed field are refused the
// same way, and a table of good values must be stored as sent, so the refusals are not
// blanket. Requests carry fieldValidation=Strict, as kubectl sends them, so that an unknown
// field is refused instead of dropped. Updates are dry-run: nothing is stored, so one
// wrongly accepted case cannot change what the next one is checked against. All requests
// go out in one batch before the per-case assertions.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ApiException, CustomObjectsApi } from "@kubernetes/client-node";
import { API_VERSION, GROUP, VERSION } from "../../../src/api/v1beta1/index.ts";
import { useSharedTestEnv, type TestEnvHandle } from "../../testenv/index.ts";
import { badInputTables, fixedFieldTables, goodValueTables, type KindName, type KindTable } from "./bad-input-cases.ts";
import { valueAt, type BadCase, type Json } from "./schema-cases.ts";
import { startWebhookFixture, type WebhookFixture } from "./support.ts";

/** Requests in flight at once: enough to keep the API server busy, few enough for 2 shared cores. */
const CONCURRENCY = 8;

type Outcome = { accepted: true; stored: Json } | { accepted: false; code: number; message: string; causes: string[] };

const PLURALS: Record<KindName, KindTable["plural"]> = {
  MaasMachine: "maasmachines",
  MaasMachineTemplate: "maasmachinetemplates",
  MaasCluster: "maasclusters",
  MaasClusterTemplate: "maasclustertemplates",
};

async function outcome(request: Promise<unknown>): Promise<Outcome> {
  try {
    return { accepted: true, stored: (await request) as Json };
  } catch (err) {
    if (!(err instanceof ApiException)) throw err;
    const status = (typeof err.body === "string" ? JSON.parse(err.body) : err.body) as { message?: string; details?: { causes?: { field?: string }[] } };
    const causes = (status.details?.causes ?? []).map((cause) => cause.field ?? "");
    return { accepted: false, code: err.code, message: status.message ?? String(err.body), causes };
  }
}

/** Runs `work` over `items`, `limit` at a time, keeping the order of the results. */
async function inBatches<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** The refusal names the field (as a cause or in the message) and holds every mention. */
function assertRefused(result: Outcome | undefined, badCase: BadCase): void {
  assert.ok(result !== undefined, "no answer recorded");
  assert.ok(!result.accepted, `accepted, but ${badCase.field} was ${badCase.what}`);
  // 422 Invalid from the schema or a webhook; 400 from strict decoding of an unknown field.
  assert.ok(result.code === 422 || result.code === 400, `status ${result.code}: ${result.message}`);
  assert.ok(result.causes.includes(badCase.field) || result.message.includes(badCase.field), `${badCase.field} not named in: ${result.message}`);
  // The schema's refusals name the rule; ours must say what to do instead, so every case
  // our webhooks refuse lists the fix it expects to read.
  if (result.message.includes("admission webhook")) assert.ok(badCase.mentions.length > 0, `refused by a webhook, but the case names no fix to look for: ${result.message}`);
  for (const mention of badCase.mentions) assert.ok(result.message.includes(mention), `"${mention}" not in: ${result.message}`);
}

describe("bad input through the API server and the webhooks", () => {
  const tables = badInputTables();
  const updates = fixedFieldTables();
  const goods = goodValueTables();
  let env: TestEnvHandle;
  let fixture: WebhookFixture;
  const created = new Map<KindName, Outcome[]>();
  const updated = new Map<KindName, Outcome[]>();
  const fixedUpdated = new Map<KindName, Outcome[]>();
  const goodCreated = new Map<KindName, Outcome[]>();

  before(async () => {
    env = await useSharedTestEnv();
    fixture = await startWebhookFixture(env, "webhook-bad-input");
    const custom = env.kubeConfig().makeApiClient(CustomObjectsApi);
    const common = { group: GROUP, version: VERSION, namespace: fixture.namespace, fieldValidation: "Strict" };
    const body = (kind: KindName, name: string, spec: Json, resourceVersion?: string): object => ({
      apiVersion: API_VERSION,
      kind,
      metadata: { name, ...(resourceVersion === undefined ? {} : { resourceVersion }) },
      spec,
    });
    const create = (kind: KindName, name: string, spec: Json): Promise<Outcome> =>
      outcome(custom.createNamespacedCustomObject({ ...common, plural: PLURALS[kind], body: body(kind, name, spec) }));
    const update = (kind: KindName, name: string, resourceVersion: string, spec: Json): Promise<Outcome> =>
      outcome(custom.replaceNamespacedCustomObject({ ...common, plural: PLURALS[kind], name, body: body(kind, name, spec, resourceVersion), dryRun: "All" }));

    // Stored good objects, the old side of the updates: the update base for bad values,
    // the whole good spec for the fixed fields.
    const stored = new Map<string, string>();
    const store = async (kind: KindName, name: string, spec: Json): Promise<void> => {
      const answer = await create(kind, name, spec);
      assert.ok(answer.accepted, `the good ${kind} was refused: ${answer.accepted ? "" : answer.message}`);
      stored.set(name, (answer.stored as { metadata: { resourceVersion: string } }).metadata.resourceVersion);
    };
    for (const table of tables) {
      await store(table.kind, `${table.plural}-base`, table.updateBase);
      await store(table.kind, `${table.plural}-fixed`, table.goodSpec);
    }
    const base = (kind: KindName, which: "base" | "fixed"): [string, string] => [`${PLURALS[kind]}-${which}`, stored.get(`${PLURALS[kind]}-${which}`) ?? ""];
    type Job = () => Promise<void>;
    const jobs: Job[] = [];
    const record = (into: Map<KindName, Outcome[]>, kind: KindName, index: number, result: Outcome): void => {
      const list = into.get(kind) ?? [];
      list[index] = result;
      into.set(kind, list);
    };
    for (const table of tables) {
      table.cases.forEach((c, i) => {
        jobs.push(async () => record(created, table.kind, i, await create(table.kind, `${table.plural}-bad-${i}`, c.spec)));
        jobs.push(async () => record(updated, table.kind, i, await update(table.kind, ...base(table.kind, "base"), c.spec)));
      });
    }
    for (const table of updates) {
      table.cases.forEach((c, i) => jobs.push(async () => record(fixedUpdated, table.kind, i, await update(table.kind, ...base(table.kind, "fixed"), c.spec))));
    }
    for (const table of goods) {
      table.cases.forEach((c, i) => jobs.push(async () => record(goodCreated, table.kind, i, await create(table.kind, `${table.plural}-good-${i}`, c.spec))));
    }
    await inBatches(jobs, CONCURRENCY, (job) => job());
  });

  after(async () => {
    await fixture?.stop();
    await env?.stop();
  });

  it("generates the same table on every run, and prints how many cases each kind has", (t) => {
    assert.equal(JSON.stringify(badInputTables()), JSON.stringify(tables));
    for (const table of tables) {
      const fixed = updates.find((u) => u.kind === table.kind)?.cases.length ?? 0;
      const good = goods.find((g) => g.kind === table.kind)?.cases.length ?? 0;
      t.diagnostic(
        `${table.kind}: ${table.cases.length} bad values, each created and sent as an update ` +
          `(${table.handWritten} hand-written, ${table.generated} more generated from ${table.fields.size} schema nodes); ` +
          `${fixed} fixed-field updates; ${good} good values`,
      );
    }
  });

  for (const table of tables) {
    describe(table.kind, () => {
      describe("refuses each bad value on create, naming the field", () => {
        table.cases.forEach((c, i) => {
          it(`${c.field}: ${c.what}`, () => assertRefused(created.get(table.kind)?.[i], c));
        });
      });
      describe("refuses each bad value on update, naming the field", () => {
        table.cases.forEach((c, i) => {
          it(`${c.field}: ${c.what}`, () => assertRefused(updated.get(table.kind)?.[i], c));
        });
      });
    });
  }

  for (const table of updates) {
    describe(`${table.kind} updates of a fixed field`, () => {
      table.cases.forEach((c, i) => {
        it(`refuses ${c.what}, naming ${c.field} and the way out`, () => assertRefused(fixedUpdated.get(table.kind)?.[i], c));
      });
    });
  }

  for (const table of goods) {
    describe(`${table.kind} good values`, () => {
      table.cases.forEach((c, i) => {
        it(`accepts ${c.what} and stores it as sent`, () => {
          const result = goodCreated.get(table.kind)?.[i];
          assert.ok(result?.accepted, result === undefined || result.accepted ? "no answer" : result.message);
          for (const [path, value] of c.expect) {
            assert.deepEqual(valueAt(result.stored, ["spec", ...path.split(".")]), value, `spec.${path}`);
          }
        });
      });
    });
  }
});
