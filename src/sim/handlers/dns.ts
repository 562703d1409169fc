// /domains/, /domains/{id}/, /dnsresources/, /dnsresources/{id}/.
// MAAS: maas@3.7.0 api/domains.py, api/dnsresources.py (get_dnsresource_queryset,
// DNSResourcesQuerySet for all=true), forms/dnsresource.py, models/dnsresource.py
// (separate_fqdn), api/ip_addresses.py (IP fields).
import { forbidden, notFound, validationErrors, type FieldErrors } from "../http/errors.ts";
import type { FormParams } from "../http/form-params.ts";
import { optionalStringBool } from "../http/validators.ts";
import { ADMIN_USERNAME } from "../inventory.ts";
import { API_ROOT, domainJson, subnetJson } from "../machine-json.ts";
import type { SimDnsResource, SimDomain } from "../types.ts";
import { deleted, userOf, type ApiRequest, type ApiResult, type HandlerEnv } from "./context.ts";

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
 * GET dnsresources/ (maas@3.7.0 src/maasserver/api/dnsresources.py, DNSResourcesHandler.read
 * and get_dnsresource_queryset; unchanged since 3.0.0): fqdn is split into name + domain
 * (separate_fqdn); an unknown domain → 404; rrtype keeps only stored records holding DNS
 * data of that type (address-only records have none). Without all=true only stored
 * records are listed. With all=true the DNSResourcesQuerySet iterator also yields each
 * domain's implicit records (id -1): a domain that has stored records in the answer gets
 * its implicit records just before its first stored one; domains with none follow after
 * all stored records (MAAS iterates a set there; the simulator goes in domain id order).
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
  const stored = env.store.state.dnsResources
    .filter((r) => domains.some((d) => d.id === r.domainId) && (name === undefined || r.name === name) && rrtype === undefined)
    .sort((a, b) => a.domainId - b.domainId || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (!all) return { json: stored.map((r) => resourceJson(env, r)) };
  const out: unknown[] = [];
  const unvisited = [...domains].sort((a, b) => a.id - b.id);
  let current: number | undefined;
  for (const r of stored) {
    if (r.domainId !== current) {
      current = r.domainId;
      const at = unvisited.findIndex((d) => d.id === r.domainId);
      const [domain] = unvisited.splice(at, 1);
      if (domain !== undefined) out.push(...implicitRecords(env, req, domain, name, rrtype));
    }
    out.push(resourceJson(env, r));
  }
  for (const domain of unvisited) out.push(...implicitRecords(env, req, domain, name, rrtype));
  return { json: out };
}

interface ImplicitEntry {
  systemId: string | null;
  nodeType: number | null;
  userId: number | null;
  dnsresourceId: number | null;
  /** Raw: the record's address_ttl, overwritten by the node's (always null here). */
  ttl: number | null;
  ips: string[];
}

/**
 * A domain's implicit records, as DNSResourcesQuerySet._generate_synthetic_rrdata builds
 * them from Domain.render_json_for_related_rrdata(include_dnsdata=False) (maas@3.4.0
 * src/maasserver/models/domain.py; maas@3.7.0 src/maasservicelayer/services/domains.py)
 * over StaticIPAddress.get_hostname_ip_mapping (maas@3.4.0
 * src/maasserver/models/staticipaddress.py):
 * - every address of a stored record (_get_special_mappings), user_id = the user who
 *   reserved it (the admin who created the record), dnsresource_id = the record;
 * - every node in the domain with addresses, user_id = its owner, system_id, node_type 0;
 *   the same name in both merges into one entry.
 * A non-admin does not see entries whose user_id is another user's. The name is the
 * first label; ip_addresses is null (DNSResourceHandler.ip_addresses) and the addresses
 * are A/AAAA items in resource_records with raw TTLs (null unless set).
 */
function implicitRecords(env: HandlerEnv, req: ApiRequest, domain: SimDomain, name: string | undefined, rrtype: string | undefined): unknown[] {
  const user = userOf(req);
  const userId = (username: string | null): number | null => {
    // The simulator's users carry no id; MAAS's auth_user ids count from 1 in creation
    // order, and the built-in admin comes first, so position + 1 stands in for it.
    const index = username === null ? -1 : env.store.state.users.findIndex((u) => u.username === username);
    return index < 0 ? null : index + 1;
  };
  const entries = new Map<string, ImplicitEntry>();
  const entryFor = (label: string): ImplicitEntry => {
    let entry = entries.get(label);
    if (entry === undefined) {
      entry = { systemId: null, nodeType: null, userId: null, dnsresourceId: null, ttl: null, ips: [] };
      entries.set(label, entry);
    }
    return entry;
  };
  for (const r of env.store.state.dnsResources) {
    if (r.domainId !== domain.id || r.ipAddresses.length === 0) continue;
    const entry = entryFor(r.name);
    entry.dnsresourceId = r.id;
    entry.ttl = r.addressTtl;
    entry.userId = userId(ADMIN_USERNAME);
    entry.ips.push(...r.ipAddresses.filter((ip) => !entry.ips.includes(ip)));
  }
  // Special mappings come first; node rows follow ordered by fqdn (the SQL's ORDER BY).
  const machines = env.store.state.machines
    .filter((m) => m.domainId === domain.id && m.ipAddresses.length > 0)
    .sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0));
  for (const m of machines) {
    const entry = entryFor(m.hostname);
    entry.systemId = m.systemId;
    entry.nodeType = 0;
    entry.ttl = null;
    entry.userId = userId(m.owner) ?? entry.userId;
    entry.ips.push(...m.ipAddresses.filter((ip) => !entry.ips.includes(ip)));
  }
  const me = userId(user.username);
  const out: unknown[] = [];
  for (const [label, entry] of entries) {
    if (!user.admin && entry.userId !== null && entry.userId !== me) continue;
    // MAAS keeps the first label only (a simplification here: "@" stays the domain itself).
    const short = label.split(".")[0] ?? label;
    if (name !== undefined && short !== name) continue;
    const records = entry.ips
      .map((ip) => ({
        system_id: entry.systemId,
        node_type: entry.nodeType,
        user_id: entry.userId,
        dnsresource_id: entry.dnsresourceId,
        ttl: entry.ttl,
        rrtype: ip.includes(":") ? "AAAA" : "A",
        rrdata: ip,
        dnsdata_id: null,
      }))
      .filter((rr) => rrtype === undefined || rr.rrtype === rrtype);
    if (records.length === 0) continue;
    out.push({
      id: -1,
      fqdn: short === "@" ? domain.name : `${short}.${domain.name}`,
      address_ttl: null,
      ip_addresses: null,
      resource_records: records,
      resource_uri: `${API_ROOT}/dnsresources/-1/`,
    });
  }
  return out;
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
