// MAAS request encoding: `op` in the query string, other POST/PUT parameters as an
// application/x-www-form-urlencoded body, lists as repeated keys (Django's
// QueryDict.getlist), booleans as "true"/"false" (formencode StringBool accepts them).

/** One parameter value; `undefined` means "not sent". */
export type FormValue = string | number | boolean | readonly (string | number)[] | undefined;
export type FormParams = Readonly<Record<string, FormValue>>;

export function encodeForm(params: FormParams | undefined): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params ?? {})) {
    if (value === undefined) continue;
    if (Array.isArray(value)) {
      for (const item of value as readonly (string | number)[]) search.append(key, String(item));
    } else {
      search.append(key, String(value));
    }
  }
  return search.toString();
}

/** The query string (without '?') for `op` followed by `query`; empty when both are empty. */
export function encodeQuery(op: string | undefined, query: FormParams | undefined): string {
  return encodeForm({ ...(op === undefined ? {} : { op }), ...query });
}

/** A path segment from a caller-supplied id or name, so "a/b" cannot climb the URL. */
export function segment(value: string | number): string {
  const text = String(value);
  if (text === "") throw new TypeError("MAAS path segment must not be empty");
  return encodeURIComponent(text);
}

/**
 * A request path from one of MAAS's URI templates (urls_api.py names them, e.g.
 * "machines/{system_id}/") and the values for its placeholders. `path` holds each value
 * as one escaped segment; `route` is the template itself, which names the operation for
 * metrics without a label value per machine. Both come from one template so they cannot
 * disagree.
 */
export function resourcePath(template: string, values: Readonly<Record<string, string | number>>): { path: string; route: string } {
  const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new TypeError(`MAAS path template ${template} has no value for {${name}}`);
    return segment(value);
  });
  return { path, route: template };
}
