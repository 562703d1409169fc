// The MAAS API resources the simulator serves: one entry per MAAS handler, with
// its URI (as in maas@3.7.0 src/maasserver/urls_api.py), its operations
// (method + op, as piston's exports) and the operations MAAS has that we
// deliberately do not simulate (answered loudly, never silently).
import type { Operation } from "./handlers/context.ts";
import { readBootResource, readBootResources } from "./handlers/boot-resources.ts";
import { createDnsResource, createDomain, deleteDnsResource, readDnsResource, readDnsResources, readDomain, readDomains, updateDnsResource } from "./handlers/dns.ts";
import { deleteMachine, powerOff, powerOn, queryPowerState, readMachine, releaseMachine, updateMachine } from "./handlers/machine.ts";
import { allocate, createMachine, listAllocated, readMachines } from "./handlers/machines.ts";
import { createTag, deleteTag, readTag, readTags, tagMachines, updateTag, updateTagNodes } from "./handlers/tags.ts";
import { readUser, readUsers, whoami } from "./handlers/users.ts";
import { readVersion } from "./handlers/version.ts";
import { poolsApi, zonesApi } from "./handlers/zones-pools.ts";
import { deploy } from "./deploy.ts";

export type HttpMethod = "GET" | "POST" | "PUT" | "DELETE";

export interface OperationDef {
  method: HttpMethod;
  /** null for the CRUD operation of the method. */
  op: string | null;
  /** The handler method name describe/ lists (read, create, update, delete, or the op). */
  name: string;
  doc: string;
  run: Operation;
}

export interface ResourceDef {
  /** MAAS handler class name, e.g. MachinesHandler (python-libmaas binds "Machines"). */
  handler: string;
  doc: string;
  /** Below /MAAS/api/2.0/, with {param} placeholders, e.g. "machines/{system_id}/". */
  uri: string;
  /** No authentication at all (VersionHandler is an OperationsResource without auth). */
  anonymous?: boolean;
  /** piston's anonymous handler: unauthenticated requests with these methods go to it. */
  anonHandler?: { name: string; doc: string; ops: Array<{ method: HttpMethod; op: string | null; name: string }> };
  ops: OperationDef[];
  /** MAAS operations the simulator does not model: "POST commission", "DELETE". */
  unsimulated?: string[];
}

const crud = (method: HttpMethod, name: string, doc: string, run: Operation): OperationDef => ({ method, op: null, name, doc, run });
const op = (method: HttpMethod, name: string, doc: string, run: Operation): OperationDef => ({ method, op: name, name, doc, run });

