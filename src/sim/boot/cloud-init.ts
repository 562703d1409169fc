// What a deployed MAAS machine's cloud-init makes of its user data, far enough to boot a
// Kubernetes node from it: the files it writes and the kubeadm command it runs. The
// input is the user_data a deploy stored, as the simulator keeps it (the base64 text the
// client sent); the steps follow the machine's side:
// 1. MAAS serves it decoded when it is base64 (metadataserver/api.py prepare_user_data).
// 2. cloud-init gunzips it and detects the part type by its first line
//    (cloudinit/user_data.py convert_string, handlers/__init__.py type_from_starts_with).
// 3. A "## template: jinja" part is rendered (jinja.ts) and typed again by its first line.
// 4. A "#cloud-config" part is YAML as PyYAML's safe_load reads it (YAML 1.1).
// 5. write_files and runcmd (cloud-config.ts); runcmd must run `kubeadm init|join --config`.
// Anything else — a script, another cloud-config, data cloud-init would drop — is "nothing
// to boot", with the reason, and never throws: a MAAS user may deploy any user data.
// Messages name fields and lines, never values: the user data holds the cluster's CA keys.
import { gunzipSync } from "node:zlib";
import { posix } from "node:path";
import { parse, type Tags, YAMLParseError } from "yaml";
import { applyWriteFiles, CloudInitError, isObject, scriptLines, type BootFile, type ScriptLine } from "./cloud-config.ts";
import { JinjaError, maasInstanceData, renderJinja, type MachineIdentity } from "./jinja.ts";
import type { SimpleCommand } from "./shell-words.ts";

export { CloudInitError, type BootFile } from "./cloud-config.ts";
export type { MachineIdentity } from "./jinja.ts";

/** The kubeadm command runcmd runs. */
export interface KubeadmCommand {
  phase: "init" | "join";
  /** --config, made absolute as kubeadm would from cloud-init's working directory "/". */
  configPath: string;
  /** The words after `kubeadm`, e.g. ["init", "--config", "/run/kubeadm/kubeadm.yaml", "--v", "5"]. */
  args: string[];
  /** "runcmd[2]" */
  where: string;
  /** The file `&& echo success > FILE` writes once kubeadm succeeds (CABPK's sentinel), or null. */
  sentinelPath: string | null;
}

/** A command the simulator does not run. `command` is user data: log `where`, never `command`. */
export interface NotEmulated {
  where: string;
  command: string;
}

export type UserDataReading =
  | {
      kind: "kubeadm";
      /** Every file write_files leaves, by absolute path. */
      files: ReadonlyMap<string, BootFile>;
      kubeadm: KubeadmCommand;
      /** bootcmd, the runcmd lines around kubeadm, and other commands on its line, in script order. */
      notEmulated: NotEmulated[];
      /** Top-level cloud-config keys that no emulated module reads (ntp, users, mounts …). */
      ignoredKeys: string[];
      /** What cloud-init would log as a warning and go on; each names its field. */
      warnings: string[];
    }
  | { kind: "nothing-to-boot"; reason: string };

const HANDLED_KEYS = new Set(["write_files", "runcmd", "bootcmd"]);

/**
 * Reads a machine's stored user data as its cloud-init would. Throws CloudInitError only
 * for a cloud-config that runs kubeadm and that the simulator cannot follow (a Jinja
 * variable MAAS does not offer, content that does not decode, a --config file nothing writes).
 */
