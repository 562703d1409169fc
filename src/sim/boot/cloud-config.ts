// The two cloud-config modules a kubeadm bootstrap needs, as cloud-init runs them on a
// deployed machine: write_files (cloudinit/config/cc_write_files.py, and
// cc_write_files_deferred.py for `defer: true`, which runs in the final stage before the
// user scripts) and runcmd (cc_runcmd.py: each entry becomes one line of a shell script,
// util.py shellify). Other modules are not emulated; the caller lists them.
// Messages name fields, never values: write_files holds the cluster's CA keys.
import { gunzipSync } from "node:zlib";
import { posix } from "node:path";
import { shellifyList, pythonStr, ShellSyntaxError, splitCommandLine, type SimpleCommand } from "./shell-words.ts";

/** User data that cloud-init would act on but the simulator cannot boot from as it stands. */
export class CloudInitError extends Error {
  constructor(
    /** The cloud-config field at fault, e.g. "write_files[3].content" or "runcmd[2]". */
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** A file as cloud-init leaves it on the machine. */
export interface BootFile {
  /** Absolute and normalised, as os.path.abspath makes it. */
  path: string;
  content: Buffer;
  /** "user:group" as written (default root:root, the distro's default_owner). */
  owner: string;
  /** Mode bits, e.g. 0o600. */
  permissions: number;
}

const DEFAULT_PERMS = 0o644;
const DEFAULT_OWNER = "root:root";

/**
 * Applies write_files entries in the order cloud-init writes them: entries without
 * `defer` in the init stage, deferred ones in the final stage; a later entry for the same
 * path replaces the file, or appends to it with `append: true`.
 * Throws CloudInitError where cloud-init's module would fail (a path that is not text,
 * content that does not decode); pushes a warning where it logs one and goes on.
 */
export function applyWriteFiles(entries: unknown, files: Map<string, BootFile>, warnings: string[]): void {
  if (entries === undefined || entries === null) return;
  if (!Array.isArray(entries)) throw new CloudInitError("write_files", "must be a list of files (YAML '- path: …' items)");
  const indexed = entries.map((entry: unknown, index) => ({ entry, index }));
  const deferred = (e: unknown): boolean => isObject(e) && translateBool(e.defer);
  for (const { entry, index } of [...indexed.filter((x) => !deferred(x.entry)), ...indexed.filter((x) => deferred(x.entry))]) {
    writeOne(entry, `write_files[${index}]`, files, warnings);
  }
}

function writeOne(entry: unknown, where: string, files: Map<string, BootFile>, warnings: string[]): void {
  if (!isObject(entry)) throw new CloudInitError(where, "must be a mapping with path and content");
  const rawPath = entry.path;
  if (rawPath === undefined || rawPath === null || rawPath === "") {
    warnings.push(`${where}.path is missing; cloud-init skips the entry`);
    return;
  }
  if (typeof rawPath !== "string") throw new CloudInitError(`${where}.path`, "must be text, e.g. path: /etc/example.conf");
  const path = posix.resolve("/", rawPath);
  if (isObject(entry.source) && entry.source.uri !== undefined) {
    warnings.push(`${where}.source is not fetched by the simulator; the content field is used instead`);
  }
  const content = decodeContent(entry.content, entry.encoding, where, warnings);
  const owner = entry.owner === undefined || entry.owner === null ? DEFAULT_OWNER : pythonStr(entry.owner);
  const permissions = decodePerms(entry.permissions, `${where}.permissions`, warnings);
  const previous = files.get(path);
  const append = translateBool(entry.append) && previous !== undefined;
  files.set(path, { path, content: append ? Buffer.concat([previous.content, content]) : content, owner, permissions });
}

/** cc_write_files.canonicalize_extraction + extract_contents: the decoding steps, in order. */
function decodeContent(content: unknown, encoding: unknown, where: string, warnings: string[]): Buffer {
  if (content === undefined || content === null) return Buffer.alloc(0);
  let data: Buffer;
  if (typeof content === "string") data = Buffer.from(content, "utf8");
  else if (content instanceof Uint8Array) data = Buffer.from(content);
  else throw new CloudInitError(`${where}.content`, "must be text (quote it, or use a '|' block)");
  const kind = typeof encoding === "string" ? encoding.toLowerCase().trim() : "";
  const steps = ["gz", "gzip"].includes(kind) ? ["gzip"]
    : ["gz+base64", "gzip+base64", "gz+b64", "gzip+b64"].includes(kind) ? ["base64", "gzip"]
    : ["b64", "base64"].includes(kind) ? ["base64"]
    : [];
  if (steps.length === 0 && kind !== "" && kind !== "text/plain") {
    warnings.push(`${where}.encoding is not one cloud-init knows (b64, base64, gz, gzip, gz+b64, gzip+base64 …); the content is written as text`);
  }
  for (const step of steps) data = step === "base64" ? pythonB64decode(data, `${where}.content`) : gunzip(data, `${where}.content`);
  return data;
}

const B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/**
 * Python's base64.b64decode without validate (CPython binascii.a2b_base64, non-strict):
 * characters outside the alphabet are skipped, decoding stops at the padding that
 * completes a quad, and an unfinished quad is an error ("Incorrect padding").
 */
function pythonB64decode(data: Buffer, field: string): Buffer {
  const out: number[] = [];
  let quadPos = 0;
  let left = 0;
  let pads = 0;
  let done = false;
  for (const byte of data) {
    if (byte === 0x3d) {
      pads++;
      if (quadPos >= 2 && quadPos + pads >= 4) {
        done = true;
        break;
      }
      continue;
    }
    const v = B64_ALPHABET.indexOf(String.fromCharCode(byte));
    if (v < 0) continue;
    pads = 0;
    // Four 6-bit values make three bytes; each step emits what it completes.
    if (quadPos === 1) out.push(((left << 2) | (v >> 4)) & 0xff);
    else if (quadPos === 2) out.push(((left << 4) | (v >> 2)) & 0xff);
    else if (quadPos === 3) out.push(((left << 6) | v) & 0xff);
    left = quadPos === 0 ? v : quadPos === 1 ? v & 0x0f : quadPos === 2 ? v & 0x03 : 0;
    quadPos = (quadPos + 1) % 4;
  }
  if (!done && quadPos !== 0) {
    throw new CloudInitError(field, "is not valid base64 (check the encoding field, or the padding of the content)");
  }
  return Buffer.from(out);
}

function gunzip(data: Buffer, field: string): Buffer {
  try {
    return gunzipSync(data);
  } catch {
    throw new CloudInitError(field, "is not gzip data (check the encoding field: gzip+base64 for base64 text of a gzip file)");
  }
}

/** cc_write_files.decode_perms: a number as is, text as octal; anything else warns and uses 0644. */
function decodePerms(perm: unknown, field: string, warnings: string[]): number {
  if (perm === undefined || perm === null) return DEFAULT_PERMS;
  if (typeof perm === "number" && Number.isFinite(perm)) return Math.trunc(perm);
  if (typeof perm === "string" && /^\s*[+-]?(0[oO])?[0-7](_?[0-7])*\s*$/.test(perm)) {
    return parseInt(perm.trim().replace(/_/g, "").replace(/^([+-]?)0[oO]/, "$1"), 8);
  }
  warnings.push(`${field} is not an octal mode such as '0640'; cloud-init uses 0644`);
  return DEFAULT_PERMS;
}

/** util.translate_bool: true, or one of "true", "1", "on", "yes" in any case. */
function translateBool(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === "") return false;
  if (value === true) return true;
  return ["true", "1", "on", "yes"].includes(pythonStr(value).toLowerCase().trim());
}

/** One line of the runcmd (or bootcmd) script. */
export interface ScriptLine {
  /** "runcmd[3]" */
  where: string;
  /** The line as the script holds it. User data: log `where`, never this. */
  text: string;
  /** Its simple commands; null when /bin/sh could not parse it. */
  commands: SimpleCommand[] | null;
}

/**
 * The lines cloud-init writes for runcmd/bootcmd. shellify takes strings as they are,
 * quotes each item of a list, skips null (a YAML comment line) and fails the whole module
 * on anything else; so does this (CloudInitError).
 */
export function scriptLines(key: "runcmd" | "bootcmd", value: unknown): ScriptLine[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new CloudInitError(key, "must be a list of commands");
  const lines: ScriptLine[] = [];
  value.forEach((item: unknown, i) => {
    const where = `${key}[${i}]`;
    if (item === null) return;
    if (Array.isArray(item)) {
      const words = item.map((w: unknown) => pythonStr(w));
      lines.push({ where, text: shellifyList(item), commands: [{ words, redirects: [], joinedBy: "" }] });
    } else if (typeof item === "string") {
      let commands: SimpleCommand[] | null;
      try {
        commands = splitCommandLine(item);
      } catch (error) {
        if (!(error instanceof ShellSyntaxError)) throw error;
        commands = null;
      }
      lines.push({ where, text: item, commands });
    } else {
      throw new CloudInitError(where, "must be a command line (text) or a list of words; cloud-init's shellify refuses anything else");
    }
  });
  return lines;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}
