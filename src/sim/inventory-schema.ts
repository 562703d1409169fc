// Checks an inventory document (parsed YAML/JSON) and says, for the first
// problem, which field is wrong and how to fix it.
import { contains, parseCidr } from "./ipv4.ts";
import { STATUS_SHORT_NAMES } from "./status.ts";
import type { Inventory } from "./types.ts";

/**
 * An API key the simulator accepts: three parts of OAuth's unreserved characters.
 * MAAS generates [A-Za-z0-9] only; a quote, comma or space would break the OAuth
 * header, and the project's client refuses such keys too (src/maas/credentials.ts).
 */
export const API_KEY_PATTERN = /^[A-Za-z0-9._~-]+:[A-Za-z0-9._~-]+:[A-Za-z0-9._~-]+$/;

export class InventoryError extends Error {}

export const SUBNET_CIDR_FIX = "write an IPv4 network with a /8 to /24 prefix, e.g. 10.20.0.0/16, or 127.10.0.0/16 to reach booted machines from this host";

/** The simulator's subnet: an IPv4 network from /8 to /24, host bits cleared as MAAS stores it. */
export function parseSubnetCidr(text: string): ReturnType<typeof parseCidr> {
  return parseCidr(text, 8, 24);
}

type Obj = Record<string, unknown>;

const TOP_FIELDS = [
  "zones", "pools", "domains", "tags", "bootResources", "defaultDistroSeries",
  "subnet", "users", "machines", "generate",
];
const MACHINE_FIELDS = [
  "hostname", "systemId", "cpuCount", "cpuSpeedMhz", "memoryMiB", "disks", "architecture", "zone",
  "pool", "domain", "tags", "powerType", "status", "owner", "osystem", "distroSeries", "ip",
  "macAddress", "description", "locked", "deploySeconds", "releaseSeconds", "failDeployment",
];
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const TAG_NAME = /^[a-zA-Z0-9_-]+$/; // MAAS: models/tag.py _tag_name_regex
const HOST_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i;

