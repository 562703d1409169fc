// Bad values for every field of a kind, generated from the kind's structural schema (the
// JSON the API server validates, as hack/generate-crds.ts writes it into the CRD). Each
// property, nested object, array item and map value gets one value per rule its schema
// states: the JSON type, minimum, maximum, integer-ness, format int32, minLength,
// maxLength, pattern, enum, maxItems, set uniqueness, minProperties, required, and an
// unknown field where the object is closed. A case is a whole spec: a known-good spec with
// exactly one field broken, so a refusal can only be about that field. The walk follows the
// schema's own key order and every value is derived from fixed inputs, so the table is the
// same on every run. CEL rules are not generated (a rule's meaning is not in its schema):
// the hand-written cases cover them.
import type { JsonValue } from "../../../src/api/v1beta1/index.ts";

export type Json = JsonValue;
export type Segment = string | number;

export interface BadCase {
  /** What is wrong with the value, e.g. `0, below the minimum 1`. */
  what: string;
  /** The field the refusal must name, as the API server writes paths: `spec.tags[1]`, `spec.template.spec.minCPU`. */
  field: string;
  /** The whole spec to send. */
  spec: Json;
  /** More text the refusal must hold: the fix, for the refusals our webhooks make. */
  mentions: readonly string[];
  origin: "schema" | "hand-written";
}

