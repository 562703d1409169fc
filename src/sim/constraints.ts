// Machine constraints as MAAS's constraint forms read them, for
// `POST machines/?op=allocate` (AcquireNodeForm) and `GET machines/` (ReadNodesForm).
// MAAS: maas@3.7.0 src/maasserver/node_constraint_filter_forms.py — field list
// and order, IGNORED_FIELDS, clean_* texts, describe_constraints(), _match_* semantics.
import { validationErrors, type FieldErrors, unsupported } from "./http/errors.ts";
import type { FormParams } from "./http/form-params.ts";
import type { VersionFeatures } from "./maas-version.ts";
import { pyFloat } from "./python-format.ts";
import { STATUS_SHORT_NAMES } from "./status.ts";
import { matchStorage, storageEntries, storageError, type DeviceKey } from "./storage.ts";
import type { Store } from "./store.ts";
import type { SimMachine } from "./types.ts";

/** Non-constraint parameters allocate accepts (IGNORED_FIELDS). */
export const IGNORED_FIELDS = new Set(["comment", "bridge_all", "bridge_type", "bridge_stp", "bridge_fd", "dry_run", "verbose", "op", "agent_name"]);

// FilterNodeForm fields in declaration order (errors come out in this order).
const FILTER_FIELDS = [
  "arch", "not_arch", "tags", "not_tags", "fabrics", "not_fabrics", "fabric_classes", "not_fabric_classes",
  "subnets", "not_subnets", "link_speed", "vlans", "not_vlans", "zone", "not_in_zone", "system_id", "pool",
  "not_in_pool", "storage", "interfaces", "devices", "cpu_count", "cpu_speed", "mem", "pod", "not_pod",
  "pod_type", "not_pod_type", "owner", "not_owner", "power_state", "not_power_state",
  "deployment_target", "not_deployment_target",
];
const ACQUIRE_FIELDS = ["name"];
const READ_FIELDS = [
  "id", "not_id", "hostname", "not_hostname", "mac_address", "domain", "not_domain", "agent_name",
  "not_agent_name", "status", "not_status", "simple_status", "not_simple_status",
];
// Known MAAS constraints the simulator has no model for: refused loudly, never ignored.
const UNSIMULATED = new Set(["fabrics", "not_fabrics", "fabric_classes", "not_fabric_classes", "subnets", "not_subnets", "link_speed", "vlans", "not_vlans", "interfaces", "devices"]);
const SIMPLE_STATUS: Record<string, number[]> = {
  allocated: [10, 5], broken: [8], commissioning: [1], deployed: [6], deploying: [9],
  failed: [2, 11, 13, 15, 18, 20, 22], new: [0], ready: [4], releasing: [12, 14],
  rescue_mode: [16, 17, 19], testing: [21], other: [3, 7],
};

type Predicate = (m: SimMachine) => boolean;

export interface Constraints {
  matches: Predicate;
  /** describe_constraints(): Juju-style, sorted, e.g. "cpu_count=4.0 tags=gpu". */
  describe: string;
  /** The devices a `storage` constraint took on a matching machine; undefined without one. */
  storage?: (m: SimMachine) => ReadonlyMap<DeviceKey, string> | undefined;
}

