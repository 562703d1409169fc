// GET /MAAS/api/2.0/describe/ — what python-libmaas reads before any call.
// MAAS: maas@3.7.0 api/doc.py (_describe_api, _describe_resource,
// _describe_handler, _describe_actions) and api/doc_handler.py (describe: URIs
// made absolute from the request, json.dumps(sort_keys=True), bare application/json).
// The hash (also sent as X-MAAS-API-Hash) is a SHA-1 of the relative description.
import { createHash } from "node:crypto";
import { API_ROOT } from "./machine-json.ts";
import { pyJsonDumps } from "./python-format.ts";
import { paramsOf, RESOURCES, type ResourceDef } from "./routes.ts";

interface HandlerDescription {
  actions: Array<{ method: string; name: string; doc: string; op: string | null; restful: boolean }>;
  doc: string;
  name: string;
  params: string[];
  path: string;
  uri?: string;
}

interface ResourceDescription {
  anon: HandlerDescription | null;
  auth: HandlerDescription | null;
  name: string;
}

function handler(resource: ResourceDef, which: "auth" | "anon"): HandlerDescription | null {
  const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const base = { params: paramsOf(resource), path: `${API_ROOT}/${resource.uri}` };
  if (which === "anon") {
    const anon = resource.anonHandler;
    if (anon === undefined) return null;
    const actions = anon.ops.map((o) => ({ method: o.method, name: o.name, doc: "", op: o.op, restful: o.op === null })).sort(byName);
    return { actions, doc: anon.doc, name: anon.name, ...base };
  }
  const actions = resource.ops.map((o) => ({ method: o.method, name: o.name, doc: o.doc, op: o.op, restful: o.op === null })).sort(byName);
  return { actions, doc: resource.doc, name: resource.handler, ...base };
}

function relativeDescription(): { doc: string; resources: ResourceDescription[]; handlers: HandlerDescription[] } {
  const resources = RESOURCES.map((r): ResourceDescription => {
    // A resource without authentication describes its handler as "anon" only.
    if (r.anonymous === true) return { anon: handler(r, "auth"), auth: null, name: r.handler };
    return { anon: handler(r, "anon"), auth: handler(r, "auth"), name: r.handler };
  }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const handlers = [
    ...resources.flatMap((r) => (r.anon === null ? [] : [r.anon])),
    ...resources.flatMap((r) => (r.auth === null ? [] : [r.auth])),
  ];
  return { doc: "MAAS API", resources, handlers };
}

export const API_HASH = createHash("sha1").update(pyJsonDumps(relativeDescription(), { sortKeys: true })).digest("hex");

/** The describe/ body for a client that reached us at `origin` (e.g. http://127.0.0.1:5240). */
export function describeApi(origin: string): string {
  const description = relativeDescription();
  for (const h of description.handlers) h.uri = `${origin}${h.path}`;
  return pyJsonDumps({ ...description, hash: API_HASH }, { sortKeys: true });
}
