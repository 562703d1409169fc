// /machines/{system_id}/: read, update, delete, release and power operations.
// Deploy lives in deploy.ts. MAAS: maas@3.7.0 api/machines.py MachineHandler,
// api/nodes.py PowerMixin, forms/ephemeral.py ReleaseForm, forms MachineForm.
import { startChecks } from "../deploy.ts";
import { conflict, unsupported, validationErrors, type FieldErrors } from "../http/errors.ts";
import { djangoBool, optionalInt, optionalStringBool } from "../http/validators.ts";
import { machineJson } from "../machine-json.ts";
import { findRelease } from "../os-releases.ts";
import { MachineStatus, RELEASABLE_STATUSES, statusName } from "../status.ts";
import { deleted, machineOr404, type ApiRequest, type ApiResult, type HandlerEnv } from "./context.ts";

export function readMachine(env: HandlerEnv, req: ApiRequest): ApiResult {
  return { json: machineJson(env.store, env.features, machineOr404(env, req, "view")) };
}

/**
 * POST …?op=release. Ready/Releasing: nothing to do (200). Releasable states start
 * the release, Deploying among them: MAAS cancels the deployment (maas@3.7.0
 * models/node.py RELEASABLE_STATUSES, and Node._release stops the deploy:<system_id>
 * workflow), which here drops the pending Deploying → Deployed; any erase flag (erase, secure_erase, quick_erase — Django
 * BooleanFields) adds wipe-disks → 14 "Disk erasing". Nothing here looks at
 * ephemeral_deploy: MAAS erases an ephemeral machine's disks only when asked.
 */
export function releaseMachine(env: HandlerEnv, req: ApiRequest): ApiResult {
  const m = machineOr404(env, req, "edit");
  const body = req.body;
  if (body.getAll("scripts").some((s) => s !== "")) throw unsupported("release scripts (the scripts parameter)");
  const erase = djangoBool(body, "erase") || djangoBool(body, "secure_erase") || djangoBool(body, "quick_erase");
  if (m.status === MachineStatus.READY || m.status === MachineStatus.RELEASING) {
    // "Nothing to do if this machine is already releasing" — a retry is a success.
  } else if (RELEASABLE_STATUSES.has(m.status)) {
    env.lifecycle.startRelease(m, erase);
    env.store.changed();
  } else {
    throw conflict(`Machine cannot be released in its current state ('${statusName(m.status)}').`);
  }
  return { json: machineJson(env.store, env.features, m) };
}

/**
 * POST …?op=power_on (PowerMixin.power_on → Node.start): unowned → 409; an
 * Allocated machine starts deploying; a Deployed ephemeral machine is re-deployed
 * (it boots from the network); otherwise the power just goes on. user_data is
 * replaced by what is sent (none clears it, as set_user_data(None) does).
 */
export function powerOn(env: HandlerEnv, req: ApiRequest): ApiResult {
  const { store, features: f } = env;
  const body = req.body;
  const m = machineOr404(env, req, "edit");
  if (m.owner === null) throw conflict("Can't start node: it hasn't been allocated.");
  const installKvm = optionalStringBool(body, "install_kvm", false);
  const registerVmhost = optionalStringBool(body, "register_vmhost", false);
  const bridgeType = body.get("bridge_type");
  if (bridgeType !== undefined && !["standard", "ovs"].includes(bridgeType)) {
    throw validationErrors({ bridge_type: ["'%(value)s' is not a valid bridge_type.  It should be one of: 'standard', 'ovs'."] });
  }
  optionalStringBool(body, "bridge_stp", false);
  optionalInt(body, "bridge_fd", 0);
  const redeploy = m.status === MachineStatus.ALLOCATED || (m.status === MachineStatus.DEPLOYED && m.ephemeralDeploy);
  if (redeploy) {
    if (m.osystem === "") {
      m.osystem = "ubuntu";
      m.distroSeries = store.state.defaultDistroSeries;
    }
    const release = findRelease(store, `${m.osystem}/${m.distroSeries}`);
    if (release !== undefined) startChecks(env, m, release, { ephemeralDeploy: m.ephemeralDeploy, installKvm, registerVmhost });
    m.ipAddresses = [m.deployIp];
    if (m.status === MachineStatus.ALLOCATED && !m.ephemeralDeploy) m.installationResultId = store.nextId("scriptSet", 100);
    env.lifecycle.startDeploy(m);
  } else {
    env.lifecycle.powerOn(m);
  }
  if (installKvm) m.installKvm = true;
  if (registerVmhost && f.registerVmhostParam) m.registerVmhost = true;
  m.userData = body.get("user_data") ?? null;
  store.changed();
  return { json: machineJson(store, f, m) };
}

