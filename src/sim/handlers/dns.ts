// /domains/, /domains/{id}/, /dnsresources/, /dnsresources/{id}/.
// MAAS: maas@3.7.0 api/domains.py, api/dnsresources.py (get_dnsresource_queryset,
// DNSResourcesQuerySet for all=true), forms/dnsresource.py, models/dnsresource.py
// (separate_fqdn), api/ip_addresses.py (IP fields).
import { forbidden, notFound, validationErrors, type FieldErrors } from "../http/errors.ts";
import type { FormParams } from "../http/form-params.ts";
import { optionalStringBool } from "../http/validators.ts";
import { API_ROOT, domainJson, subnetJson } from "../machine-json.ts";
import type { SimDnsResource, SimDomain } from "../types.ts";
import { deleted, hasNodePermission, userOf, type ApiRequest, type ApiResult, type HandlerEnv } from "./context.ts";

const LABEL = /^[a-zA-Z0-9]([-a-zA-Z0-9]{0,62}[a-zA-Z0-9])?$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

function requireAdmin(req: ApiRequest): void {
  if (!userOf(req).admin) throw forbidden("This method is reserved for admin users.");
}

export function readDomains(env: HandlerEnv): ApiResult {
  return { json: env.store.state.domains.map((d) => domainJson(env.store, d.id)) };
}

function domainOr404(env: HandlerEnv, spec: string): SimDomain {
  // get_domain_or_404 takes an id or "name:<name>".
  const d = /^\d+$/.test(spec) ? env.store.domainById(Number(spec)) : env.store.domainByName(spec.replace(/^name:/, ""));
  if (d === undefined) throw notFound("Domain");
  return d;
}

export function readDomain(env: HandlerEnv, req: ApiRequest): ApiResult {
  return { json: domainJson(env.store, domainOr404(env, req.args.id ?? "").id) };
}

export function createDomain(env: HandlerEnv, req: ApiRequest): ApiResult {
  requireAdmin(req);
  const name = req.body.get("name") ?? "";
  if (name === "") throw validationErrors({ name: ["This field is required."] });
  if (env.store.domainByName(name) !== undefined) throw validationErrors({ name: ["Domain with this Name already exists."] });
  const ttlText = req.body.get("ttl");
  const domain: SimDomain = {
    id: env.store.nextId("domain", 0),
    name,
    ttl: ttlText === undefined || ttlText === "" ? null : Number(ttlText),
    authoritative: optionalStringBool(req.body, "authoritative", true),
    isDefault: false,
  };
  env.store.state.domains.push(domain);
  env.store.changed();
  return { json: domainJson(env.store, domain.id) };
}

function ipJson(env: HandlerEnv, ip: string, owner: string | null, created: string): Record<string, unknown> {
  const user = owner === null ? undefined : env.store.user(owner);
  return {
    alloc_type: 4,
    alloc_type_name: "User reserved",
    created,
    ip,
    owner: user === undefined ? null : { is_superuser: user.admin, username: user.username, email: user.email, is_local: true, resource_uri: `${API_ROOT}/users/${user.username}/` },
    interface_set: [],
    subnet: subnetJson(env.store),
  };
}

function resourceJson(env: HandlerEnv, r: SimDnsResource): Record<string, unknown> {
  const domain = env.store.domainById(r.domainId);
  return {
    id: r.id,
    fqdn: r.name === "@" ? (domain?.name ?? "") : `${r.name}.${domain?.name ?? ""}`,
    address_ttl: r.addressTtl,
    ip_addresses: r.ipAddresses.map((ip) => ipJson(env, ip, "admin", r.created)),
    resource_records: [],
    resource_uri: `${API_ROOT}/dnsresources/${r.id}/`,
  };
}

/** separate_fqdn(fqdn, "A"): an existing domain name is "@" in itself; else first label + rest. */
function separateFqdn(env: HandlerEnv, fqdn: string): [string, string | undefined] {
  if (env.store.domainByName(fqdn) !== undefined) return ["@", fqdn];
  const dot = fqdn.indexOf(".");
  return dot < 0 ? [fqdn, undefined] : [fqdn.slice(0, dot), fqdn.slice(dot + 1)];
}

/**
 * GET dnsresources/: fqdn is split into name + domain; an unknown domain → 404;
 * rrtype filters resource records (address-only resources have none); all=true
 * adds each domain's implicit machine records first, with id -1.
 */
export function readDnsResources(env: HandlerEnv, req: ApiRequest): ApiResult {
  const q = req.query;
  let name = q.get("name");
  let domainName = q.get("domain");
  const rrtype = q.get("rrtype")?.toUpperCase();
  const all = optionalStringBool(q, "all", false);
  const fqdn = q.get("fqdn");
  if (domainName === undefined && name === undefined && fqdn !== undefined) [name, domainName] = separateFqdn(env, fqdn);
  const domains = domainName === undefined ? env.store.state.domains : [domainOr404(env, domainName)];
  const out: unknown[] = [];
  for (const domain of [...domains].sort((a, b) => a.id - b.id)) {
    if (all) out.push(...syntheticRecords(env, req, domain, name, rrtype));
    const records = env.store.state.dnsResources
      .filter((r) => r.domainId === domain.id && (name === undefined || r.name === name) && rrtype === undefined)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    out.push(...records.map((r) => resourceJson(env, r)));
  }
  return { json: out };
}

