// Builds the initial MAAS from an inventory (file or object) or from options,
// deterministically from the seed: the same seed gives the same system IDs,
// hostnames, sizes and addresses.
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { InventoryError, parseSubnetCidr, SUBNET_CIDR_FIX, validateInventory } from "./inventory-schema.ts";
import { contains, hostAddress, parseCidr, type Ipv4Network } from "./ipv4.ts";
import { Prng } from "./prng.ts";
import { MachineStatus, STATUS_SHORT_NAMES } from "./status.ts";
import { DEFAULT_DISK_TAGS } from "./storage.ts";
import type { Credential, StoreData, Store } from "./store.ts";
import type { Inventory, InventoryBootResource, InventoryMachine, SimBootResource, SimMachine, SimulatorState } from "./types.ts";

export { InventoryError };

export const ADMIN_USERNAME = "admin";

/** Reads and checks a YAML or JSON inventory file. */
export function loadInventoryFile(path: string): Inventory {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new InventoryError(`inventory ${path}: cannot read it (${(error as Error).message}); check the path`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new InventoryError(`inventory ${path}: not valid YAML/JSON (${(error as Error).message})`);
  }
  return validateInventory(doc ?? {}, `inventory ${path}`);
}

// Ubuntu releases MAAS syncs by default; titles as MAAS shows them.
const DEFAULT_BOOT_RESOURCES: InventoryBootResource[] = [
  { name: "ubuntu/focal", alias: "20.04", title: 'Ubuntu 20.04 LTS "Focal Fossa"' },
  { name: "ubuntu/jammy", alias: "22.04", title: 'Ubuntu 22.04 LTS "Jammy Jellyfish"' },
  { name: "ubuntu/noble", alias: "24.04", title: 'Ubuntu 24.04 LTS "Noble Numbat"' },
];

export interface BuildOptions {
  inventory: Inventory;
  machines: number;
  seed: number;
  maasVersion: string;
  admin: Credential;
  /** Names the inventory in error messages, e.g. "inventory lab.yaml". */
  source?: string;
  /** The machines' network (SimulatorOptions.subnet); refused together with the inventory's subnet. */
  subnet?: string;
}

export function buildStoreData(options: BuildOptions): StoreData {
  const source = options.source ?? "inventory";
  const inv = validateInventory(options.inventory, source);
  const credentials: Credential[] = [options.admin];
  const state: SimulatorState = {
    maasVersion: options.maasVersion,
    users: [{ username: ADMIN_USERNAME, email: "admin@example.com", admin: true }],
    zones: [],
    pools: [],
    domains: [],
    tags: [],
    bootResources: [],
    dnsResources: [],
    machines: [],
    defaultDistroSeries: inv.defaultDistroSeries ?? "jammy",
    subnet: subnetOf(inv, options.subnet, source),
  };
  const data: StoreData = { state, counters: {}, credentials };
  for (const user of inv.users ?? []) {
    const [consumerKey = "", tokenKey = "", tokenSecret = ""] = user.apiKey.split(":");
    if (user.username === ADMIN_USERNAME) throw new InventoryError(`${source} users: "${ADMIN_USERNAME}" is the built-in user of apiKey; pick another username`);
    state.users.push({ username: user.username, email: `${user.username}@example.com`, admin: user.admin ?? false });
    credentials.push({ username: user.username, consumerKey, tokenKey, tokenSecret });
  }
  // MAAS always has the "default" zone and the "default" pool (id 0, "Default pool").
  state.zones.push({ id: nextId(data, "zone"), name: "default", description: "" });
  for (const z of inv.zones ?? []) {
    if (z.name !== "default") state.zones.push({ id: nextId(data, "zone"), name: z.name, description: z.description ?? "" });
  }
  state.pools.push({ id: nextId(data, "pool", 0), name: "default", description: "Default pool" });
  for (const p of inv.pools ?? []) {
    if (p.name !== "default") state.pools.push({ id: nextId(data, "pool", 0), name: p.name, description: p.description ?? "" });
  }
  const domains = inv.domains?.length ? inv.domains : [{ name: "maas", default: true }];
  const defaultIndex = Math.max(0, domains.findIndex((d) => d.default === true));
  domains.forEach((d, i) => {
    state.domains.push({ id: nextId(data, "domain", 0), name: d.name, ttl: d.ttl ?? null, authoritative: d.authoritative ?? true, isDefault: i === defaultIndex });
  });
  for (const t of inv.tags ?? []) {
    state.tags.push({ name: t.name, comment: t.comment ?? "", definition: t.definition ?? "", kernelOpts: t.kernelOpts ?? "" });
  }
  for (const r of inv.bootResources ?? DEFAULT_BOOT_RESOURCES) state.bootResources.push(bootResourceOf(data, r));

  const specs: InventoryMachine[] = [...(inv.machines ?? [])];
  const generate = inv.generate ?? (inv.machines === undefined ? { count: options.machines } : undefined);
  const rng = new Prng(options.seed, "inventory");
  if (generate !== undefined) specs.push(...generateSpecs(generate, rng));
  const strict = { zones: inv.zones !== undefined, pools: inv.pools !== undefined, domains: inv.domains !== undefined };
  const taken = takenNames(state);
  specs.forEach((spec, i) => state.machines.push(machineFromSpec(data, spec, rng, `${source} machines[${i}]`, strict, taken)));
  return data;
}

