// The slice of cloud-init's Jinja rendering that user data for a MAAS machine needs:
// `{{ variable.path }}` lookups into the instance data a MAAS machine has, comments and
// `{% raw %}`. cloud-init renders a "## template: jinja" part before it reads it as
// YAML (cloudinit/handlers/jinja_template.py render_jinja_payload, templater.py
// jinja_render: SandboxedEnvironment with trim_blocks=True), so this runs on the raw text.
// Anything else Jinja can do (filters, tests, if/for, expressions) is refused with its
// position: the simulator must not guess what a real machine would have rendered.

/** What MAAS's metadata service tells a deployed machine about itself. */
export interface MachineIdentity {
  /** meta-data/instance-id: the system ID (maas metadataserver/api.py MetaDataHandler.instance_id). */
  systemId: string;
  /** meta-data/local-hostname: the FQDN, hostname.domain (MetaDataHandler.local_hostname returns node.fqdn). */
  fqdn: string;
}

type JinjaValue = string | { readonly [key: string]: JinjaValue };
export type JinjaVars = { readonly [key: string]: JinjaValue };

/**
 * The instance data cloud-init builds on a MAAS machine, as Jinja sees it.
 * - ds.meta_data is DataSourceMAAS's crawl (DS_FIELDS): instance-id and local-hostname
 *   (public-keys only when the owner has SSH keys; the simulator has none).
 * - v1 is sources/__init__.py _get_standardized_metadata: local_hostname is
 *   get_hostname().hostname, the first label of local-hostname; cloud_name and platform
 *   are the datasource name lower-cased ("maas"). MAAS gives no region or availability zone.
 * - convert_jinja_instance_data adds "_" aliases for keys with "-" and copies v1's keys to
 *   the top level, so {{ local_hostname }} and {{ v1['local-hostname'] }} work too.
 */
export function maasInstanceData(identity: MachineIdentity): JinjaVars {
  const shortName = identity.fqdn.split(".")[0] ?? identity.fqdn;
  const v1 = withAliases({ "local-hostname": shortName, "instance-id": identity.systemId, "cloud-name": "maas", platform: "maas" });
  return {
    ...v1,
    v1,
    ds: { meta_data: withAliases({ "instance-id": identity.systemId, "local-hostname": identity.fqdn }) },
  };
}

function withAliases(values: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    out[key] = value;
    out[key.replace(/[-.]/g, "_")] = value;
  }
  return out;
}

/** A template Jinja itself would refuse to parse, or a construct the simulator does not emulate. */
export class JinjaError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

export interface Rendered {
  text: string;
  /**
   * Variables the instance data does not have, as written (v1.region). cloud-init renders
   * them as CI_MISSING_JINJA_VAR/<name> and only warns (templater.py UndefinedJinjaVariable);
   * so does this, and the caller decides whether that is fatal.
   */
  missing: string[];
}

const MISSING_PREFIX = "CI_MISSING_JINJA_VAR/";
const OPENERS = /\{\{|\{%|\{#/g;

/** Renders `template` (the text after the "## template: jinja" line) with `vars`. */
export function renderJinja(template: string, vars: JinjaVars): Rendered {
  const out: string[] = [];
  const missing: string[] = [];
  let pos = 0;
  const lineAt = (index: number): number => template.slice(0, index).split("\n").length;
  OPENERS.lastIndex = 0;
  for (let m = OPENERS.exec(template); m !== null; m = OPENERS.exec(template)) {
    const start = m.index;
    const kind = m[0];
    const closer = kind === "{{" ? "}}" : kind === "{%" ? "%}" : "#}";
    const end = template.indexOf(closer, start + 2);
    if (end < 0) throw new JinjaError(`line ${lineAt(start)}: "${kind}" is never closed with "${closer}"; write a literal brace pair inside {% raw %}…{% endraw %}`, lineAt(start));
    let inner = template.slice(start + 2, end);
    let before = template.slice(pos, start);
    if (inner.startsWith("-")) {
      before = before.trimEnd();
      inner = inner.slice(1);
    }
    let trimAfter = false;
    if (inner.endsWith("-")) {
      trimAfter = true;
      inner = inner.slice(0, -1);
    }
    out.push(before);
    let next = end + 2;
    if (kind === "{{") {
      out.push(lookup(inner, vars, missing, lineAt(start)));
    } else if (kind === "{%") {
      const statement = inner.trim();
      if (statement !== "raw") {
        const word = /^\w*/.exec(statement)?.[0] ?? "";
        throw new JinjaError(`line ${lineAt(start)}: the Jinja statement {% ${word} %} is not emulated; only {{ variable }} lookups, {# comments #} and {% raw %} are`, lineAt(start));
      }
      // Jinja's lexer applies trim_blocks to {% endraw %} but not to {% raw %}.
      if (trimAfter) next = skipSpace(template, next);
      const endRaw = /\{%-?\s*endraw\s*-?%\}/g;
      endRaw.lastIndex = next;
      const close = endRaw.exec(template);
      if (close === null) throw new JinjaError(`line ${lineAt(start)}: {% raw %} is never closed with {% endraw %}`, lineAt(start));
      let body = template.slice(next, close.index);
      if (close[0].startsWith("{%-")) body = body.trimEnd();
      out.push(body);
      next = afterBlock(template, close.index + close[0].length, close[0].endsWith("-%}"));
      OPENERS.lastIndex = next;
      pos = next;
      continue;
    } else {
      next = afterBlock(template, next, trimAfter);
    }
    if (kind === "{{" && trimAfter) next = skipSpace(template, next);
    OPENERS.lastIndex = next;
    pos = next;
  }
  out.push(template.slice(pos));
  return { text: out.join(""), missing };
}

/** After a block or comment tag: "-%}" eats following whitespace; trim_blocks eats one newline. */
function afterBlock(text: string, index: number, trim: boolean): number {
  if (trim) return skipSpace(text, index);
  return text[index] === "\n" ? index + 1 : text.startsWith("\r\n", index) ? index + 2 : index;
}

function skipSpace(text: string, index: number): number {
  let i = index;
  while (i < text.length && /\s/.test(text[i] as string)) i++;
  return i;
}

// name ( .name | ['key'] | ["key"] )*
const PATH = /^\s*([A-Za-z_]\w*)((?:\s*\.\s*[A-Za-z_]\w*|\s*\[\s*(?:'[^'\\]*'|"[^"\\]*")\s*\])*)\s*$/;
const STEP = /\.\s*([A-Za-z_]\w*)|\[\s*(?:'([^'\\]*)'|"([^"\\]*)")\s*\]/g;

function lookup(expression: string, vars: JinjaVars, missing: string[], line: number): string {
  const match = PATH.exec(expression);
  if (match === null) {
    throw new JinjaError(`line ${line}: only variable lookups such as {{ v1.local_hostname }} are emulated in {{ … }}, not filters, calls or other expressions`, line);
  }
  const names = [match[1] as string];
  for (const step of (match[2] ?? "").matchAll(STEP)) names.push((step[1] ?? step[2] ?? step[3]) as string);
  let value: JinjaValue | undefined = vars;
  for (const name of names) value = typeof value === "object" && Object.hasOwn(value, name) ? value[name] : undefined;
  const written = names.join(".");
  if (typeof value === "string") return value;
  missing.push(written);
  // A whole mapping would print as a Python dict; the simulator offers only text leaves.
  return `${MISSING_PREFIX}${names[names.length - 1] ?? written}`;
}
