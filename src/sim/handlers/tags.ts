// /tags/ and /tags/{name}/. MAAS: maas@3.7.0 api/tags.py (TagHandler,
// TagsHandler), forms TagForm, models/tag.py (name regex ^[a-zA-Z0-9_-]+$).
// Tag definitions (XPath over hardware details) are stored but not evaluated:
// the simulator has no lshw output to match them against.
import { conflict, forbidden, notFound, validationErrors, type FieldErrors } from "../http/errors.ts";
import type { FormParams } from "../http/form-params.ts";
import { API_ROOT, machineJson } from "../machine-json.ts";
import type { SimTag } from "../types.ts";
import { deleted, hasNodePermission, userOf, type ApiRequest, type ApiResult, type HandlerEnv } from "./context.ts";

const TAG_NAME = /^[a-zA-Z0-9_-]+$/;

export function tagJson(t: SimTag): Record<string, unknown> {
  return { name: t.name, definition: t.definition, comment: t.comment, kernel_opts: t.kernelOpts, resource_uri: `${API_ROOT}/tags/${t.name}/` };
}

function tagOr404(env: HandlerEnv, req: ApiRequest, toEdit: boolean): SimTag {
  // get_tag_or_404: the admin check comes before the lookup.
  if (toEdit && !userOf(req).admin) throw forbidden();
  const tag = env.store.tag(req.args.name ?? "");
  if (tag === undefined) throw notFound("Tag");
  return tag;
}

export function readTags(env: HandlerEnv): ApiResult {
  return { json: env.store.state.tags.map(tagJson) };
}

export function readTag(env: HandlerEnv, req: ApiRequest): ApiResult {
  return { json: tagJson(tagOr404(env, req, false)) };
}

/** TagForm checks: name required, pattern, unique. */
function checkTagForm(env: HandlerEnv, body: FormParams, current: SimTag | null): FieldErrors {
  const errors: FieldErrors = {};
  const name = body.get("name");
  if (current === null || name !== undefined) {
    if (name === undefined || name === "") errors.name = ["This field is required."];
    else if (name.length > 256) errors.name = [`Ensure this value has at most 256 characters (it has ${name.length}).`];
    else if (!TAG_NAME.test(name)) errors.name = ["Enter a valid value."];
    else if (env.store.state.tags.some((t) => t.name === name && t !== current)) errors.name = ["Tag with this Name already exists."];
  }
  return errors;
}

export function createTag(env: HandlerEnv, req: ApiRequest): ApiResult {
  if (!userOf(req).admin) throw forbidden();
  const errors = checkTagForm(env, req.body, null);
  if (Object.keys(errors).length > 0) throw validationErrors(errors);
  const tag: SimTag = {
    name: req.body.get("name") ?? "",
    comment: req.body.get("comment") ?? "",
    definition: req.body.get("definition") ?? "",
    kernelOpts: req.body.get("kernel_opts") ?? "",
  };
  env.store.state.tags.push(tag);
  env.store.changed();
  return { json: tagJson(tag) };
}

export function updateTag(env: HandlerEnv, req: ApiRequest): ApiResult {
  const tag = tagOr404(env, req, true);
  const errors = checkTagForm(env, req.body, tag);
  if (Object.keys(errors).length > 0) throw validationErrors(errors);
  const oldName = tag.name;
  const body = req.body;
  tag.name = body.get("name") ?? tag.name;
  tag.comment = body.get("comment") ?? tag.comment;
  tag.definition = body.get("definition") ?? tag.definition;
  tag.kernelOpts = body.get("kernel_opts") ?? tag.kernelOpts;
  if (tag.name !== oldName) {
    for (const m of env.store.state.machines) m.tags = m.tags.map((t) => (t === oldName ? tag.name : t));
  }
  env.store.changed();
  return { json: tagJson(tag) };
}

export function deleteTag(env: HandlerEnv, req: ApiRequest): ApiResult {
  const tag = tagOr404(env, req, true);
  env.store.state.tags = env.store.state.tags.filter((t) => t !== tag);
  for (const m of env.store.state.machines) m.tags = m.tags.filter((t) => t !== tag.name);
  env.store.changed();
  return deleted();
}

/** GET tags/{name}/?op=machines (and op=nodes): tagged machines the user may view, by id. */
export function tagMachines(env: HandlerEnv, req: ApiRequest): ApiResult {
  const tag = tagOr404(env, req, false);
  const user = userOf(req);
  const list = env.store.state.machines.filter((m) => m.tags.includes(tag.name) && hasNodePermission(user, m, "view"));
  return { json: list.map((m) => machineJson(env.store, env.features, m)) };
}

/**
 * POST tags/{name}/?op=update_nodes (admin): add/remove system_ids (repeatable).
 * A definition that differs from the tag's → 409. Counts are of matching nodes.
 */
export function updateTagNodes(env: HandlerEnv, req: ApiRequest): ApiResult {
  if (!userOf(req).admin) throw forbidden();
  const tag = tagOr404(env, req, false);
  const definition = req.body.get("definition");
  if (definition !== undefined && definition !== tag.definition) {
    throw conflict(`Definition supplied '${definition}' doesn't match current definition '${tag.definition}'`);
  }
  const machinesFor = (param: string): typeof env.store.state.machines => {
    const ids = new Set(req.body.getAll(param));
    return env.store.state.machines.filter((m) => ids.has(m.systemId));
  };
  const toAdd = machinesFor("add");
  const toRemove = machinesFor("remove");
  for (const m of toAdd) if (!m.tags.includes(tag.name)) m.tags.push(tag.name);
  for (const m of toRemove) m.tags = m.tags.filter((t) => t !== tag.name);
  env.store.changed();
  return { json: { added: toAdd.length, removed: toRemove.length } };
}
