// /boot-resources/ and /boot-resources/{id}/ (read-only here).
// MAAS: maas@3.7.0 api/boot_resources.py boot_resource_to_dict (+ sets with files
// for a single resource); ?type= accepts all, synced, uploaded.
import { badRequest, notFound } from "../http/errors.ts";
import { API_ROOT } from "../machine-json.ts";
import type { SimBootResource } from "../types.ts";
import type { ApiRequest, ApiResult, HandlerEnv } from "./context.ts";

function resourceJson(r: SimBootResource): Record<string, unknown> {
  const json: Record<string, unknown> = {
    id: r.id,
    type: r.type,
    name: r.name,
    architecture: r.architecture,
    resource_uri: `${API_ROOT}/boot-resources/${r.id}/`,
    last_deployed: null,
    // resource.extra
    subarches: r.architecture.split("/")[1] ?? "generic",
  };
  if (r.type === "Uploaded") json.title = r.title;
  return json;
}

export function readBootResources(env: HandlerEnv, req: ApiRequest): ApiResult {
  const type = req.query.get("type") ?? "all";
  const all = [...env.store.state.bootResources];
  let list: SimBootResource[];
  if (type === "all") {
    list = all.sort((a, b) => cmp(a.type, b.type) || cmp(a.name, b.name) || cmp(a.architecture, b.architecture));
  } else if (type === "synced" || type === "uploaded") {
    list = all.filter((r) => r.type.toLowerCase() === type).sort((a, b) => cmp(a.name, b.name) || cmp(a.architecture, b.architecture));
  } else {
    throw badRequest(`'${type}' is not a valid boot resource type. Available types: ['synced', 'uploaded']`);
  }
  return { json: list.map(resourceJson) };
}

export function readBootResource(env: HandlerEnv, req: ApiRequest): ApiResult {
  const r = env.store.state.bootResources.find((x) => String(x.id) === req.args.id);
  if (r === undefined) throw notFound("BootResource");
  const file = { filename: r.filetype, filetype: r.filetype, sha256: "0".repeat(64), filename_on_disk: `${r.id}-${r.filetype}`, size: 1_000_000_000, complete: true };
  return {
    json: {
      ...resourceJson(r),
      sets: { "20260101": { version: "20260101", label: r.type === "Synced" ? "stable" : "uploaded", size: file.size, complete: true, files: { [file.filename]: file } } },
    },
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
