// The simulator's own HTTP API under /_sim/ (not MAAS): inspect state and the
// request log, set faults, tune machines, add machines. JSON in, JSON out;
// errors are 400/404 {"error": "..."} naming what to fix. No authentication:
// bind the simulator to loopback.
import type { IncomingMessage, ServerResponse } from "node:http";
import { FaultRuleError, type FaultInjector } from "./faults.ts";
import { addMachines } from "./inventory.ts";
import { InventoryError, validateInventory } from "./inventory-schema.ts";
import type { Prng } from "./prng.ts";
import type { BootState } from "./boot/boot.ts";
import type { RequestLog } from "./request-log.ts";
import type { Store } from "./store.ts";
import type { FaultRule, InventoryMachine } from "./types.ts";

export const ADMIN_ROOT = "/_sim";

export interface AdminDeps {
  store: Store;
  faults: FaultInjector;
  log: RequestLog;
  /** Seeds generated machines (system IDs, hostnames). */
  machinesPrng: Prng;
  /** Resolves once every change so far is durable (the state file). */
  commit(): Promise<void>;
  /** The boot stage's view of booted machines; absent when booting is off. */
  boot?: () => BootState;
}

class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const ENDPOINTS = [
  "GET    /_sim/state               full simulator state",
  "GET    /_sim/requests            MAAS API request log",
  "DELETE /_sim/requests            clear the request log",
  "GET    /_sim/boot                booted machines (phase, role, Node name, pids) and their clusters",
  "GET    /_sim/faults              fault rules, seed and how often each fired",
  "PUT    /_sim/faults              {\"rules\": [FaultRule...], \"seed\"?: n}",
  "DELETE /_sim/faults              remove all fault rules",
  "POST   /_sim/machines            {\"count\"?: n, \"machines\"?: [InventoryMachine...]}",
  "PATCH  /_sim/machines/{id}       {\"deploySeconds\"?, \"releaseSeconds\"?, \"failDeployment\"?, \"locked\"?}",
];

export async function handleAdmin(deps: AdminDeps, req: IncomingMessage, res: ServerResponse, rawBody: Buffer): Promise<void> {
  const method = (req.method ?? "GET").toUpperCase();
  const path = new URL(req.url ?? "/", "http://simulator").pathname.slice(ADMIN_ROOT.length).replace(/\/+$/, "");
  let answer: { status: number; json?: unknown };
  try {
    answer = route(deps, method, path, rawBody);
  } catch (error) {
    if (error instanceof AdminError) answer = { status: error.status, json: { error: error.message } };
    else if (error instanceof FaultRuleError || error instanceof InventoryError) answer = { status: 400, json: { error: error.message } };
    else throw error;
  }
  // Like the MAAS API: added machines and knobs are on disk before the answer says so.
  await deps.commit();
  if (answer.status === 204) {
    res.writeHead(204).end();
    return;
  }
  reply(res, answer.status, answer.json);
}

function route(deps: AdminDeps, method: string, path: string, rawBody: Buffer): { status: number; json?: unknown } {
  const { store, faults, log } = deps;
  if (path === "" && method === "GET") return { status: 200, json: { endpoints: ENDPOINTS } };
  if (path === "/state" && method === "GET") return { status: 200, json: store.snapshot() };
  if (path === "/requests" && method === "GET") return { status: 200, json: log.list() };
  if (path === "/boot" && method === "GET") {
    if (deps.boot === undefined) throw new AdminError(404, "booting machines is off; start the simulator with --boot-binaries DIR");
    return { status: 200, json: deps.boot() };
  }
  if (path === "/requests" && method === "DELETE") {
    log.clear();
    return { status: 204 };
  }
  if (path === "/faults" && method === "GET") return { status: 200, json: faults.status() };
  if (path === "/faults" && method === "PUT") {
    const body = jsonBody(rawBody);
    if (!Array.isArray(body.rules)) throw new AdminError(400, 'PUT /_sim/faults needs {"rules": [...]} (an empty list clears them)');
    if (body.seed !== undefined && (typeof body.seed !== "number" || !Number.isInteger(body.seed))) throw new AdminError(400, "seed must be a whole number");
    faults.set(body.rules as FaultRule[], body.seed as number | undefined);
    return { status: 200, json: faults.status() };
  }
  if (path === "/faults" && method === "DELETE") {
    faults.clear();
    return { status: 204 };
  }
  if (path === "/machines" && method === "POST") {
    const body = jsonBody(rawBody);
    const count = body.count ?? 0;
    if (typeof count !== "number" || !Number.isInteger(count) || count < 0) throw new AdminError(400, "count must be a whole number ≥ 0");
    const listed = validateInventory({ machines: body.machines ?? [] }, "POST /_sim/machines").machines ?? [];
    const specs: InventoryMachine[] = [...listed, ...Array.from({ length: count }, () => ({}))];
    if (specs.length === 0) throw new AdminError(400, 'send {"count": n} or {"machines": [...]}');
    return { status: 201, json: { machines: addMachines(store, specs, deps.machinesPrng) } };
  }
  const knob = /^\/machines\/([^/]+)$/.exec(path);
  if (knob !== null && method === "PATCH") {
    const m = store.machine(decodeURIComponent(knob[1] ?? ""));
    if (m === undefined) throw new AdminError(404, `no machine with system_id ${knob[1] ?? ""}`);
    const body = jsonBody(rawBody);
    for (const key of Object.keys(body)) {
      const value = body[key];
      if (key === "deploySeconds" || key === "releaseSeconds") {
        if (value !== null && (typeof value !== "number" || value < 0)) throw new AdminError(400, `${key} must be a number ≥ 0, or null for the global value`);
        m[key] = value as number | null;
      } else if (key === "failDeployment" || key === "locked") {
        if (typeof value !== "boolean") throw new AdminError(400, `${key} must be true or false`);
        m[key] = value;
      } else {
        throw new AdminError(400, `unknown field ${key}; use deploySeconds, releaseSeconds, failDeployment or locked`);
      }
    }
    store.changed();
    return { status: 200, json: m };
  }
  throw new AdminError(404, `no admin endpoint ${method} ${ADMIN_ROOT}${path}; GET ${ADMIN_ROOT}/ lists them`);
}

function jsonBody(raw: Buffer): Record<string, unknown> {
  if (raw.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString("utf8"));
  } catch (error) {
    throw new AdminError(400, `the body is not JSON (${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new AdminError(400, "the body must be a JSON object");
  return parsed as Record<string, unknown>;
}

function reply(res: ServerResponse, status: number, json: unknown): void {
  const payload = Buffer.from(JSON.stringify(json, null, 2));
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": payload.length });
  res.end(payload);
}