/** The slice of a structural schema node the generator reads. */
interface SchemaNode {
  type?: string;
  format?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode;
  items?: SchemaNode;
  required?: string[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  enum?: string[];
  maxItems?: number;
  minProperties?: number;
  "x-kubernetes-list-type"?: string;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
}

/** A field name no schema of ours declares, for the closed-object cases. */
export const UNKNOWN_FIELD = "unknownField";
const INT32_MAX = 2 ** 31 - 1;
/** Tried in this order against a pattern; the first three it refuses are the cases. */
const PATTERN_BREAKERS = ["has space", "a/b/c", "-leading", "UPPER", "a..b", "a,b", "ä", "a.b", "a:b", "_", "trailing-"];

const REMOVE = Symbol("remove");
type Edit = { at: Segment[]; value: Json | typeof REMOVE; what: string; field?: Segment[] };

export function formatPath(segments: readonly Segment[]): string {
  return segments.map((s, i) => (typeof s === "number" ? `[${s}]` : i === 0 ? s : `.${s}`)).join("");
}

function isObject(value: unknown): value is { [key: string]: Json } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A copy of `root` with the value at `at` (relative to root) replaced or removed. */
export function withValue(root: Json, at: readonly Segment[], value: Json | typeof REMOVE): Json {
  const copy = structuredClone(root);
  if (at.length === 0) {
    if (value === REMOVE) throw new Error("cannot remove the root");
    return value;
  }
  let node: Json = copy;
  for (const segment of at.slice(0, -1)) {
    const next: Json | undefined = Array.isArray(node) ? node[segment as number] : isObject(node) ? node[segment as string] : undefined;
    if (next === undefined) throw new Error(`no value at ${formatPath(at.map(String))} to edit`);
    node = next;
  }
  const last = at[at.length - 1] as Segment;
  if (Array.isArray(node)) {
    if (value === REMOVE) node.splice(last as number, 1);
    else node[last as number] = value;
  } else if (isObject(node)) {
    if (value === REMOVE) delete node[last as string];
    else node[last as string] = value;
  }
  return copy;
}

export function valueAt(root: Json, at: readonly Segment[]): Json | undefined {
  let node: Json | undefined = root;
  for (const segment of at) {
    if (Array.isArray(node)) node = node[segment as number];
    else if (isObject(node)) node = node[segment as string];
    else return undefined;
  }
  return node;
}

/** The value a careless manifest puts where this type belongs. */
function wrongType(node: SchemaNode, good: Json): Json {
  switch (node.type) {
    case "string":
      return 42;
    case "integer":
    case "number":
      return String(good);
    case "boolean":
      return "yes";
    case "array":
      // `tags: gpu` for `tags: [gpu]`.
      return Array.isArray(good) && typeof good[0] === "string" ? good[0] : "x";
    default:
      return "x";
  }
}

/** A string of `length` characters the pattern (if any) accepts, built from the good value's characters. */
function filler(node: SchemaNode, good: string, length: number): string {
  const pattern = node.pattern === undefined ? undefined : new RegExp(node.pattern);
  for (const char of [...good, "a"]) {
    const text = char.repeat(length);
    if (pattern === undefined || pattern.test(text)) return text;
  }
  return "a".repeat(length);
}

function stringEdits(node: SchemaNode, good: string): Omit<Edit, "at">[] {
  const edits: Omit<Edit, "at">[] = [];
  const min = node.minLength ?? 0;
  if (min >= 1) edits.push({ value: "", what: `the empty string (minLength ${min})` });
  if (node.maxLength !== undefined) edits.push({ value: filler(node, good, node.maxLength + 1), what: `${node.maxLength + 1} characters (maxLength ${node.maxLength})` });
  if (node.pattern !== undefined) {
    const pattern = new RegExp(node.pattern);
    const fits = (s: string): boolean => s.length >= Math.max(min, 1) && s.length <= (node.maxLength ?? Infinity);
    for (const text of PATTERN_BREAKERS.filter((s) => fits(s) && !pattern.test(s)).slice(0, 3)) {
      edits.push({ value: text, what: `${JSON.stringify(text)}, not matching ${node.pattern}` });
    }
  }
  if (node.enum !== undefined) {
    const first = node.enum[0] ?? "";
    edits.push({ value: `not-${first}`, what: `"not-${first}", not one of ${node.enum.join(", ")}` });
    const capital = first.charAt(0).toUpperCase() + first.slice(1);
    if (!node.enum.includes(capital)) edits.push({ value: capital, what: `${JSON.stringify(capital)} (enum values are case-sensitive)` });
  }
  if (node.format === "date-time") edits.push({ value: "yesterday", what: '"yesterday", not an RFC 3339 date-time' });
  return edits;
}

function integerEdits(node: SchemaNode, good: number): Omit<Edit, "at">[] {
  const edits: Omit<Edit, "at">[] = [{ value: good + 0.5, what: `${good + 0.5}, not an integer` }];
  if (node.minimum !== undefined) edits.push({ value: node.minimum - 1, what: `${node.minimum - 1}, below the minimum ${node.minimum}` });
  if (node.maximum !== undefined) edits.push({ value: node.maximum + 1, what: `${node.maximum + 1}, above the maximum ${node.maximum}` });
  if (node.format === "int32" && (node.maximum === undefined || node.maximum > INT32_MAX)) {
    edits.push({ value: INT32_MAX + 1, what: `${INT32_MAX + 1}, beyond format int32` });
  }
  return edits;
}

function arrayEdits(node: SchemaNode, good: Json[]): Omit<Edit, "at">[] {
  const edits: Omit<Edit, "at">[] = [];
  const first = good[0];
  if (node.maxItems !== undefined && typeof first === "string") {
    // Distinct items the item schema accepts, so only the count is wrong.
    const items = Array.from({ length: node.maxItems + 1 }, (_, i) => `${first}-${i}`);
    edits.push({ value: items, what: `${node.maxItems + 1} items (maxItems ${node.maxItems})` });
  }
  if (node["x-kubernetes-list-type"] === "set" && first !== undefined) {
    edits.push({ value: [first, first], what: `${JSON.stringify(first)} twice (the list is a set)`, field: [1] });
  }
  return edits;
}

interface Walk {
  edits: Edit[];
  /** Every field path the schema has, with how many cases it got. */
  fields: Map<string, number>;
}

function walk(node: SchemaNode, at: Segment[], good: Json | undefined, out: Walk, root: string): void {
  const here = formatPath([root, ...at]);
  if (good === undefined) throw new Error(`the good spec has no value at ${here}; give it one so that field's bad values are generated`);
  const before = out.edits.length;
  const add = (edit: Omit<Edit, "at">, extra: Segment[] = []): void => {
    out.edits.push({ ...edit, at: [...at, ...extra], ...(edit.field === undefined ? {} : { field: [...at, ...edit.field] }) });
  };
  if (at.length > 0) add({ value: wrongType(node, good), what: `${JSON.stringify(wrongType(node, good))}, not of type ${node.type ?? "?"}` });
  if (node.type === "string" && typeof good === "string") stringEdits(node, good).forEach((e) => add(e));
  if (node.type === "integer" && typeof good === "number") integerEdits(node, good).forEach((e) => add(e));
  if (node.type === "array" && Array.isArray(good)) {
    arrayEdits(node, good).forEach((e) => add(e));
    if (node.items !== undefined) walk(node.items, [...at, 0], good[0], out, root);
  }
  if (node.type === "object" && isObject(good)) {
    if ((node.minProperties ?? 0) >= 1) add({ value: {}, what: `{} (minProperties ${node.minProperties ?? 0})` });
    for (const name of node.required ?? []) add({ value: REMOVE, what: "missing (required)" }, [name]);
    if (node.properties !== undefined) {
      if (node["x-kubernetes-preserve-unknown-fields"] !== true) add({ value: "x", what: "a field the schema does not declare" }, [UNKNOWN_FIELD]);
      for (const [name, child] of Object.entries(node.properties)) walk(child, [...at, name], good[name], out, root);
    }
    if (node.additionalProperties !== undefined) {
      const [key] = Object.keys(good);
      if (key === undefined) throw new Error(`the good spec's map at ${here} is empty; give it one entry so its values are checked`);
      walk(node.additionalProperties, [...at, key], good[key], out, root);
    }
  }
  out.fields.set(here, (out.fields.get(here) ?? 0) + out.edits.length - before);
}

export interface GeneratedCases {
  cases: BadCase[];
  /** Every field path of the schema and how many cases it got (nested fields' cases not included). */
  fields: ReadonlyMap<string, number>;
}

/**
 * The bad values of every field of `schema` (a kind's `spec`, structural), each applied
 * to `goodSpec`, which must hold a value for every field so that every field is reached.
 */
export function casesFromSchema(schema: object, goodSpec: Json, root = "spec"): GeneratedCases {
  const out: Walk = { edits: [], fields: new Map() };
  walk(schema as SchemaNode, [], goodSpec, out, root);
  const cases = out.edits.map((edit): BadCase => ({
    what: edit.what,
    field: formatPath([root, ...(edit.field ?? edit.at)]),
    spec: withValue(goodSpec, edit.at, edit.value),
    mentions: [],
    origin: "schema",
  }));
  return { cases, fields: out.fields };
}

/** A spec with one value set (or removed with `undefined`) at a dotted path relative to the spec; for hand-written cases. */
export function edited(goodSpec: Json, path: string, value: Json | undefined): Json {
  const at = path.split(".").flatMap((part) => {
    const match = /^([^[]+)((?:\[\d+\])*)$/.exec(part);
    if (match === null) return [part];
    const indexes = [...(match[2] ?? "").matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1]));
    return [match[1] as string, ...indexes];
  });
  return withValue(goodSpec, at, value === undefined ? REMOVE : value);
}

/** Drops later cases whose field and spec repeat an earlier one; hand-written cases go first so their mentions are kept. */
export function uniqueCases(cases: readonly BadCase[]): BadCase[] {
  const seen = new Set<string>();
  return cases.filter((c) => {
    const key = `${c.field}\n${JSON.stringify(c.spec)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