export function validateInventory(doc: unknown, source = "inventory"): Inventory {
  const v = new Checker(source);
  const root = v.object(doc, "");
  v.onlyKnown(root, "", TOP_FIELDS);
  for (const key of ["zones", "pools"] as const) {
    v.list(root[key], key, (item, path) => {
      const o = v.object(item, path);
      v.onlyKnown(o, path, ["name", "description"]);
      v.name(o.name, `${path}.name`, NAME, "letters, digits, '-', '_' or '.'");
      v.optString(o.description, `${path}.description`);
    });
  }
  v.list(root.domains, "domains", (item, path) => {
    const o = v.object(item, path);
    v.onlyKnown(o, path, ["name", "ttl", "authoritative", "default"]);
    v.name(o.name, `${path}.name`, /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i, "a DNS name such as maas or example.com");
    if (o.ttl !== undefined && o.ttl !== null) v.int(o.ttl, `${path}.ttl`, 0, "seconds, e.g. ttl: 300");
    v.optBool(o.authoritative, `${path}.authoritative`);
    v.optBool(o.default, `${path}.default`);
  });
  v.list(root.tags, "tags", (item, path) => {
    const o = v.object(item, path);
    v.onlyKnown(o, path, ["name", "comment", "definition", "kernelOpts"]);
    v.name(o.name, `${path}.name`, TAG_NAME, "letters, digits, '-' or '_'");
    for (const k of ["comment", "definition", "kernelOpts"]) v.optString(o[k], `${path}.${k}`);
  });
  v.list(root.bootResources, "bootResources", (item, path) => {
    const o = v.object(item, path);
    v.onlyKnown(o, path, ["name", "architecture", "type", "filetype", "title", "alias"]);
    v.name(o.name, `${path}.name`, /^[a-z0-9][a-z0-9._-]*(\/[a-z0-9._-]+)?$/i, "os/series such as ubuntu/jammy");
    if (o.architecture !== undefined) v.name(o.architecture, `${path}.architecture`, /^[a-z0-9_]+\/[a-z0-9._-]+$/i, "arch/subarch such as amd64/generic");
    if (o.type !== undefined && o.type !== "synced" && o.type !== "uploaded") v.fail(`${path}.type`, o.type, "write synced or uploaded");
    for (const k of ["filetype", "title", "alias"]) v.optString(o[k], `${path}.${k}`);
  });
  v.optString(root.defaultDistroSeries, "defaultDistroSeries");
  if (root.subnet !== undefined) {
    const o = v.object(root.subnet, "subnet");
    v.onlyKnown(o, "subnet", ["cidr", "gateway"]);
    const network = (typeof o.cidr === "string" ? parseSubnetCidr(o.cidr) : null) ?? v.fail("subnet.cidr", o.cidr, SUBNET_CIDR_FIX);
    if (o.gateway !== undefined && (typeof o.gateway !== "string" || !IPV4.test(o.gateway))) v.fail("subnet.gateway", o.gateway, "write an IPv4 address, e.g. gateway: 10.20.0.1");
    // Subnet.validate_gateway_ip (maasserver/models/subnet.py).
    if (typeof o.gateway === "string" && !contains(network, o.gateway)) v.fail("subnet.gateway", o.gateway, `Gateway IP must be within CIDR range (${network.cidr}), as MAAS says`);
  }
  v.list(root.users, "users", (item, path) => {
    const o = v.object(item, path);
    v.onlyKnown(o, path, ["username", "apiKey", "admin"]);
    v.name(o.username, `${path}.username`, /^[a-zA-Z0-9_.@+-]+$/, "a username such as alice");
    if (typeof o.apiKey !== "string" || !API_KEY_PATTERN.test(o.apiKey)) v.fail(`${path}.apiKey`, o.apiKey, "write consumer_key:token_key:token_secret (letters, digits, '.', '_', '~', '-')");
    v.optBool(o.admin, `${path}.admin`);
  });
  v.list(root.machines, "machines", (item, path) => checkMachine(v, item, path));
  if (root.generate !== undefined) {
    const o = v.object(root.generate, "generate");
    v.onlyKnown(o, "generate", ["count", "cpuCounts", "memoryMiB", "diskGB", "zones", "pools", "tags"]);
    v.int(o.count, "generate.count", 0, "how many machines, e.g. count: 10");
    v.list(o.cpuCounts, "generate.cpuCounts", (x, p) => v.int(x, p, 1, "e.g. cpuCounts: [2, 4, 8]"));
    v.list(o.memoryMiB, "generate.memoryMiB", (x, p) => v.int(x, p, 1, "MiB, e.g. memoryMiB: [4096, 8192]"));
    v.list(o.diskGB, "generate.diskGB", (x, p) => v.number(x, p, 0, "GB, e.g. diskGB: [240, 500]; 0 makes diskless machines"));
    for (const k of ["zones", "pools", "tags"]) v.list(o[k], `generate.${k}`, (x, p) => v.name(x, p, NAME, "a name"));
  }
  return root as Inventory;
}