export const RESOURCES: ResourceDef[] = [
  {
    handler: "VersionHandler",
    doc: "Information about this MAAS instance.",
    uri: "version/",
    anonymous: true,
    ops: [crud("GET", "read", "MAAS version information", (env) => readVersion(env))],
  },
  {
    handler: "MachinesHandler",
    doc: "Manage the collection of all the machines in the MAAS.",
    uri: "machines/",
    anonHandler: {
      name: "AnonMachinesHandler",
      doc: "Anonymous access to Machines.",
      ops: [
        { method: "POST", op: null, name: "create" },
        { method: "POST", op: "accept", name: "accept" },
        { method: "GET", op: "is_registered", name: "is_registered" },
      ],
    },
    ops: [
      crud("GET", "read", "List Nodes visible to the user", readMachines),
      crud("POST", "create", "Create a new machine", () => createMachine()),
      op("POST", "allocate", "Allocate a machine", allocate),
      op("GET", "list_allocated", "List allocated", listAllocated),
    ],
    unsimulated: ["POST accept", "POST accept_all", "POST release", "POST add_chassis", "POST clone", "GET power_parameters", "GET is_registered", "POST set_zone", "GET is_action_in_progress"],
  },
  {
    handler: "MachineHandler",
    doc: "Manage an individual machine.",
    uri: "machines/{system_id}/",
    ops: [
      crud("GET", "read", "Read a node", readMachine),
      crud("PUT", "update", "Update a machine", updateMachine),
      crud("DELETE", "delete", "Delete a machine", deleteMachine),
      op("POST", "deploy", "Deploy a machine", deploy),
      op("POST", "release", "Release a machine", releaseMachine),
      op("POST", "power_on", "Turn on a node", powerOn),
      op("POST", "power_off", "Power off a node", powerOff),
      op("GET", "query_power_state", "Get the power state of a node", queryPowerState),
    ],
    unsimulated: [
      "POST commission", "POST abort", "POST mark_broken", "POST mark_fixed", "POST rescue_mode", "POST exit_rescue_mode",
      "POST lock", "POST unlock", "POST set_storage_layout", "GET details", "GET power_parameters", "GET get_token",
      "POST set_workload_annotations", "POST set_owner_data", "POST test", "POST override_failed_testing",
      "POST mount_special", "POST unmount_special", "POST clear_default_gateways", "GET get_curtin_config",
      "POST restore_networking_configuration", "POST restore_storage_configuration", "POST restore_default_configuration",
    ],
  },
  {
    handler: "ZonesHandler",
    doc: "Manage physical zones.",
    uri: "zones/",
    ops: [crud("GET", "read", "List available zones", (env) => zonesApi.list(env)), crud("POST", "create", "Create a new zone", zonesApi.create)],
  },
  {
    handler: "ZoneHandler",
    doc: "Manage a physical zone.",
    uri: "zones/{name}/",
    ops: [crud("GET", "read", "Retrieve a zone", zonesApi.read), crud("PUT", "update", "Update a zone", zonesApi.update), crud("DELETE", "delete", "Delete a zone", zonesApi.delete)],
  },
  {
    handler: "ResourcePoolsHandler",
    doc: "Manage resource pools.",
    uri: "resourcepools/",
    ops: [crud("GET", "read", "List resource pools", (env) => poolsApi.list(env)), crud("POST", "create", "Create a resource pool", poolsApi.create)],
  },
  {
    handler: "ResourcePoolHandler",
    doc: "Manage a resource pool.",
    uri: "resourcepool/{id}/",
    ops: [crud("GET", "read", "Retrieve a resource pool", poolsApi.read), crud("PUT", "update", "Update a resource pool", poolsApi.update), crud("DELETE", "delete", "Delete a resource pool", poolsApi.delete)],
  },
  {
    handler: "TagsHandler",
    doc: "Manage all tags known to MAAS.",
    uri: "tags/",
    ops: [crud("GET", "read", "List tags", (env) => readTags(env)), crud("POST", "create", "Create a new tag", createTag)],
  },
  {
    handler: "TagHandler",
    doc: "Tags are properties that can be associated with a Node and serve as criteria for selecting and allocating nodes.",
    uri: "tags/{name}/",
    ops: [
      crud("GET", "read", "Read a specific tag", readTag),
      crud("PUT", "update", "Update a tag", updateTag),
      crud("DELETE", "delete", "Delete a tag", deleteTag),
      op("GET", "machines", "List machines by tag", tagMachines),
      op("GET", "nodes", "List nodes by tag", tagMachines),
      op("POST", "update_nodes", "Update nodes associated with this tag", updateTagNodes),
    ],
    unsimulated: ["POST rebuild", "GET devices", "GET rack_controllers", "GET region_controllers"],
  },
  {
    handler: "DomainsHandler",
    doc: "Manage domains.",
    uri: "domains/",
    ops: [crud("GET", "read", "List all domains", (env) => readDomains(env)), crud("POST", "create", "Create a domain", createDomain)],
    unsimulated: ["POST set_serial"],
  },
  {
    handler: "DomainHandler",
    doc: "Manage domain.",
    uri: "domains/{id}/",
    ops: [crud("GET", "read", "Read domain", readDomain)],
    unsimulated: ["PUT", "DELETE", "POST set_default"],
  },
  {
    handler: "DNSResourcesHandler",
    doc: "Manage dnsresources.",
    uri: "dnsresources/",
    ops: [crud("GET", "read", "List resources", readDnsResources), crud("POST", "create", "Create a DNS resource", createDnsResource)],
  },
  {
    handler: "DNSResourceHandler",
    doc: "Manage dnsresource.",
    uri: "dnsresources/{id}/",
    ops: [crud("GET", "read", "Read a DNS resource", readDnsResource), crud("PUT", "update", "Update a DNS resource", updateDnsResource), crud("DELETE", "delete", "Delete a DNS resource", deleteDnsResource)],
  },
  {
    handler: "BootResourcesHandler",
    doc: "Manage the boot resources.",
    uri: "boot-resources/",
    ops: [crud("GET", "read", "List boot resources", readBootResources)],
    unsimulated: ["POST", "POST import", "POST stop_import", "GET is_importing"],
  },
  {
    handler: "BootResourceHandler",
    doc: "Manage a boot resource.",
    uri: "boot-resources/{id}/",
    ops: [crud("GET", "read", "Read a boot resource", readBootResource)],
    unsimulated: ["DELETE"],
  },
  {
    handler: "UsersHandler",
    doc: "Manage the user accounts of this MAAS.",
    uri: "users/",
    ops: [crud("GET", "read", "List users", readUsers), op("GET", "whoami", "Retrieve logged-in user", whoami)],
    unsimulated: ["POST"],
  },
  {
    handler: "UserHandler",
    doc: "Manage a user account.",
    uri: "users/{username}/",
    ops: [crud("GET", "read", "Retrieve user details", readUser)],
    unsimulated: ["DELETE"],
  },
];

export interface RouteMatch {
  resource: ResourceDef;
  args: Record<string, string>;
  /** From a path-style operation (…/op-<name>), MAAS 3.3+. */
  pathOp: string | null;
}

const compiled = RESOURCES.map((resource) => {
  const params: string[] = [];
  const pattern = resource.uri.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{(\w+)\}/g, (_, name: string) => {
    params.push(name);
    return "([^/]+)";
  });
  return { resource, params, exact: new RegExp(`^${pattern}$`), withOp: new RegExp(`^${pattern}op-([^/]+)$`) };
});

/** Matches a path below /MAAS/api/2.0/ (no leading slash). */
export function matchRoute(subPath: string, pathOps: boolean): RouteMatch | null {
  for (const c of compiled) {
    const exact = c.exact.exec(subPath);
    const withOp = exact === null && pathOps ? c.withOp.exec(subPath) : null;
    const match = exact ?? withOp;
    if (match === null) continue;
    const args: Record<string, string> = {};
    c.params.forEach((name, i) => (args[name] = safeDecode(match[i + 1] ?? "")));
    const pathOp = withOp === null ? null : (withOp[c.params.length + 1] ?? null);
    // urls_api.re_path adds an op-<name> route only for exported operations.
    if (pathOp !== null && !c.resource.ops.some((o) => o.op === pathOp)) continue;
    return { resource: c.resource, args, pathOp };
  }
  return null;
}

export function paramsOf(resource: ResourceDef): string[] {
  return [...resource.uri.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // a malformed escape stays as sent and simply matches nothing
  }
}
