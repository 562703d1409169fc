// What every API operation receives, and the permission rules they share.
import type { Clock } from "../../clock/index.ts";
import type { FormParams } from "../http/form-params.ts";
import { forbidden, notFound } from "../http/errors.ts";
import type { Lifecycle } from "../lifecycle.ts";
import type { MaasVersion, VersionFeatures } from "../maas-version.ts";
import type { Store } from "../store.ts";
import type { SimMachine, SimUser } from "../types.ts";

export interface ApiRequest {
  method: string;
  /** e.g. /MAAS/api/2.0/machines/abc123/ */
  fullPath: string;
  /** Host header, for absolute URIs (describe/). */
  host: string;
  query: FormParams;
  /** Form body (Django's request.POST / piston's request.data for POST and PUT). */
  body: FormParams;
  op: string | null;
  /** The authenticated user; null only for anonymous resources. */
  user: SimUser | null;
  /** Path parameters, e.g. { system_id: "abc123" }. */
  args: Record<string, string>;
}

export interface ApiResult {
  status?: number;
  /** Rendered as JSON (application/json; charset=utf-8), unless text is set. */
  json?: unknown;
  text?: string;
  contentType?: string;
}

export interface HandlerEnv {
  store: Store;
  clock: Clock;
  version: MaasVersion;
  features: VersionFeatures;
  lifecycle: Lifecycle;
}

export type Operation = (env: HandlerEnv, req: ApiRequest) => ApiResult;

export function userOf(req: ApiRequest): SimUser {
  if (req.user === null) throw new Error("operation reached without a user");
  return req.user;
}

/** 204 with an empty, non-JSON body (piston rc.DELETED); python-libmaas cannot parse a JSON 204. */
export function deleted(): ApiResult {
  return { status: 204, text: "", contentType: "text/plain" };
}

export type NodePermission = "view" | "edit" | "admin";

/**
 * MAAS's node permissions (MAASAuthorizationBackend as used by
 * NodeManager.get_node_or_404): admins may do anything; others may view and
 * edit machines that are unowned or their own; admin-only actions need an admin.
 */
export function hasNodePermission(user: SimUser, m: SimMachine, perm: NodePermission): boolean {
  if (user.admin) return true;
  if (perm === "admin") return false;
  return m.owner === null || m.owner === user.username;
}

/**
 * get_node_or_404 (maas@3.7.0 models/node.py): unknown id → 404 "No Machine matches
 * the given query."; a locked machine asked for edit, or no permission → 403 (empty).
 */
export function machineOr404(env: HandlerEnv, req: ApiRequest, perm: NodePermission): SimMachine {
  const systemId = req.args.system_id ?? "";
  const m = env.store.machine(systemId);
  if (m === undefined) throw notFound("Machine");
  if (m.locked && perm === "edit") throw forbidden();
  if (!hasNodePermission(userOf(req), m, perm)) throw forbidden();
  return m;
}