/** The one subnet machines boot on: the option's, the inventory's, or 10.20.0.0/16; gateway .1 unless given. */
function subnetOf(inv: Inventory, option: string | undefined, source: string): { cidr: string; gateway: string } {
  if (option !== undefined && inv.subnet !== undefined) {
    throw new InventoryError(`${source}: subnet is set both here and by the subnet option (--subnet); keep one`);
  }
  const text = option ?? inv.subnet?.cidr ?? "10.20.0.0/16";
  const network = parseSubnetCidr(text);
  if (network === null) throw new InventoryError(`subnet ${text}: ${SUBNET_CIDR_FIX}`);
  return { cidr: network.cidr, gateway: inv.subnet?.gateway ?? (hostAddress(network, 1) as string) };
}

function bootResourceOf(data: StoreData, r: InventoryBootResource): SimBootResource {
  const isUbuntu = r.name.startsWith("ubuntu/");
  const type = r.type ?? (isUbuntu ? "synced" : "uploaded");
  return {
    id: nextId(data, "bootResource"),
    type: type === "synced" ? "Synced" : "Uploaded",
    name: r.name.includes("/") ? r.name : `custom/${r.name}`,
    architecture: r.architecture ?? "amd64/generic",
    filetype: r.filetype ?? (type === "synced" ? "squashfs" : "root-tgz"),
    title: r.title ?? r.name,
    alias: r.alias ?? null,
  };
}

interface Strictness {
  zones: boolean;
  pools: boolean;
  domains: boolean;
}

/** Makes a machine record from an inventory entry; also used by POST /_sim/machines. */
/**
 * The system IDs and hostnames of the machines so far, for a batch of new machines:
 * looking each candidate up in the machine list made 10,000 machines take seconds.
 */
interface TakenNames {
  systemIds: Set<string>;
  hostnames: Set<string>;
}

function takenNames(state: SimulatorState): TakenNames {
  return { systemIds: new Set(state.machines.map((m) => m.systemId)), hostnames: new Set(state.machines.map((m) => m.hostname)) };
}

