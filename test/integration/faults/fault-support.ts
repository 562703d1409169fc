// What the fault tests share: the namespace's MaasMachines as the API server has them,
// their conditions, the ownership invariants asserted against what MAAS (the simulator)
// holds, and the end of every test: delete the MaasMachines, wait until they are gone,
// and check MAAS holds nothing for the namespace any more.
import assert from "node:assert/strict";
import { MAAS_MACHINE, type Condition, type MaasMachine } from "../../../src/api/v1beta1/index.ts";
import type { KubeClient } from "../../../src/runtime/index.ts";
import type { SimulatorState } from "../../../src/sim/types.ts";
import { waitFor } from "../controllers/provider-harness.ts";
import { leakedAfterDelete, ownershipProblems } from "./maas-invariants.ts";

/** MAAS's state, read in-process or from a maas-sim process's admin API. */
export type StateSource = () => SimulatorState | Promise<SimulatorState>;

export async function maasMachinesIn(client: KubeClient, namespace: string): Promise<MaasMachine[]> {
  return (await client.list(MAAS_MACHINE, { namespace })).items;
}

export function conditionOf(object: { status?: { conditions?: Condition[] } } | undefined, type: string): Condition | undefined {
  return object?.status?.conditions?.find((c) => c.type === type);
}

/** Every MAAS machine held for the namespace belongs to exactly one live MaasMachine, which names it. */
export async function assertOwnership(client: KubeClient, namespace: string, state: StateSource): Promise<void> {
  const problems = ownershipProblems(await state(), namespace, await maasMachinesIn(client, namespace));
  assert.deepEqual(problems, [], "every held MAAS machine has exactly one live MaasMachine");
}

/** Waits until every MaasMachine in the namespace is Ready. */
export async function allReady(client: KubeClient, namespace: string, timeoutMs: number): Promise<MaasMachine[]> {
  return waitFor(
    `every MaasMachine in ${namespace} Ready`,
    async () => {
      const items = await maasMachinesIn(client, namespace);
      return items.length > 0 && items.every((m) => conditionOf(m, "Ready")?.status === "True") ? items : undefined;
    },
    timeoutMs,
  );
}

/** Deletes every MaasMachine of the namespace, waits until they are gone, and asserts MAAS holds nothing for them. */
export async function deleteAllAndAssertReleased(client: KubeClient, namespace: string, state: StateSource, timeoutMs = 120_000): Promise<void> {
  for (const m of await maasMachinesIn(client, namespace)) {
    await client.delete(MAAS_MACHINE, { namespace, name: m.metadata.name }).catch(() => undefined);
  }
  await waitFor(`every MaasMachine in ${namespace} gone`, async () => (await maasMachinesIn(client, namespace)).length === 0, timeoutMs);
  assert.deepEqual(leakedAfterDelete(await state(), namespace), [], "nothing left held in MAAS after delete");
}

/** The pieces of a MAAS API key (consumer key, token key, token secret), none of which may appear in any output. */
export function keyParts(apiKey: string): string[] {
  return apiKey.split(":").filter((part) => part.length > 0);
}
