// GET /version/ (anonymous). MAAS: src/maasserver/api/version.py, unchanged 3.0–3.7:
// a fixed capability list, the configured version, and an always-empty subversion.
// Rendered with json.dumps, hence Python's separators.
import { pyJsonDumps } from "../python-format.ts";
import type { ApiResult, HandlerEnv } from "./context.ts";

export const API_CAPABILITIES = [
  "networks-management",
  "static-ipaddresses",
  "ipv6-deployment-ubuntu",
  "devices-management",
  "storage-deployment-ubuntu",
  "network-deployment-ubuntu",
  "bridging-interface-ubuntu",
  "bridging-automatic-ubuntu",
  "authenticate-api",
];

export function readVersion(env: HandlerEnv): ApiResult {
  const body = { capabilities: API_CAPABILITIES, version: env.version.text, subversion: "" };
  return { text: pyJsonDumps(body), contentType: "application/json; charset=utf-8" };
}