export function readUserData(stored: string | null, identity: MachineIdentity): UserDataReading {
  if (stored === null || stored === "") return nothing("the machine was deployed without user data");
  let bytes = userDataAsServed(stored);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch {
      return nothing("the user data looks gzip-compressed but does not decompress");
    }
  }
  if (bytes.subarray(0, 4096).toString("latin1").toLowerCase().includes("mime-version:")) {
    return nothing("MIME multi-part user data is not emulated; only a single cloud-config (optionally a Jinja template) is");
  }
  const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
  let body = text.trimStart();
  let missing: string[] = [];
  if (body.toLowerCase().startsWith("## template: jinja")) {
    try {
      const rendered = renderJinja(afterFirstLine(body), maasInstanceData(identity));
      body = rendered.text.trimStart();
      missing = rendered.missing;
    } catch (error) {
      if (!(error instanceof JinjaError)) throw error;
      return nothing(`cloud-init cannot render the Jinja template: ${error.message}`);
    }
  }
  const firstLine = body.split("\n", 1)[0]?.trim().toLowerCase() ?? "";
  if (!firstLine.startsWith("#cloud-config") || firstLine.startsWith("#cloud-config-")) {
    return nothing(`the user data is not a cloud-config (it starts with ${describeStart(firstLine)}); only "#cloud-config" runs kubeadm here`);
  }
  let config: unknown;
  try {
    config = parse(body, { version: "1.1", customTags: pyyamlBools, uniqueKeys: false, maxAliasCount: 1000 });
  } catch (error) {
    if (!(error instanceof YAMLParseError)) throw error;
    const at = error.linePos?.[0];
    return nothing(`cloud-init drops the cloud-config: it is not valid YAML (${error.code}${at === undefined ? "" : ` at line ${at.line}, column ${at.col}`})`);
  }
  if (!isObject(config)) return nothing("cloud-init drops the cloud-config: it is not a mapping of modules");
  return readCloudConfig(config, missing);
}

function readCloudConfig(config: Record<string, unknown>, missing: string[]): UserDataReading {
  let runcmd: ScriptLine[];
  let bootcmd: ScriptLine[];
  try {
    runcmd = scriptLines("runcmd", config.runcmd);
    bootcmd = scriptLines("bootcmd", config.bootcmd);
  } catch (error) {
    if (!(error instanceof CloudInitError)) throw error;
    return nothing(`cloud-init's module fails on it, so nothing runs: ${error.message}`);
  }
  const found = findKubeadm(runcmd);
  if (found.length === 0) return nothing("runcmd runs no `kubeadm init --config FILE` or `kubeadm join --config FILE`");
  if (found.length > 1) {
    throw new CloudInitError(found[1]?.kubeadm.where ?? "runcmd", `runs kubeadm ${found[1]?.kubeadm.phase ?? ""} after ${found[0]?.kubeadm.where ?? ""} already ran kubeadm; a machine boots with one kubeadm init or join`);
  }
  if (missing.length > 0) {
    throw new CloudInitError("## template: jinja", `uses ${[...new Set(missing)].map((v) => `{{ ${v} }}`).join(", ")}, which a MAAS machine's cloud-init does not have (it would write CI_MISSING_JINJA_VAR/…); use {{ v1.local_hostname }}, {{ v1.instance_id }}, {{ ds.meta_data.local_hostname }} (the FQDN) or {{ ds.meta_data.instance_id }}`);
  }
  const [{ kubeadm, others }] = found as [KubeadmLine];
  const files = new Map<string, BootFile>();
  const warnings: string[] = [];
  applyWriteFiles(config.write_files, files, warnings);
  if (!files.has(kubeadm.configPath)) {
    throw new CloudInitError(kubeadm.where, `kubeadm ${kubeadm.phase} --config names a file no write_files entry writes; add it to write_files (CABPK writes /run/kubeadm/kubeadm.yaml or kubeadm-join-config.yaml)`);
  }
  const notEmulated: NotEmulated[] = bootcmd.map((line) => ({ where: line.where, command: line.text }));
  for (const line of runcmd) {
    if (line.where !== kubeadm.where) notEmulated.push({ where: line.where, command: line.text });
    else if (others.length > 0) notEmulated.push({ where: line.where, command: others.map((c) => c.words.join(" ")).join(" ; ") });
  }
  const ignoredKeys = Object.keys(config).filter((k) => !HANDLED_KEYS.has(k));
  return { kind: "kubeadm", files, kubeadm, notEmulated, ignoredKeys, warnings };
}

interface KubeadmLine {
  kubeadm: KubeadmCommand;
  /** The line's other simple commands, the sentinel echo left out. */
  others: SimpleCommand[];
}

