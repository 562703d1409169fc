// MAAS's `storage` constraint for allocate and GET machines/, checked against the
// simulated block devices. MAAS: src/maasserver/node_constraint_filter_forms.py,
// unchanged in substance from 2.6.0 to 3.7.0: STORAGE_REGEX, storage_validator,
// get_storage_constraints_from_string, nodes_by_storage, and MachinesHandler.allocate
// (api/machines.py) for constraints_by_type. The simulated storage model is the
// commissioning layout machine-json.ts shows: the first disk holds one partition with
// the root filesystem; every other disk is unused.
import { ApiError } from "./http/errors.ts";
import type { SimDisk, SimMachine } from "./types.ts";

/** Tags a disk has when the inventory names none (and in state files from before disks had tags). */
export const DEFAULT_DISK_TAGS: readonly string[] = ["ssd"];

export function diskTags(disk: SimDisk): readonly string[] {
  return disk.tags ?? DEFAULT_DISK_TAGS;
}

/** The root partition fills the first disk but for 8 MiB (GPT and alignment), as machine-json.ts shows it. */
export function rootPartitionSizeBytes(disk: SimDisk): number {
  return Math.max(0, disk.sizeBytes - 8 * 1024 * 1024);
}

// STORAGE_REGEX: optional label, mandatory size, optional tag list in parentheses.
const STORAGE_ENTRY = /(?:([a-zA-Z0-9]+):)?([0-9.]+)(?:\(([^)]+)\))?/g;

interface RawEntry {
  label: string;
  size: string;
  tags: string;
}

function findEntries(value: string): RawEntry[] {
  return [...value.matchAll(STORAGE_ENTRY)].map((m) => ({ label: m[1] ?? "", size: m[2] ?? "", tags: m[3] ?? "" }));
}

/**
 * storage_validator: the value must re-assemble exactly from what STORAGE_REGEX finds,
 * so any character it could not parse (a space, a stray bracket, a trailing comma)
 * makes it malformed. Returns MAAS's message, or undefined when the value is good.
 * Django skips validators for an empty value, so "" never gets here.
 */
export function storageError(value: string): string | undefined {
  const entries = findEntries(value);
  const rendered = entries.map((e) => `${e.label === "" ? "" : `${e.label}:`}${e.size}${e.tags === "" ? "" : `(${e.tags})`}`);
  if (entries.length === 0 || rendered.join(",") !== value) return `Malformed storage constraint, "${value}".`;
  return undefined;
}

export interface StorageEntry {
  /** "" when unlabelled; only labelled entries appear in constraints_by_type. */
  label: string;
  minBytes: number;
  /** null when the entry names no tags (MAAS then does not filter on tags). */
  tags: string[] | null;
}

/**
 * get_storage_constraints_from_string: sizes are decimal GB, `int(float(size) * 1000**3)`
 * bytes; tags are split on "," as written (no trimming). The first entry stays first
 * (it is the root disk); the rest are sorted by tag count, most first, so the most
 * specific disk is picked before the others (Python's sort is stable, as is JS's).
 * A size the validator lets through but Python's float() refuses ("1.2.3", ".") raises
 * ValueError there, which ExceptionMiddleware turns into a 500 with the exception text.
 */
export function storageEntries(value: string): StorageEntry[] {
  const entries = findEntries(value).map((e) => {
    const size = Number(e.size);
    if (!Number.isFinite(size)) throw new ApiError(500, `could not convert string to float: '${e.size}'`);
    return { label: e.label, minBytes: Math.trunc(size * 1e9), tags: e.tags === "" ? null : e.tags.split(",") };
  });
  const [head, ...tail] = entries;
  const count = (e: StorageEntry): number => e.tags?.length ?? 0;
  tail.sort((a, b) => count(b) - count(a));
  return head === undefined ? [] : [head, ...tail];
}

/** A device key as MAAS's format_device_key writes it: the block device id, or "partition:<id>". */
export type DeviceKey = number | string;

/** `tags__contains`: every wanted tag is on the device. */
function hasTags(have: readonly string[], want: readonly string[] | null): boolean {
  return want === null || want.every((t) => have.includes(t));
}

/** Splits off the pseudo-tag "partition", which asks for a partition instead of a disk. */
function partitionWanted(tags: string[] | null): { partition: boolean; tags: string[] | null } {
  if (tags === null || !tags.includes("partition")) return { partition: false, tags };
  const rest = [...tags];
  rest.splice(rest.indexOf("partition"), 1);
  return { partition: true, tags: rest.length === 0 ? null : rest };
}

/**
 * nodes_by_storage for one machine: the devices each entry takes, keyed as MAAS keys
 * them, with the entry's label; undefined when some entry finds no device.
 * - First entry (root): the device holding the filesystem mounted at "/". Its block
 *   device must be at least the size and carry the tags; with "partition" the root
 *   partition itself must be (and carry the other tags; simulated partitions have none).
 * - Further entries: an unused block device (no filesystem, no partition table: every
 *   disk but the first here) of at least the size with the tags, the smallest that fits,
 *   never one an earlier entry took. With "partition": an unused partition, which the
 *   simulated layout never has.
 * A diskless machine has no root filesystem, so it never matches.
 */
export function matchStorage(m: SimMachine, entries: readonly StorageEntry[]): Map<DeviceKey, string> | undefined {
  const taken = new Map<DeviceKey, string>();
  const [root, ...rest] = entries;
  const boot = m.disks[0];
  if (root === undefined) return taken;
  if (boot === undefined) return undefined;
  const wantRoot = partitionWanted(root.tags);
  if (wantRoot.partition) {
    if (rootPartitionSizeBytes(boot) < root.minBytes || !hasTags([], wantRoot.tags)) return undefined;
    taken.set(`partition:${boot.partitionId}`, root.label);
  } else {
    if (boot.sizeBytes < root.minBytes || !hasTags(diskTags(boot), root.tags)) return undefined;
    taken.set(boot.id, root.label);
  }
  // Ordered by size (ties by id, where MAAS leaves the order to PostgreSQL).
  const unused = m.disks.slice(1).sort((a, b) => a.sizeBytes - b.sizeBytes || a.id - b.id);
  for (const entry of rest) {
    const want = partitionWanted(entry.tags);
    if (want.partition) return undefined;
    const disk = unused.find((d) => !taken.has(d.id) && d.sizeBytes >= entry.minBytes && hasTags(diskTags(d), want.tags));
    if (disk === undefined) return undefined;
    taken.set(disk.id, entry.label);
  }
  return taken;
}

/**
 * constraints_by_type["storage"] as allocate builds it from constraint_map: label →
 * the keys of the devices with that label, in match order. Unlabelled entries are left
 * out; with no labelled entry there is no "storage" key at all.
 */
export function storageByLabel(match: ReadonlyMap<DeviceKey, string>): Record<string, DeviceKey[]> | undefined {
  const byLabel: Record<string, DeviceKey[]> = {};
  for (const [key, label] of match) {
    if (label !== "") (byLabel[label] ??= []).push(key);
  }
  return Object.keys(byLabel).length === 0 ? undefined : byLabel;
}