export function parseConstraints(store: Store, f: VersionFeatures, data: FormParams, form: "acquire" | "read"): Constraints {
  const fields = [...FILTER_FIELDS.filter((k) => f.deploymentTargetConstraint || !k.endsWith("deployment_target")), ...(form === "acquire" ? ACQUIRE_FIELDS : READ_FIELDS)];
  const errors: FieldErrors = {};
  const preds: Predicate[] = [];
  const described: Record<string, string> = {};
  const err = (field: string, message: string): void => {
    (errors[field] ??= []).push(message);
  };
  const values = (k: string): string[] => data.getAll(k);
  const zoneName = (m: SimMachine): string => store.zoneById(m.zoneId)?.name ?? "";
  const poolName = (m: SimMachine): string => store.poolById(m.poolId)?.name ?? "";
  const domainName = (m: SimMachine): string => store.domainById(m.domainId)?.name ?? "";
  let storage = "";

  for (const field of fields) {
    if (field === "storage") {
      // A CharField: Django takes the last value, stripped, and runs storage_validator
      // only on a non-empty one; describe_constraints shows it as given.
      storage = (data.get(field) ?? "").trim();
      const problem = storage === "" ? undefined : storageError(storage);
      if (problem !== undefined) err(field, problem);
      described[field] = storage;
      continue;
    }
    const vs = values(field).filter((v) => v !== "" || field === "tags");
    if (vs.length === 0) continue;
    if (UNSIMULATED.has(field)) throw unsupported(`the ${field} constraint`);
    const any = (get: (m: SimMachine) => string | number | boolean, list: ReadonlyArray<string | number | boolean>, negate = false): void => {
      const set = new Set(list);
      preds.push((m) => set.has(get(m)) !== negate);
    };
    switch (field) {
      case "arch":
      case "not_arch": {
        const usable = [...new Set(store.state.bootResources.map((r) => r.architecture))];
        const arches: string[] = [];
        for (const v of vs) {
          if (usable.includes(v)) arches.push(v);
          else if (usable.some((a) => a.split("/")[0] === v)) arches.push(...usable.filter((a) => a.split("/")[0] === v));
          else err(field, "Architecture not recognised.");
        }
        any((m) => m.architecture, arches, field === "not_arch");
        described[field] = arches.join(",");
        break;
      }
      case "tags": {
        // parse_legacy_tags: "a,b" and "a b" are lists too; every tag must exist and match.
        const names = [...new Set(vs.flatMap((v) => v.match(/[^\s,]+/g) ?? []))];
        const unknown = names.filter((n) => store.tag(n) === undefined);
        if (unknown.length > 0) err(field, `No such tag(s): ${unknown.map((t) => `'${t}'`).join(", ")}.`);
        preds.push((m) => names.every((n) => m.tags.includes(n)));
        described[field] = [...names].sort().join(",");
        break;
      }
      case "not_tags":
        preds.push((m) => !vs.some((n) => m.tags.includes(n)));
        described[field] = vs.join(",");
        break;
      case "zone":
      case "not_in_zone":
      case "pool":
      case "not_in_pool": {
        const isZone = field.endsWith("zone");
        const exists = (n: string): boolean => (isZone ? store.zoneByName(n) : store.poolByName(n)) !== undefined;
        // Before 3.3 `zone` and `pool` were single-valued CharFields (last value wins).
        const single = !f.multiZoneConstraint && (field === "zone" || field === "pool");
        const list = single ? [vs[vs.length - 1] as string] : vs;
        const missing = [...new Set(list.filter((n) => !exists(n)))].sort();
        if (missing.length > 0) {
          const what = isZone ? "zone" : "pool";
          err(field, single ? `No such ${what}: '${list[0]}'.` : `No such ${what}(s): ${missing.join(", ")}.`);
        }
        any(isZone ? zoneName : poolName, list, field.startsWith("not_"));
        described[field] = list.join(",");
        break;
      }
      case "cpu_count":
      case "cpu_speed":
      case "mem": {
        const nums = vs.map(Number);
        if (nums.some((n) => !Number.isFinite(n) || vs.some((v) => v.trim() === ""))) {
          err(field, field === "mem" ? "Invalid memory: number of MiB required." : field === "cpu_count" ? "Invalid CPU count: number required." : "Invalid CPU speed: number required.");
          break;
        }
        const min = Math.min(...nums);
        const get = (m: SimMachine): number => (field === "mem" ? m.memoryMiB : field === "cpu_count" ? m.cpuCount : m.cpuSpeedMhz);
        preds.push((m) => get(m) >= min);
        described[field] = nums.map(pyFloat).join(",");
        break;
      }
      case "pod":
      case "pod_type":
        preds.push(() => false); // no simulated machine is in a pod (VM host)
        described[field] = vs.join(",");
        break;
      case "not_pod":
      case "not_pod_type":
        described[field] = vs.join(",");
        break;
      case "owner":
      case "not_owner": {
        const missing = vs.filter((u) => store.user(u) === undefined).sort();
        if (field === "owner" && missing.length > 0) err(field, `No such owner: '${missing[0]}'.`);
        any((m) => m.owner ?? "", vs, field === "not_owner");
        described[field] = vs.join(",");
        break;
      }
      case "power_state":
      case "not_power_state":
        checkChoices(vs, ["on", "off", "unknown", "error"], field, err, "=");
        any((m) => m.powerState, vs.map((v) => v.replace(/^=/, "")), field === "not_power_state");
        described[field] = vs.join(",");
        break;
      case "deployment_target":
      case "not_deployment_target": {
        checkChoices(vs, ["memory", "disk"], field, err, "=");
        const flags = vs.map((v) => v.replace(/^=/, "") === "memory");
        any((m) => m.ephemeralDeploy, flags, field.startsWith("not_"));
        described[field] = flags.map((b) => (b ? "True" : "False")).join(",");
        break;
      }
      case "name":
        // _match_compose_value on "hostname.domain__name": every value must match (AND).
        for (const v of vs) {
          const [host, domain] = splitOnce(v);
          preds.push((m) => m.hostname === host && (domain === undefined || domainName(m) === domain));
        }
        described[field] = vs.join(",");
        break;
      case "system_id":
      case "id":
      case "not_id":
        any((m) => m.systemId, vs, field === "not_id");
        described[field] = vs.join(",");
        break;
      case "hostname":
      case "not_hostname":
        any((m) => m.hostname, vs, field === "not_hostname");
        break;
      case "mac_address":
        if (vs.some((v) => !/^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i.test(v))) err(field, "Invalid parameter: invalid MAC address format");
        any((m) => m.macAddress, vs.map((v) => v.toLowerCase().replace(/-/g, ":")));
        break;
      case "domain":
      case "not_domain":
        any(domainName, vs, field === "not_domain");
        break;
      case "agent_name":
      case "not_agent_name":
        any((m) => m.agentName, vs, field === "not_agent_name");
        break;
      case "status":
      case "not_status":
        checkChoices(vs, Object.keys(STATUS_SHORT_NAMES), field, err, "=");
        any((m) => m.status, vs.map((v) => STATUS_SHORT_NAMES[v.replace(/^=/, "")] ?? -1), field === "not_status");
        break;
      case "simple_status":
      case "not_simple_status": {
        checkChoices(vs, Object.keys(SIMPLE_STATUS), field, err, "=");
        const codes = vs.flatMap((v) => SIMPLE_STATUS[v.replace(/^=/, "")] ?? []);
        any((m) => m.status, codes, field === "not_simple_status");
        break;
      }
    }
  }
  // FilterNodeForm.clean: any other parameter is an error unless ignored.
  for (const key of data.keys()) {
    if (!fields.includes(key) && !IGNORED_FIELDS.has(key)) (errors[key] ??= []).push("No such constraint.");
  }
  if (Object.keys(errors).length > 0) throw validationErrors(errors);
  // filter_by_storage runs only once the form is valid (its float() failure is a 500).
  const entries = storage === "" ? undefined : storageEntries(storage);
  if (entries !== undefined) preds.push((m) => matchStorage(m, entries) !== undefined);
  return {
    matches: (m) => preds.every((p) => p(m)),
    describe: describeOf(described),
    ...(entries === undefined ? {} : { storage: (m: SimMachine) => matchStorage(m, entries) }),
  };
}

function describeOf(described: Record<string, string>): string {
  return Object.keys(described)
    .sort()
    .filter((k) => described[k] !== "")
    .map((k) => `${k}=${described[k]}`)
    .join(" ");
}

function checkChoices(vs: string[], choices: string[], field: string, err: (f: string, m: string) => void, prefix: string): void {
  for (const v of vs) {
    const bare = v.startsWith(prefix) ? v.slice(prefix.length) : v;
    if (!choices.includes(bare)) err(field, `Select a valid choice. ${bare} is not one of the available choices.`);
  }
}

function splitOnce(text: string): [string, string | undefined] {
  const dot = text.indexOf(".");
  return dot < 0 ? [text, undefined] : [text.slice(0, dot), text.slice(dot + 1)];
}

/** AcquireNodeForm.reorder_nodes_by_cost: cpu_count + memory / 1024, cheapest first. */
export function byCost(a: SimMachine, b: SimMachine): number {
  return a.cpuCount + a.memoryMiB / 1024 - (b.cpuCount + b.memoryMiB / 1024);
}