/** POST …?op=power_off: the power goes off; a machine waiting to release becomes Ready. */
export function powerOff(env: HandlerEnv, req: ApiRequest): ApiResult {
  const m = machineOr404(env, req, "edit");
  env.lifecycle.powerOff(m);
  env.store.changed();
  return { json: machineJson(env.store, env.features, m) };
}

/** GET …?op=query_power_state: {"state": "on" | "off" | …}. */
export function queryPowerState(env: HandlerEnv, req: ApiRequest): ApiResult {
  return { json: { state: machineOr404(env, req, "view").powerState } };
}

/** DELETE machines/{id}/ (admin). */
export function deleteMachine(env: HandlerEnv, req: ApiRequest): ApiResult {
  const m = machineOr404(env, req, "admin");
  env.lifecycle.forget(m);
  env.store.state.machines = env.store.state.machines.filter((x) => x !== m);
  env.store.changed();
  return deleted();
}

const HOST_LABEL = /^[a-zA-Z0-9-]*$/;

/**
 * PUT machines/{id}/ (admin permission; AdminMachineForm). Fields we model are
 * validated with MAAS's texts; fields a form does not know are ignored, as Django does.
 */
export function updateMachine(env: HandlerEnv, req: ApiRequest): ApiResult {
  const { store } = env;
  const m = machineOr404(env, req, "admin");
  const body = req.body;
  const errors: FieldErrors = {};
  const err = (k: string, msg: string): void => {
    (errors[k] ??= []).push(msg);
  };
  const changes: Array<() => void> = [];
  const hostname = body.get("hostname");
  if (hostname !== undefined && hostname !== "") {
    const problem = hostnameProblem(hostname);
    if (problem !== null) err("hostname", problem);
    else if (store.state.machines.some((x) => x !== m && x.hostname === hostname)) err("hostname", "Node with this Hostname already exists.");
    else changes.push(() => (m.hostname = hostname));
  }
  const description = body.get("description");
  if (description !== undefined) changes.push(() => (m.description = description));
  for (const key of ["zone", "pool"] as const) {
    const name = body.get(key);
    if (name === undefined || name === "") continue;
    const found = key === "zone" ? store.zoneByName(name) : store.poolByName(name);
    if (found === undefined) err(key, "Select a valid choice. That choice is not one of the available choices.");
    else changes.push(() => (key === "zone" ? (m.zoneId = found.id) : (m.poolId = found.id)));
  }
  const domain = body.get("domain");
  if (domain !== undefined && domain !== "") {
    const found = store.domainByName(domain) ?? store.domainById(Number(domain));
    if (found === undefined) err("domain", `Unable to find domain ${domain}`);
    else changes.push(() => (m.domainId = found.id));
  }
  const swap = body.get("swap_size");
  if (swap !== undefined) {
    const bytes = parseSize(swap);
    if (bytes === undefined) err("swap_size", `Invalid size for swap: ${swap}`);
    else changes.push(() => (m.swapSize = bytes));
  }
  const cpu = body.get("cpu_count");
  if (cpu !== undefined && cpu !== "") {
    if (!/^\d+$/.test(cpu.trim())) err("cpu_count", "Enter a whole number.");
    else changes.push(() => (m.cpuCount = Number(cpu)));
  }
  const memory = body.get("memory");
  if (memory !== undefined && memory !== "") {
    const size = parseSize(memory);
    if (size === undefined || size === null) err("memory", "Enter a whole number.");
    else changes.push(() => (m.memoryMiB = /[KMGT]$/.test(memory) ? Math.round(size / 1024 / 1024) : size));
  }
  if (Object.keys(errors).length > 0) throw validationErrors(errors);
  for (const change of changes) change();
  store.changed();
  return { json: machineJson(store, env.features, m) };
}

/** MachineForm.clean_swap_size: K/M/G/T are powers of 1000; "" clears it. */
function parseSize(text: string): number | null | undefined {
  if (text === "") return null;
  const match = /^(\d+)([KMGT]?)$/.exec(text);
  if (match === null) return undefined;
  const factor = { "": 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12 }[match[2] as "" | "K" | "M" | "G" | "T"];
  return Number(match[1]) * factor;
}

/** maascommon/utils/dns.py validate_hostname / validate_domain_name texts. */
function hostnameProblem(hostname: string): string | null {
  if (hostname.length > 255) return "Hostname is too long.  Maximum allowed is 255 characters.";
  const host = hostname.split(".")[0] ?? "";
  if (host.includes("_")) return `Host label cannot contain underscore: '${host}'.`;
  for (const label of hostname.split(".")) {
    if (label.length === 0) return "DNS name contains an empty label.";
    if (label.length > 63) return `Label is too long: '${label}'.  Maximum allowed is 63 characters.`;
    if (label.startsWith("-") || label.endsWith("-")) return `Label cannot start or end with hyphen: '${label}'.`;
    if (!HOST_LABEL.test(label)) return `Label contains disallowed characters: '${label}'.`;
  }
  return null;
}
