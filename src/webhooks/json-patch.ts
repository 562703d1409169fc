// The JSON patch a mutating webhook answers with: the difference between the object as
// the API server sent it and the object after defaulting. Computing it from the two
// values (as controller-runtime's defaulting webhooks do) keeps each defaulter a plain
// edit of a copy, so no defaulter can forget to emit the operation for a change it made.
import type { JsonPatchOperation } from "./admission.ts";

/** RFC 6901: "~" and "/" in a key are escaped as "~0" and "~1". */
function pointer(path: string, key: string): string {
  return `${path}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => key in b && sameJson(a[key], b[key]));
  }
  return false;
}

/**
 * Operations that turn `from` into `to`. Objects are compared key by key; an array that
 * differs is replaced whole, since index-wise edits of a list the user wrote would be
 * harder to read in an audit log and no defaulter here edits inside lists.
 */
export function diffJson(from: unknown, to: unknown, path = ""): JsonPatchOperation[] {
  if (sameJson(from, to)) return [];
  if (!isPlainObject(from) || !isPlainObject(to)) return [{ op: "replace", path: path === "" ? "" : path, value: to }];
  const ops: JsonPatchOperation[] = [];
  for (const key of Object.keys(from)) {
    if (!(key in to) || to[key] === undefined) ops.push({ op: "remove", path: pointer(path, key) });
  }
  for (const [key, value] of Object.entries(to)) {
    if (value === undefined) continue;
    if (!(key in from) || from[key] === undefined) ops.push({ op: "add", path: pointer(path, key), value });
    else ops.push(...diffJson(from[key], value, pointer(path, key)));
  }
  return ops;
}

/** Applies operations made by diffJson (used to check a patch against its intent). */
export function applyJsonPatch(document: unknown, ops: readonly JsonPatchOperation[]): unknown {
  let root: unknown = structuredClone(document);
  for (const op of ops) {
    if (op.path === "") {
      if (op.op === "remove") throw new Error("cannot remove the document root");
      root = structuredClone(op.value);
      continue;
    }
    const keys = op.path.slice(1).split("/").map((key) => key.replace(/~1/g, "/").replace(/~0/g, "~"));
    const last = keys.pop() as string;
    let parent: unknown = root;
    for (const key of keys) parent = isPlainObject(parent) ? parent[key] : undefined;
    if (!isPlainObject(parent)) throw new Error(`patch path ${op.path} has no parent object`);
    if (op.op === "remove") delete parent[last];
    else parent[last] = structuredClone(op.value);
  }
  return root;
}
