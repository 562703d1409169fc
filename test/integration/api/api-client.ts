// A thin typed view of CustomObjectsApi for our group, plus the assertions the API tests
// share: a fresh namespace per file, and "the server refused this, naming these fields".
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { ApiException, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { KubeConfig } from "@kubernetes/client-node";
import { GROUP, VERSION } from "../../../src/api/v1beta1/index.ts";

export type Plural = "maasmachines" | "maasclusters" | "maasmachinetemplates" | "maasclustertemplates";

/** A custom object as the server returns it (the fields the tests read). */
export interface Stored<Spec = Record<string, unknown>, Status = Record<string, unknown>> {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; generation?: number; resourceVersion?: string; labels?: Record<string, string> };
  spec: Spec;
  status?: Status;
}

// Custom resources refuse strategic-merge patch, client-node's default.
const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

export class MaasApi {
  private readonly custom: CustomObjectsApi;

  constructor(
    kubeConfig: KubeConfig,
    readonly namespace: string,
  ) {
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  async create<T extends Stored>(plural: Plural, body: object): Promise<T> {
    return (await this.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.namespace, plural, body })) as T;
  }

  async get<T extends Stored>(plural: Plural, name: string): Promise<T> {
    return (await this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.namespace, plural, name })) as T;
  }

  async patch<T extends Stored>(plural: Plural, name: string, body: object): Promise<T> {
    const params = { group: GROUP, version: VERSION, namespace: this.namespace, plural, name, body };
    return (await this.custom.patchNamespacedCustomObject(params, mergePatch)) as T;
  }

  async patchStatus<T extends Stored>(plural: Plural, name: string, body: object): Promise<T> {
    const params = { group: GROUP, version: VERSION, namespace: this.namespace, plural, name, body };
    return (await this.custom.patchNamespacedCustomObjectStatus(params, mergePatch)) as T;
  }
}

/** Creates a namespace named `<prefix>-<random>`, so reruns against a shared server never collide. */
export async function createNamespace(kubeConfig: KubeConfig, prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString("hex")}`;
  await kubeConfig.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  return name;
}

/** Removes the namespace; without a namespace controller it stays Terminating, which is harmless. */
export async function deleteNamespace(kubeConfig: KubeConfig, name: string): Promise<void> {
  await kubeConfig.makeApiClient(CoreV1Api).deleteNamespace({ name }).catch(() => undefined);
}

function statusMessage(body: unknown): string {
  const parsed: unknown = typeof body === "string" ? JSON.parse(body) : body;
  if (typeof parsed === "object" && parsed !== null && "message" in parsed && typeof parsed.message === "string") {
    return parsed.message;
  }
  return String(body);
}

/**
 * Asserts the server refused the request as invalid (422) and that its message names
 * every fragment (field paths, rule messages). Returns the message for further checks.
 */
export async function assertRejected(request: Promise<unknown>, fragments: readonly string[]): Promise<string> {
  try {
    await request;
  } catch (err) {
    assert.ok(err instanceof ApiException, `expected an ApiException, got ${String(err)}`);
    const message = statusMessage(err.body);
    assert.equal(err.code, 422, message);
    for (const fragment of fragments) assert.ok(message.includes(fragment), `"${fragment}" not in: ${message}`);
    return message;
  }
  assert.fail(`the server accepted what it should refuse (expected mention of ${fragments.join(", ")})`);
}

/** One row of `kubectl get` table output, keyed by upper-cased column header. */
export function parseTable(stdout: string, headers: readonly string[]): Map<string, string>[] {
  const [headerLine = "", ...rows] = stdout.split("\n").filter((line) => line.trim() !== "");
  // Headers can contain spaces ("SYSTEM ID"), so cut rows at the headers' offsets.
  const starts = headers.map((h) => {
    const at = headerLine.search(new RegExp(`(^|\\s)${h.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(\\s|$)`));
    assert.ok(at >= 0, `column ${h} not in header: ${headerLine}`);
    return at === 0 ? 0 : at + 1;
  });
  const order = starts.map((start, i) => ({ start, header: headers[i] ?? "" })).sort((a, b) => a.start - b.start);
  return rows.map((row) => {
    const cells = new Map<string, string>();
    order.forEach(({ start, header }, i) => cells.set(header, row.slice(start, order[i + 1]?.start ?? row.length).trim()));
    return cells;
  });
}