/** A machine from its inventory entry; its names are added to `taken`, which the caller keeps for the batch. */
export function machineFromSpec(data: StoreData, spec: InventoryMachine, rng: Prng, where: string, strict: Strictness, taken: TakenNames): SimMachine {
  const state = data.state;
  const systemId = spec.systemId ?? uniqueSystemId(taken, rng);
  if (taken.systemIds.has(systemId)) throw new InventoryError(`${where}.systemId "${systemId}" is used twice; make it unique`);
  const hostname = spec.hostname ?? uniqueHostname(taken, rng);
  if (taken.hostnames.has(hostname)) throw new InventoryError(`${where}.hostname "${hostname}" is used twice; make it unique`);
  const zone = findOrCreate(data, "zone", spec.zone ?? "default", strict.zones, `${where}.zone`);
  const pool = findOrCreate(data, "pool", spec.pool ?? "default", strict.pools, `${where}.pool`);
  const domainId = spec.domain === undefined ? (state.domains.find((d) => d.isDefault) ?? state.domains[0])?.id ?? 0 : domainIdOf(data, spec.domain, strict.domains, `${where}.domain`);
  for (const tag of spec.tags ?? []) {
    if (!state.tags.some((t) => t.name === tag)) state.tags.push({ name: tag, comment: "", definition: "", kernelOpts: "" });
  }
  const index = nextId(data, "host", 0);
  const status = STATUS_SHORT_NAMES[spec.status ?? "ready"] ?? MachineStatus.READY;
  const owned = [MachineStatus.ALLOCATED, MachineStatus.DEPLOYING, MachineStatus.DEPLOYED, MachineStatus.FAILED_DEPLOYMENT, MachineStatus.RELEASING, MachineStatus.DISK_ERASING].some((s) => s === status);
  const owner = spec.owner ?? (owned ? ADMIN_USERNAME : null);
  if (owner !== null && !state.users.some((u) => u.username === owner)) throw new InventoryError(`${where}.owner "${owner}" is not a user; use "${ADMIN_USERNAME}" or add it under users`);
  const deployed = status === MachineStatus.DEPLOYED || status === MachineStatus.DEPLOYING;
  const osystem = deployed ? (spec.osystem ?? "ubuntu") : "";
  const distroSeries = deployed ? (spec.distroSeries ?? state.defaultDistroSeries) : "";
  const deployIp = machineAddress(state.subnet.cidr, spec.ip, index, where);
  const disks = (spec.disks ?? [{ sizeGB: 500 }]).map((d, i) => ({
    id: nextId(data, "blockDevice"),
    name: d.name ?? `sd${String.fromCharCode(97 + i)}`,
    sizeBytes: Math.round(d.sizeGB * 1e9),
    model: d.model ?? "QEMU HARDDISK",
    serial: `SIM${systemId.toUpperCase()}${i}`,
    partitionId: nextId(data, "partition"),
    tags: [...(d.tags ?? DEFAULT_DISK_TAGS)],
  }));
  taken.systemIds.add(systemId);
  taken.hostnames.add(hostname);
  return {
    systemId, hostname, domainId, description: spec.description ?? "",
    architecture: spec.architecture ?? "amd64/generic",
    cpuCount: spec.cpuCount ?? 4, cpuSpeedMhz: spec.cpuSpeedMhz ?? 2400, memoryMiB: spec.memoryMiB ?? 8192,
    disks, zoneId: zone, poolId: pool, tags: [...new Set(spec.tags ?? [])],
    powerType: spec.powerType ?? "ipmi",
    powerState: status === MachineStatus.DEPLOYED || status === MachineStatus.DEPLOYING ? "on" : "off",
    status, statusMessage: status === MachineStatus.DEPLOYED ? "Deployed" : "",
    owner, agentName: "", osystem, distroSeries,
    hweKernel: null, ephemeralDeploy: false, enableHwSync: false, installKvm: false, registerVmhost: false,
    userData: null, locked: spec.locked ?? false, netboot: status !== MachineStatus.DEPLOYED, swapSize: null, ownerData: {},
    interfaceId: nextId(data, "interface"),
    macAddress: spec.macAddress?.toLowerCase() ?? macAddress(index),
    deployIp,
    ipAddresses: deployed ? [deployIp] : [],
    installationResultId: status === MachineStatus.DEPLOYED ? nextId(data, "scriptSet", 100) : null,
    osOnDisk: status === MachineStatus.DEPLOYED ? `${osystem}/${distroSeries}` : null,
    deploySeconds: spec.deploySeconds ?? null,
    releaseSeconds: spec.releaseSeconds ?? null,
    failDeployment: spec.failDeployment ?? false,
    pending: null,
  };
}

function generateSpecs(g: NonNullable<Inventory["generate"]>, rng: Prng): InventoryMachine[] {
  const cpus = g.cpuCounts ?? [2, 4, 8, 16];
  const mems = g.memoryMiB ?? [4096, 8192, 16384, 32768];
  const disks = g.diskGB ?? [240, 500, 1000];
  const specs: InventoryMachine[] = [];
  for (let i = 0; i < g.count; i++) {
    const diskGB = rng.pick(disks);
    specs.push({
      cpuCount: rng.pick(cpus),
      memoryMiB: rng.pick(mems),
      disks: diskGB > 0 ? [{ sizeGB: diskGB }] : [],
      zone: g.zones?.length ? g.zones[i % g.zones.length] : undefined,
      pool: g.pools?.length ? g.pools[i % g.pools.length] : undefined,
      tags: g.tags?.length ? [g.tags[i % g.tags.length] as string] : undefined,
    });
  }
  return specs;
}