function findKubeadm(lines: ScriptLine[]): KubeadmLine[] {
  const found: KubeadmLine[] = [];
  for (const line of lines) {
    const commands = line.commands ?? [];
    const at = commands.findIndex((c) => kubeadmWords(c) !== null);
    if (at < 0) continue;
    const words = kubeadmWords(commands[at] as SimpleCommand) as KubeadmWords;
    const next = commands[at + 1];
    const sentinel = next !== undefined && next.joinedBy === "&&" && next.words[0] === "echo" ? next.redirects.find((r) => r.op === ">")?.target : undefined;
    const kubeadm: KubeadmCommand = {
      phase: words.phase,
      configPath: posix.resolve("/", words.configPath),
      args: words.args,
      where: line.where,
      sentinelPath: sentinel === undefined ? null : posix.resolve("/", sentinel),
    };
    const others = commands.filter((c, i) => i !== at && !(sentinel !== undefined && i === at + 1));
    found.push({ kubeadm, others });
  }
  return found;
}

interface KubeadmWords {
  phase: "init" | "join";
  configPath: string;
  args: string[];
}

/** `[VAR=x …] [sudo] [/path/]kubeadm init|join … --config FILE …`; not `kubeadm init phase …`. */
function kubeadmWords(command: SimpleCommand): KubeadmWords | null {
  let words = command.words;
  while (words.length > 0 && (/^[A-Za-z_]\w*=/.test(words[0] as string) || words[0] === "sudo")) words = words.slice(1);
  if (words[0] === undefined || posix.basename(words[0]) !== "kubeadm") return null;
  const phase = words[1];
  if ((phase !== "init" && phase !== "join") || words[2] === "phase") return null;
  const args = words.slice(1);
  let configPath: string | undefined;
  args.forEach((word, i) => {
    if (word === "--config") configPath = args[i + 1];
    else if (word.startsWith("--config=")) configPath = word.slice("--config=".length);
  });
  if (configPath === undefined || configPath === "") return null;
  return { phase, configPath, args };
}

/**
 * The bytes MAAS's metadata service serves for stored user data (prepare_user_data):
 * decoded when it is base64 that re-encodes to the same text, with or without its
 * whitespace; otherwise as stored.
 */
export function userDataAsServed(stored: string): Buffer {
  const raw = Buffer.from(stored, "utf8");
  for (const candidate of [stored, stored.split(/\s+/).join("")]) {
    if (/^[A-Za-z0-9+/]*={0,2}$/.test(candidate) && candidate.length % 4 === 0) {
      const decoded = Buffer.from(candidate, "base64");
      if (decoded.toString("base64") === candidate) return decoded;
    }
  }
  return raw;
}

function nothing(reason: string): UserDataReading {
  return { kind: "nothing-to-boot", reason };
}

function afterFirstLine(text: string): string {
  const newline = text.indexOf("\n");
  return newline < 0 ? "" : text.slice(newline + 1);
}

/** The kind of first line, never its content beyond a known marker. */
function describeStart(firstLine: string): string {
  for (const marker of ["#!", "#include", "#cloud-boothook", "#part-handler", "#cloud-config-archive", "#cloud-config-jsonp", "{"]) {
    if (firstLine.startsWith(marker)) return `"${marker}"`;
  }
  return "something else";
}

const BOOL_TAG = "tag:yaml.org,2002:bool";

/**
 * PyYAML's YAML 1.1 booleans: yes/no, true/false, on/off in three casings. The yaml
 * package's 1.1 schema also takes y/n, which PyYAML reads as text ("y: 1" is a key "y").
 */
function pyyamlBools(tags: Tags): Tags {
  return tags.map((tag) => {
    if (typeof tag !== "object" || tag.tag !== BOOL_TAG || !("test" in tag) || tag.test === undefined) return tag;
    const isTrue = tag.test.test("yes");
    return { ...tag, test: isTrue ? /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/ : /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/ };
  });
}
