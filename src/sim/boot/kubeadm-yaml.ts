// Typed field access to kubeadm's YAML documents, as kubeadm decodes them: YAML becomes
// JSON and then Go structs (sigs.k8s.io/yaml), so a plain scalar read into a string
// field keeps its text ("v: 0640" is "0640", not 416), null or an absent key leaves the
// zero value, and a field of the wrong shape is an error naming the document and field.
import { isAlias, isMap, isScalar, isSeq, type Document, type Node } from "yaml";

/** A kubeadm config that kubeadm would refuse, or that the simulator cannot read. Names the document and field, never a token. */
export class KubeadmConfigError extends Error {}

/** A YAML value with scalars as both their value and their text. */
export type YamlValue =
  | { kind: "map"; entries: Map<string, YamlValue> }
  | { kind: "seq"; items: YamlValue[] }
  | { kind: "scalar"; value: unknown; text: string }
  | { kind: "null" };

const NULL: YamlValue = { kind: "null" };

export function toYamlValue(node: unknown, doc: Document): YamlValue {
  if (node === null || node === undefined) return NULL;
  if (isAlias(node)) return toYamlValue(node.resolve(doc), doc);
  if (isScalar(node)) {
    if (node.value === null) return NULL;
    const text = typeof node.value === "string" ? node.value : (node.source ?? String(node.value));
    return { kind: "scalar", value: node.value, text };
  }
  if (isMap(node)) {
    const entries = new Map<string, YamlValue>();
    for (const pair of node.items) {
      const key = toYamlValue(pair.key as Node | null, doc);
      entries.set(key.kind === "scalar" ? key.text : "", toYamlValue(pair.value, doc));
    }
    return { kind: "map", entries };
  }
  if (isSeq(node)) return { kind: "seq", items: node.items.map((item) => toYamlValue(item, doc)) };
  return NULL;
}

/** Reads the fields of one document; `where` names it in errors, e.g. "/run/kubeadm/kubeadm.yaml InitConfiguration". */
export class FieldReader {
  constructor(readonly where: string) {}

  fail(path: string, fix: string): never {
    throw new KubeadmConfigError(`${this.where}: ${path} ${fix}`);
  }

  /** A struct field: its fields, or undefined when absent or null. */
  object(v: YamlValue | undefined, path: string): Map<string, YamlValue> | undefined {
    if (v === undefined || v.kind === "null") return undefined;
    if (v.kind !== "map") this.fail(path, "must be a mapping of fields");
    return v.entries;
  }

  string(v: YamlValue | undefined, path: string): string {
    if (v === undefined || v.kind === "null") return "";
    if (v.kind !== "scalar") this.fail(path, "must be text");
    return v.text;
  }

  /** A []string field: undefined when absent or null (Go's nil), else the items. */
  strings(v: YamlValue | undefined, path: string): string[] | undefined {
    if (v === undefined || v.kind === "null") return undefined;
    if (v.kind !== "seq") this.fail(path, "must be a list of text");
    return v.items.map((item, i) => this.string(item, `${path}[${i}]`));
  }

  bool(v: YamlValue | undefined, path: string): boolean {
    if (v === undefined || v.kind === "null") return false;
    if (v.kind !== "scalar" || typeof v.value !== "boolean") this.fail(path, "must be true or false");
    return v.value;
  }

  /** An int32 field such as bindPort; 0 when absent. */
  int(v: YamlValue | undefined, path: string, min: number, max: number): number {
    if (v === undefined || v.kind === "null") return 0;
    if (v.kind !== "scalar" || typeof v.value !== "number" || !Number.isInteger(v.value)) this.fail(path, "must be a whole number");
    if (v.value < min || v.value > max) this.fail(path, `must be from ${min} to ${max} (got ${v.value})`);
    return v.value;
  }

  /** A list of mappings, e.g. taints; undefined when absent or null. */
  objects(v: YamlValue | undefined, path: string): Array<Map<string, YamlValue>> | undefined {
    if (v === undefined || v.kind === "null") return undefined;
    if (v.kind !== "seq") this.fail(path, "must be a list");
    return v.items.map((item, i) => this.object(item, `${path}[${i}]`) ?? new Map());
  }

  /** map[string]bool, e.g. featureGates. */
  boolMap(v: YamlValue | undefined, path: string): Record<string, boolean> {
    const fields = this.object(v, path);
    const out: Record<string, boolean> = {};
    for (const [key, value] of fields ?? []) out[key] = this.bool(value, `${path}.${key}`);
    return out;
  }
}
