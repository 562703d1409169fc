// MAAS is a Python/Django program and several of its error texts embed Python
// representations: `%r` of a string, `str(list_of_tuples)`, `str(float)`, and
// `json.dumps()` with its default ", " / ": " separators. Clients that compare
// error texts (MAAS's own tests do) see these exact shapes, so we reproduce them.

/**
 * Python's `repr()` of a str: single quotes unless the text holds ' and no ".
 * Characters str.isprintable() refuses (Unicode "Other" and "Separator" but the
 * space) are escaped as \xNN, \uNNNN or \UNNNNNNNN.
 */
export function pyRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of text) {
    if (ch === "\\") out += "\\\\";
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch !== " " && /^[\p{C}\p{Z}]$/u.test(ch)) out += pyEscape(ch.codePointAt(0) ?? 0);
    else out += ch;
  }
  return out + quote;
}

function pyEscape(code: number): string {
  if (code < 0x100) return `\\x${code.toString(16).padStart(2, "0")}`;
  if (code < 0x10000) return `\\u${code.toString(16).padStart(4, "0")}`;
  return `\\U${code.toString(16).padStart(8, "0")}`;
}

/** Python's `str(float)`: whole numbers keep a trailing ".0" (10 → "10.0"). */
export function pyFloat(value: number): string {
  if (Number.isInteger(value) && Math.abs(value) < 1e16) return `${value}.0`;
  return String(value);
}

/** `str(list(querydict.lists()))`: `[('name', ['h']), ('mem', ['1024'])]`. */
export function pyListOfLists(entries: ReadonlyArray<readonly [string, readonly string[]]>): string {
  const items = entries.map(([key, values]) => `(${pyRepr(key)}, [${values.map(pyRepr).join(", ")}])`);
  return `[${items.join(", ")}]`;
}

export interface PyJsonOptions {
  /** json.dumps(sort_keys=True), as MAAS's describe/ uses. */
  sortKeys?: boolean;
}

/** Python's `json.dumps(value)` with default separators and ensure_ascii=True. */
export function pyJsonDumps(value: unknown, options: PyJsonOptions = {}): string {
  return dump(value, options.sortKeys ?? false);
}

function dump(value: unknown, sortKeys: boolean): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "NaN";
  if (typeof value === "string") return asciiString(value);
  if (Array.isArray(value)) return `[${value.map((v) => dump(v, sortKeys)).join(", ")}]`;
  if (typeof value === "object") {
    const keys = Object.keys(value as Record<string, unknown>).filter(
      (k) => (value as Record<string, unknown>)[k] !== undefined,
    );
    if (sortKeys) keys.sort();
    const parts = keys.map((k) => `${asciiString(k)}: ${dump((value as Record<string, unknown>)[k], sortKeys)}`);
    return `{${parts.join(", ")}}`;
  }
  return asciiString(String(value));
}

function asciiString(text: string): string {
  const json = JSON.stringify(text);
  // ensure_ascii=True escapes every non-ASCII code unit as \uXXXX.
  return json.replace(/[\u007f-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
