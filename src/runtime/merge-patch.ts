// RFC 7386 JSON merge patch. Custom resources refuse strategic-merge patches, so the
// patch helper sends the difference between the object as read and as changed in
// this form. The known limits of the format apply: arrays are replaced whole, and
// a null inside the new value means "remove", so a field cannot be set to null.

type JsonObject = Record<string, unknown>;

/**
 * The merge patch that turns `before` into `after`, or undefined when they are equal
 * as JSON. Keys missing from (or undefined in) `after` become null; nested objects
 * are diffed key by key; any other changed value, arrays included, is sent whole.
 * Both values must be JSON objects, since a Kubernetes patch body always is one.
 */
export function createMergePatch(before: unknown, after: unknown): Record<string, unknown> | undefined {
  if (!isObject(before) || !isObject(after)) {
    if (jsonEqual(before, after)) return undefined;
    throw new TypeError("createMergePatch: both values must be JSON objects");
  }
  const patch = diffObjects(before, after);
  return Object.keys(patch).length === 0 ? undefined : patch;
}

/**
 * Applies `patch` to `target` as RFC 7386 describes. Returns a new value and leaves
 * `target` unchanged; the parts the patch does not touch are shared with `target`.
 */
export function applyMergePatch<T>(target: T, patch: unknown): T {
  return mergeValue(target, patch) as T;
}

function diffObjects(before: JsonObject, after: JsonObject): JsonObject {
  const patch: JsonObject = {};
  for (const [key, value] of Object.entries(before)) {
    if (value !== undefined && after[key] === undefined) setKey(patch, key, null);
  }
  for (const [key, value] of Object.entries(after)) {
    if (value === undefined) continue;
    const old = before[key];
    if (jsonEqual(old, value)) continue;
    setKey(patch, key, isObject(old) && isObject(value) ? diffObjects(old, value) : cloneJson(value));
  }
  return patch;
}

function mergeValue(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return cloneJson(patch);
  const result: JsonObject = {};
  if (isObject(target)) for (const [key, value] of Object.entries(target)) setKey(result, key, value);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete result[key];
    } else if (value !== undefined) {
      setKey(result, key, mergeValue(result[key], value));
    }
  }
  return result;
}

/**
 * Defines a plain own property, so a key such as "__proto__" from a parsed document
 * stays data and never reaches an object's prototype.
 */
function setKey(object: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Equality as JSON sees it: key order does not matter and undefined-valued keys are absent. */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const aKeys = Object.keys(a).filter((k) => a[k] !== undefined);
    const bKeys = Object.keys(b).filter((k) => b[k] !== undefined);
    return aKeys.length === bKeys.length && aKeys.every((k) => b[k] !== undefined && jsonEqual(a[k], b[k]));
  }
  return false;
}

/** A deep copy, so a patch never shares structure with the objects it was made from. */
function cloneJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cloneJson);
  if (isObject(value)) {
    const copy: JsonObject = {};
    for (const [key, item] of Object.entries(value)) if (item !== undefined) setKey(copy, key, cloneJson(item));
    return copy;
  }
  return value;
}
