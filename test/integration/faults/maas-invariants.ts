// The promises every fault test holds the provider to, checked against what MAAS (the
// simulator) holds rather than against what the provider believes:
//   - settled: every MAAS machine held for a namespace's MaasMachines belongs to
//     exactly one live MaasMachine (its agent_name names that object's uid, and the
//     object's spec.systemID names it back), and no MaasMachine holds two;
//   - released: once the objects are gone, MAAS holds nothing for the namespace.
// The agent_name is the provider's claim on a machine: capmaas/<namespace>/<name>/<uid>
// (controllers/maasmachine/allocate.ts), stored by MAAS at allocate and cleared at release.
import type { MaasMachine } from "../../../src/api/v1beta1/index.ts";
import type { SimMachine, SimulatorState } from "../../../src/sim/types.ts";

export interface AgentClaim {
  namespace: string;
  name: string;
  uid: string;
}

/** The MaasMachine an agent_name claims, or undefined for one the provider did not write. */
export function parseAgentName(agentName: string): AgentClaim | undefined {
  const parts = agentName.split("/");
  if (parts.length !== 4 || parts[0] !== "capmaas") return undefined;
  const [, namespace = "", name = "", uid = ""] = parts;
  return { namespace, name, uid };
}

/** MAAS machines held (allocated, deploying, deployed, failed…) for MaasMachines of `namespace`. */
export function heldFor(state: SimulatorState, namespace: string): SimMachine[] {
  return state.machines.filter((m) => m.owner !== null && parseAgentName(m.agentName)?.namespace === namespace);
}

/**
 * What breaks the "exactly one owner" promise once every MaasMachine of the namespace
 * has settled (Ready, or waiting with nothing allocated); one line per problem, empty
 * when all is well. `maasMachines` are the namespace's live objects.
 */
export function ownershipProblems(state: SimulatorState, namespace: string, maasMachines: readonly MaasMachine[]): string[] {
  const problems: string[] = [];
  const byUid = new Map(maasMachines.map((m) => [m.metadata.uid ?? "", m]));
  const heldByUid = new Map<string, SimMachine[]>();
  for (const machine of heldFor(state, namespace)) {
    const claim = parseAgentName(machine.agentName);
    const uid = claim?.uid ?? "";
    heldByUid.set(uid, [...(heldByUid.get(uid) ?? []), machine]);
    const owner = byUid.get(uid);
    if (owner === undefined) {
      problems.push(`MAAS machine ${machine.systemId} is held for ${claim?.name ?? "?"} (uid ${uid}), which no live MaasMachine is: leaked`);
    } else if (owner.spec.systemID !== machine.systemId) {
      problems.push(`MAAS machine ${machine.systemId} is held for ${owner.metadata.name ?? "?"}, whose spec.systemID is ${owner.spec.systemID ?? "unset"}`);
    }
  }
  for (const [uid, machines] of heldByUid) {
    if (machines.length > 1) {
      const name = byUid.get(uid)?.metadata.name ?? uid;
      problems.push(`${name} holds ${String(machines.length)} MAAS machines: ${machines.map((m) => m.systemId).join(", ")} (allocated twice)`);
    }
  }
  const heldIds = new Set(heldFor(state, namespace).map((m) => m.systemId));
  for (const object of maasMachines) {
    const systemId = object.spec.systemID;
    if (systemId !== undefined && systemId !== "" && !heldIds.has(systemId)) {
      const found = state.machines.find((m) => m.systemId === systemId);
      problems.push(`${object.metadata.name ?? "?"} names ${systemId}, which MAAS ${found === undefined ? "does not have" : `holds for ${JSON.stringify(found.agentName)}`}`);
    }
  }
  return problems;
}

/** MAAS machines still held for the namespace after every MaasMachine in it is gone: each one leaked. */
export function leakedAfterDelete(state: SimulatorState, namespace: string): string[] {
  return heldFor(state, namespace).map((m) => `${m.systemId} (${m.hostname}) still held for ${m.agentName}`);
}
