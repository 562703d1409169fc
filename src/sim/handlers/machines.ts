// /machines/: list with filters, allocate, list_allocated.
// MAAS: maas@3.7.0 api/machines.py MachinesHandler, api/nodes.py NodesHandler.read.
import { byCost, parseConstraints } from "../constraints.ts";
import { allocationOptions } from "../deploy.ts";
import { conflict, unsupported } from "../http/errors.ts";
import { optionalStringBool } from "../http/validators.ts";
import { machineJson } from "../machine-json.ts";
import { pyListOfLists } from "../python-format.ts";
import { MachineStatus } from "../status.ts";
import { storageByLabel } from "../storage.ts";
import { hasNodePermission, userOf, type ApiRequest, type ApiResult, type HandlerEnv } from "./context.ts";

/** GET machines/: ReadNodesForm over the query; visible machines in id order. */
export function readMachines(env: HandlerEnv, req: ApiRequest): ApiResult {
  const user = userOf(req);
  const c = parseConstraints(env.store, env.features, req.query, "read");
  const list = env.store.state.machines.filter((m) => hasNodePermission(user, m, "view") && c.matches(m));
  return { json: list.map((m) => machineJson(env.store, env.features, m)) };
}

/** GET machines/?op=list_allocated: the caller's machines. */
export function listAllocated(env: HandlerEnv, req: ApiRequest): ApiResult {
  const user = userOf(req);
  const list = env.store.state.machines.filter((m) => m.owner === user.username);
  return { json: list.map((m) => machineJson(env.store, env.features, m)) };
}

/**
 * POST machines/?op=allocate. Options are checked first (StringBool errors win),
 * then AcquireNodeForm; candidates are Ready machines the user may edit, cheapest
 * first. No match → 409 text/plain with MAAS's three texts.
 */
export function allocate(env: HandlerEnv, req: ApiRequest): ApiResult {
  const { store, features: f } = env;
  const user = userOf(req);
  const body = req.body;
  const inputConstraints = body.lists().filter(([k]) => k !== "op");
  const options = allocationOptions(env, body);
  const verbose = optionalStringBool(body, "verbose", false);
  const dryRun = optionalStringBool(body, "dry_run", false);
  const c = parseConstraints(store, f, body, "acquire");
  // verbose_storage is nodes_by_storage's whole answer, keyed by MAAS's internal node
  // ids, which no other part of the API shows: there is nothing faithful to put there.
  if (verbose && c.storage !== undefined) throw unsupported("verbose=true together with the storage constraint");
  const candidates = store.state.machines
    .filter((m) => m.status === MachineStatus.READY && !m.locked && hasNodePermission(user, m, "edit") && c.matches(m))
    .sort(byCost);
  const machine = candidates[0];
  if (machine === undefined) {
    const systemId = body.get("system_id");
    let message: string;
    if (c.describe === "") message = "No machine available.";
    else if (systemId !== undefined) message = `No machine with system ID ${systemId} available.`;
    else message = `No available machine matches constraints: ${pyListOfLists(inputConstraints)} (resolved to "${c.describe}")`;
    throw conflict(message);
  }
  if (!dryRun) {
    machine.status = MachineStatus.ALLOCATED;
    machine.owner = user.username;
    machine.agentName = options.agentName;
    machine.statusMessage = "";
    store.changed();
  }
  const constraintsByType: Record<string, unknown> = verbose ? { verbose_storage: {}, verbose_interfaces: {} } : {};
  // MachinesHandler.allocate: the storage matches of the chosen machine, label → device keys.
  const storage = c.storage?.(machine);
  const storageByType = storage === undefined ? undefined : storageByLabel(storage);
  if (storageByType !== undefined) constraintsByType.storage = storageByType;
  return { json: machineJson(store, f, machine, { constraintsByType }) };
}

/** POST machines/ (enlisting) is MAAS behaviour the simulator leaves to its admin API. */
export function createMachine(): ApiResult {
  throw unsupported("creating machines through the MAAS API; add them with POST /_sim/machines");
}
