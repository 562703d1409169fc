// /zones/, /zones/{name}/, /resourcepools/ and /resourcepool/{id}/ (singular, as
// in MAAS). MAAS: maas@3.7.0 api/zones.py, api/resourcepools.py, models/zone.py,
// models/resourcepool.py; names follow MODEL_NAME_VALIDATOR ^\w[ \w-]*$.
import { badRequest, forbidden, notFound, validationErrors } from "../http/errors.ts";
import { poolJson, zoneJson } from "../machine-json.ts";
import type { SimZone } from "../types.ts";
import { deleted, userOf, type ApiRequest, type ApiResult, type HandlerEnv } from "./context.ts";

// Python's re matches \w against any Unicode letter, digit or underscore in a str
// pattern, so MAAS takes "zöne a"; JavaScript's \w is ASCII only, hence the classes.
const MODEL_NAME = /^[\p{L}\p{N}_][ \p{L}\p{N}_-]*$/u;

type Kind = "zone" | "pool";

function listOf(env: HandlerEnv, kind: Kind): SimZone[] {
  return kind === "zone" ? env.store.state.zones : env.store.state.pools;
}

function requireAdmin(req: ApiRequest): void {
  if (!userOf(req).admin) throw forbidden("This method is reserved for admin users.");
}

function render(kind: Kind, item: SimZone): Record<string, unknown> {
  return kind === "zone" ? zoneJson(item) : poolJson(item);
}

function find(env: HandlerEnv, kind: Kind, req: ApiRequest): SimZone {
  const item =
    kind === "zone"
      ? env.store.zoneByName(req.args.name ?? "")
      : env.store.poolById(Number(req.args.id)) ?? env.store.poolByName(req.args.id ?? "");
  if (item === undefined) throw notFound(kind === "zone" ? "Zone" : "ResourcePool");
  return item;
}

function checkName(env: HandlerEnv, kind: Kind, name: string | undefined, current: SimZone | null): void {
  if (current !== null && name === undefined) return;
  let problem: string | null = null;
  if (name === undefined || name === "") problem = "This field is required.";
  else if (!MODEL_NAME.test(name)) problem = "Enter a valid value.";
  else if (listOf(env, kind).some((x) => x.name === name && x !== current)) {
    problem = `${kind === "zone" ? "Zone" : "Resource pool"} with this Name already exists.`;
  }
  if (problem !== null) throw validationErrors({ name: [problem] });
}

export const zonesApi = makeApi("zone");
export const poolsApi = makeApi("pool");

function makeApi(kind: Kind) {
  return {
    list(env: HandlerEnv): ApiResult {
      return { json: listOf(env, kind).map((x) => render(kind, x)) };
    },
    read(env: HandlerEnv, req: ApiRequest): ApiResult {
      return { json: render(kind, find(env, kind, req)) };
    },
    create(env: HandlerEnv, req: ApiRequest): ApiResult {
      requireAdmin(req);
      const name = req.body.get("name");
      checkName(env, kind, name, null);
      const item = { id: env.store.nextId(kind, kind === "pool" ? 0 : 1), name: name ?? "", description: req.body.get("description") ?? "" };
      listOf(env, kind).push(item);
      env.store.changed();
      return { json: render(kind, item) };
    },
    update(env: HandlerEnv, req: ApiRequest): ApiResult {
      requireAdmin(req);
      const item = find(env, kind, req);
      const name = req.body.get("name");
      checkName(env, kind, name, item);
      item.name = name ?? item.name;
      item.description = req.body.get("description") ?? item.description;
      env.store.changed();
      return { json: render(kind, item) };
    },
    delete(env: HandlerEnv, req: ApiRequest): ApiResult {
      requireAdmin(req);
      const item = find(env, kind, req);
      if (item.name === "default") {
        throw badRequest(kind === "zone" ? "This zone is the default zone, it cannot be deleted." : "This is the default pool, it cannot be deleted.");
      }
      const machines = env.store.state.machines;
      if (kind === "pool" && machines.some((m) => m.poolId === item.id)) throw badRequest("Pool has machines in it, it cannot be deleted.");
      if (kind === "zone") {
        // Zone.delete moves its nodes to the default zone.
        const fallback = env.store.zoneByName("default");
        for (const m of machines) if (m.zoneId === item.id && fallback !== undefined) m.zoneId = fallback.id;
        env.store.state.zones = env.store.state.zones.filter((z) => z !== item);
      } else {
        env.store.state.pools = env.store.state.pools.filter((p) => p !== item);
      }
      env.store.changed();
      return deleted();
    },
  };
}