function syntheticRecords(env: HandlerEnv, req: ApiRequest, domain: SimDomain, name: string | undefined, rrtype: string | undefined): unknown[] {
  if (rrtype !== undefined && rrtype !== "A") return [];
  const user = userOf(req);
  return env.store.state.machines
    .filter((m) => m.domainId === domain.id && m.ipAddresses.length > 0 && (name === undefined || m.hostname === name) && hasNodePermission(user, m, "view"))
    .map((m) => ({
      id: -1,
      fqdn: `${m.hostname}.${domain.name}`,
      address_ttl: null,
      ip_addresses: null,
      resource_records: m.ipAddresses.map((ip) => ({ system_id: m.systemId, node_type: 0, user_id: null, dnsresource_id: null, ttl: null, rrtype: "A", rrdata: ip, dnsdata_id: null })),
      resource_uri: `${API_ROOT}/dnsresources/-1/`,
    }));
}

function resourceOr404(env: HandlerEnv, req: ApiRequest): SimDnsResource {
  const r = env.store.state.dnsResources.find((x) => String(x.id) === req.args.id);
  if (r === undefined) throw notFound("DNSResource");
  return r;
}

export function readDnsResource(env: HandlerEnv, req: ApiRequest): ApiResult {
  return { json: resourceJson(env, resourceOr404(env, req)) };
}

/** DNSResourceForm for create (admin) and update: fqdn or name+domain, address_ttl, ip_addresses. */
function applyForm(env: HandlerEnv, body: FormParams, current: SimDnsResource | null): SimDnsResource {
  let name = body.get("name");
  let domainName = body.get("domain");
  const fqdn = body.get("fqdn");
  if (domainName === undefined && name === undefined && fqdn !== undefined) [name, domainName] = separateFqdn(env, fqdn);
  const domain = domainName === undefined ? undefined : domainOr404(env, domainName);
  const errors: FieldErrors = {};
  const finalName = name ?? current?.name;
  const finalDomain = domain?.id ?? current?.domainId;
  if (finalName === undefined || finalName === "") errors.name = ["This field is required."];
  else if (finalName !== "@" && !LABEL.test(finalName)) errors.name = [`Invalid dnsresource name: ${finalName}.`];
  if (finalDomain === undefined) errors.domain = ["This field is required."];
  const ttlText = body.get("address_ttl");
  let ttl = current?.addressTtl ?? null;
  if (ttlText !== undefined) {
    if (ttlText === "") ttl = null;
    else if (!/^\d+$/.test(ttlText.trim())) errors.address_ttl = ["Enter a whole number."];
    else ttl = Number(ttlText);
  }
  const ipsText = body.get("ip_addresses");
  const ips = ipsText === undefined ? (current?.ipAddresses ?? []) : ipsText.split(/\s+/).filter((s) => s !== "");
  const bad = ips.find((ip) => !IPV4.test(ip) && !ip.includes(":"));
  if (bad !== undefined) errors.ip_addresses = [`'${bad}' is not a valid IP address.`];
  if (Object.keys(errors).length === 0 && env.store.state.dnsResources.some((r) => r !== current && r.name === finalName && r.domainId === finalDomain)) {
    errors.__all__ = ["Dnsresource with this Name and Domain already exists."];
  }
  if (Object.keys(errors).length > 0) throw validationErrors(errors);
  // DjangoJSONEncoder's datetime format: ISO 8601 with milliseconds, no zone.
  const created = new Date(env.clock.now()).toISOString().replace("Z", "");
  const record = current ?? { id: env.store.nextId("dnsResource"), name: "", domainId: 0, addressTtl: null, ipAddresses: [], created };
  record.name = finalName as string;
  record.domainId = finalDomain as number;
  record.addressTtl = ttl;
  record.ipAddresses = [...new Set(ips)];
  return record;
}

export function createDnsResource(env: HandlerEnv, req: ApiRequest): ApiResult {
  requireAdmin(req);
  const record = applyForm(env, req.body, null);
  env.store.state.dnsResources.push(record);
  env.store.changed();
  return { json: resourceJson(env, record) };
}

export function updateDnsResource(env: HandlerEnv, req: ApiRequest): ApiResult {
  const current = resourceOr404(env, req);
  if (!userOf(req).admin) throw forbidden();
  applyForm(env, req.body, current);
  env.store.changed();
  return { json: resourceJson(env, current) };
}

export function deleteDnsResource(env: HandlerEnv, req: ApiRequest): ApiResult {
  const current = resourceOr404(env, req);
  if (!userOf(req).admin) throw forbidden();
  env.store.state.dnsResources = env.store.state.dnsResources.filter((r) => r !== current);
  env.store.changed();
  return deleted();
}