function findOrCreate(data: StoreData, kind: "zone" | "pool", name: string, strict: boolean, where: string): number {
  const list = kind === "zone" ? data.state.zones : data.state.pools;
  const found = list.find((x) => x.name === name);
  if (found !== undefined) return found.id;
  if (strict) throw new InventoryError(`${where} "${name}" is not listed under ${kind}s; add {name: ${name}} there or fix the name`);
  const item = { id: nextId(data, kind, kind === "pool" ? 0 : 1), name, description: "" };
  list.push(item);
  return item.id;
}

function domainIdOf(data: StoreData, name: string, strict: boolean, where: string): number {
  const found = data.state.domains.find((d) => d.name === name);
  if (found !== undefined) return found.id;
  if (strict) throw new InventoryError(`${where} "${name}" is not listed under domains; add it there or fix the name`);
  const domain = { id: nextId(data, "domain", 0), name, ttl: null, authoritative: true, isDefault: false };
  data.state.domains.push(domain);
  return domain.id;
}

function nextId(data: StoreData, kind: string, first = 1): number {
  const id = data.counters[kind] ?? first;
  data.counters[kind] = id + 1;
  return id;
}

// MAAS system IDs are six characters from an unambiguous alphabet.
const SYSTEM_ID_ALPHABET = "abcdefghkmnpqrstwxy3456789";
const ADJECTIVES = ["able", "brave", "calm", "deft", "eager", "fair", "glad", "keen", "lucid", "merry", "noble", "prime", "quick", "sharp", "tidy", "vivid", "warm", "witty", "bold", "crisp"];
const NOUNS = ["badger", "crane", "dingo", "egret", "ferret", "gecko", "heron", "ibis", "jackal", "koala", "lemur", "marten", "newt", "otter", "puffin", "quail", "raven", "stoat", "tapir", "walrus"];

function uniqueSystemId(taken: TakenNames, rng: Prng): string {
  for (;;) {
    let id = "";
    for (let i = 0; i < 6; i++) id += rng.pick([...SYSTEM_ID_ALPHABET]);
    if (!taken.systemIds.has(id)) return id;
  }
}

function uniqueHostname(taken: TakenNames, rng: Prng): string {
  for (let n = 0; ; n++) {
    const base = `${rng.pick(ADJECTIVES)}-${rng.pick(NOUNS)}`;
    const name = n < 50 ? base : `${base}-${n}`;
    if (!taken.hostnames.has(name)) return name;
  }
}

function macAddress(index: number): string {
  const hex = (n: number): string => n.toString(16).padStart(2, "0");
  return `52:54:00:${hex((index >> 16) & 0xff)}:${hex((index >> 8) & 0xff)}:${hex(index & 0xff)}`;
}

/**
 * The address a machine's boot interface gets when deployed, always in the subnet:
 * MAAS assigns interface addresses from the subnet the interface is linked to
 * (StaticIPAddress on a Subnet), so ip_addresses and interface links stay inside it.
 * Generated machines take .10, .11, … in creation order.
 */
function machineAddress(cidr: string, ip: string | undefined, index: number, where: string): string {
  const network = parseCidr(cidr) as Ipv4Network;
  if (ip !== undefined) {
    if (!contains(network, ip)) throw new InventoryError(`${where}.ip ${ip} is outside the subnet ${cidr}; give an address in it, or leave ip out`);
    return ip;
  }
  const address = hostAddress(network, 10 + index);
  if (address === null) throw new InventoryError(`${where}: the subnet ${cidr} has no address left for another machine (they start at .10); use a larger network`);
  return address;
}

/** Adds machines to a running simulator (POST /_sim/machines). */
export function addMachines(store: Store, specs: InventoryMachine[], rng: Prng): SimMachine[] {
  const taken = takenNames(store.state);
  // All or none: a bad entry (say an ip outside the subnet) must not leave the ones before it added.
  const added = specs.map((spec, i) => machineFromSpec(store.data, spec, rng, `POST /_sim/machines: machines[${i}]`, { zones: false, pools: false, domains: false }, taken));
  store.state.machines.push(...added);
  store.changed();
  return added;
}