function checkMachine(v: Checker, item: unknown, path: string): void {
  const o = v.object(item, path);
  v.onlyKnown(o, path, MACHINE_FIELDS);
  if (o.hostname !== undefined) v.name(o.hostname, `${path}.hostname`, HOST_LABEL, "a DNS label such as node-01 (no dots, no '_')");
  if (o.systemId !== undefined) v.name(o.systemId, `${path}.systemId`, /^[a-z0-9]{4,16}$/, "4-16 lower-case letters or digits, e.g. abc123");
  if (o.cpuCount !== undefined) v.int(o.cpuCount, `${path}.cpuCount`, 1, "e.g. cpuCount: 4");
  if (o.cpuSpeedMhz !== undefined) v.int(o.cpuSpeedMhz, `${path}.cpuSpeedMhz`, 0, "MHz, e.g. cpuSpeedMhz: 2400");
  if (o.memoryMiB !== undefined) v.int(o.memoryMiB, `${path}.memoryMiB`, 1, "MiB as a number, e.g. memoryMiB: 8192");
  v.list(o.disks, `${path}.disks`, (disk, p) => {
    const d = v.object(disk, p);
    v.onlyKnown(d, p, ["name", "sizeGB", "model", "tags"]);
    v.number(d.sizeGB, `${p}.sizeGB`, 1, "decimal GB, e.g. sizeGB: 500");
    if (d.name !== undefined) v.name(d.name, `${p}.name`, /^[a-z0-9]+$/, "e.g. sda");
    v.optString(d.model, `${p}.model`);
    // Storage constraints split their tag lists on "," and end them at ")", so a tag
    // holding either could never be asked for.
    v.list(d.tags, `${p}.tags`, (x, q) => v.name(x, q, TAG_NAME, "letters, digits, '-' or '_', e.g. tags: [ssd]"));
  });
  if (o.architecture !== undefined) v.name(o.architecture, `${path}.architecture`, /^[a-z0-9_]+\/[a-z0-9._-]+$/i, "arch/subarch such as amd64/generic");
  for (const k of ["zone", "pool", "domain", "powerType", "owner", "osystem", "distroSeries", "description"]) v.optString(o[k], `${path}.${k}`);
  v.list(o.tags, `${path}.tags`, (x, p) => v.name(x, p, TAG_NAME, "letters, digits, '-' or '_'"));
  if (o.status !== undefined && (typeof o.status !== "string" || !(o.status in STATUS_SHORT_NAMES))) {
    v.fail(`${path}.status`, o.status, `write one of ${Object.keys(STATUS_SHORT_NAMES).join(", ")}`);
  }
  if (o.ip !== undefined && (typeof o.ip !== "string" || !IPV4.test(o.ip))) v.fail(`${path}.ip`, o.ip, "write an IPv4 address, e.g. ip: 10.20.0.15");
  if (o.macAddress !== undefined && (typeof o.macAddress !== "string" || !MAC.test(o.macAddress))) v.fail(`${path}.macAddress`, o.macAddress, "write e.g. macAddress: 52:54:00:12:34:56");
  v.optBool(o.locked, `${path}.locked`);
  v.optBool(o.failDeployment, `${path}.failDeployment`);
  if (o.deploySeconds !== undefined) v.number(o.deploySeconds, `${path}.deploySeconds`, 0, "seconds, e.g. deploySeconds: 30");
  if (o.releaseSeconds !== undefined) v.number(o.releaseSeconds, `${path}.releaseSeconds`, 0, "seconds, e.g. releaseSeconds: 5");
}

class Checker {
  constructor(private readonly source: string) {}

  fail(path: string, got: unknown, fix: string): never {
    throw new InventoryError(`${this.source}: ${path || "the document"} is invalid (got ${show(got)}); ${fix}`);
  }

  object(value: unknown, path: string): Obj {
    if (value === null || typeof value !== "object" || Array.isArray(value)) this.fail(path, value, "write a mapping of fields");
    return value as Obj;
  }

  onlyKnown(o: Obj, path: string, known: readonly string[]): void {
    for (const key of Object.keys(o)) {
      if (!known.includes(key)) {
        const where = path === "" ? key : `${path}.${key}`;
        throw new InventoryError(`${this.source}: unknown field ${where}; known fields here: ${known.join(", ")}`);
      }
    }
  }

  list(value: unknown, path: string, each: (item: unknown, path: string) => void): void {
    if (value === undefined) return;
    if (!Array.isArray(value)) this.fail(path, value, "write a list (YAML '- item' lines)");
    value.forEach((item, i) => each(item, `${path}[${i}]`));
  }

  name(value: unknown, path: string, pattern: RegExp, what: string): void {
    if (typeof value !== "string" || !pattern.test(value)) this.fail(path, value, `write ${what}`);
  }

  int(value: unknown, path: string, min: number, fix: string): void {
    if (typeof value !== "number" || !Number.isInteger(value) || value < min) this.fail(path, value, `write a whole number ≥ ${min} (${fix})`);
  }

  number(value: unknown, path: string, min: number, fix: string): void {
    if (typeof value !== "number" || !Number.isFinite(value) || value < min) this.fail(path, value, `write a number ≥ ${min} (${fix})`);
  }

  optString(value: unknown, path: string): void {
    if (value !== undefined && typeof value !== "string") this.fail(path, value, "write text (quote it in YAML if needed)");
  }

  optBool(value: unknown, path: string): void {
    if (value !== undefined && typeof value !== "boolean") this.fail(path, value, "write true or false");
  }
}

function show(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
