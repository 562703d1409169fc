// DNS resources: the A records for a cluster's control-plane endpoint. Create, update
// and delete are admin only. MAAS takes `ip_addresses` as one space-separated string
// and answers with a list of IP address objects ({ip, ...}); both shapes of item are
// read here, and `dnsResourceAddresses` gives the plain IPs. With `all=true` MAAS also
// lists implicit records it derives from node and record addresses (id -1); those
// carry `ip_addresses: null` and their addresses in `resource_records` (maas@3.7.0
// src/maasserver/api/dnsresources.py, DNSResourceHandler.ip_addresses).
import { Type } from "@sinclair/typebox";
import { callFields, type CallOptions, type MaasRequester } from "./http.ts";
import { resourcePath } from "./form.ts";
import { Nullable, openObject, type MaasObject } from "./validate.ts";
import { requestList, requestObject } from "./typed-request.ts";

const DnsResourceAddressSchema = Type.Union([Type.String(), openObject({ ip: Type.String() })]);

const DnsResourceSchema = openObject({
  id: Type.Integer(),
  fqdn: Type.String(),
  /** Seconds; null means the domain's TTL. */
  address_ttl: Type.Optional(Nullable(Type.Integer())),
  /** Null on the implicit records (id -1) MAAS lists with `all=true`: read as "no addresses". */
  ip_addresses: Nullable(Type.Array(DnsResourceAddressSchema)),
});

export type DnsResource = MaasObject<typeof DnsResourceSchema>;

export interface DnsResourceFilters {
  /** `name.domain`; MAAS answers an empty list when there is no record, 404 when the domain is unknown. */
  fqdn?: string;
  /**
   * Also list MAAS's implicit records (id -1): one per node name and per record name that
   * holds addresses in the domain, with `ip_addresses` null. Sent as `all=true` only when set.
   */
  all?: boolean;
}

export interface CreateDnsResourceParams {
  fqdn: string;
  ipAddresses: readonly string[];
  addressTtlSeconds?: number;
}

export interface UpdateDnsResourceParams {
  fqdn?: string;
  ipAddresses?: readonly string[];
  addressTtlSeconds?: number;
}

export interface DnsResourcesService {
  list(filters?: DnsResourceFilters, call?: CallOptions): Promise<DnsResource[]>;
  get(id: number, call?: CallOptions): Promise<DnsResource>;
  create(params: CreateDnsResourceParams, call?: CallOptions): Promise<DnsResource>;
  update(id: number, params: UpdateDnsResourceParams, call?: CallOptions): Promise<DnsResource>;
  /** Succeeds on MAAS's 204 with an empty body. */
  delete(id: number, call?: CallOptions): Promise<void>;
}

export class MaasDnsResourcesService implements DnsResourcesService {
  readonly #http: MaasRequester;

  constructor(http: MaasRequester) {
    this.#http = http;
  }

  async list(filters: DnsResourceFilters = {}, call?: CallOptions): Promise<DnsResource[]> {
    return requestList(this.#http, DnsResourceSchema, {
      method: "GET",
      path: "dnsresources/",
      query: { fqdn: filters.fqdn, all: filters.all === true ? "true" : undefined },
      ...callFields(call),
    });
  }

  async get(id: number, call?: CallOptions): Promise<DnsResource> {
    return requestObject(this.#http, DnsResourceSchema, { method: "GET", ...dnsResourcePath(id), ...callFields(call) });
  }

  async create(params: CreateDnsResourceParams, call?: CallOptions): Promise<DnsResource> {
    return requestObject(this.#http, DnsResourceSchema, {
      method: "POST",
      path: "dnsresources/",
      ...callFields(call),
      form: {
        fqdn: params.fqdn,
        ip_addresses: params.ipAddresses.join(" "),
        address_ttl: params.addressTtlSeconds,
      },
    });
  }

  async update(id: number, params: UpdateDnsResourceParams, call?: CallOptions): Promise<DnsResource> {
    return requestObject(this.#http, DnsResourceSchema, {
      method: "PUT",
      ...dnsResourcePath(id),
      ...callFields(call),
      form: {
        fqdn: params.fqdn,
        ip_addresses: params.ipAddresses?.join(" "),
        address_ttl: params.addressTtlSeconds,
      },
    });
  }

  async delete(id: number, call?: CallOptions): Promise<void> {
    await this.#http.request({ method: "DELETE", ...dnsResourcePath(id), ...callFields(call) });
  }
}

function dnsResourcePath(id: number): { path: string; route: string } {
  return resourcePath("dnsresources/{id}/", { id });
}

/** The record's IPs as plain strings, whichever item shape MAAS sent. */
export function dnsResourceAddresses(resource: Pick<DnsResource, "ip_addresses">): string[] {
  return (resource.ip_addresses ?? []).map((item) => (typeof item === "string" ? item : item.ip));
}
