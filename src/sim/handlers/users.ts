// /users/ (admin list), /users/?op=whoami, /users/{username}/.
// MAAS: maas@3.7.0 api/users.py, fields username, email, is_local, is_superuser.
import { API_ROOT } from "../machine-json.ts";
import { forbidden, notFound } from "../http/errors.ts";
import type { SimUser } from "../types.ts";
import { userOf, type ApiRequest, type ApiResult, type HandlerEnv } from "./context.ts";

function userJson(u: SimUser): Record<string, unknown> {
  return { is_superuser: u.admin, username: u.username, email: u.email, is_local: true, resource_uri: `${API_ROOT}/users/${u.username}/` };
}

export function readUsers(env: HandlerEnv, req: ApiRequest): ApiResult {
  const me = userOf(req);
  // Non-admins see only themselves (UserHandler read filters by permission).
  return { json: env.store.state.users.filter((u) => me.admin || u.username === me.username).map(userJson) };
}

export function whoami(_env: HandlerEnv, req: ApiRequest): ApiResult {
  return { json: userJson(userOf(req)) };
}

export function readUser(env: HandlerEnv, req: ApiRequest): ApiResult {
  const me = userOf(req);
  const u = env.store.user(req.args.username ?? "");
  if (u === undefined) throw notFound("User");
  if (!me.admin && u.username !== me.username) throw forbidden();
  return { json: userJson(u) };
}
