// DNS domains: where the control-plane record <cluster>.<domain> lives.
import { Type } from "@sinclair/typebox";
import { callFields, type CallOptions, type MaasRequester } from "./http.ts";
import { resourcePath } from "./form.ts";
import { Nullable, openObject, type MaasObject } from "./validate.ts";
import { requestList, requestObject } from "./typed-request.ts";

const DomainSchema = openObject({
  id: Type.Integer(),
  name: Type.String(),
  authoritative: Type.Optional(Type.Boolean()),
  /** Seconds; null means MAAS's default TTL. */
  ttl: Type.Optional(Nullable(Type.Integer())),
  is_default: Type.Optional(Type.Boolean()),
  resource_record_count: Type.Optional(Type.Integer()),
});

export type Domain = MaasObject<typeof DomainSchema>;

export interface CreateDomainParams {
  name: string;
  authoritative?: boolean;
  ttlSeconds?: number;
}

export interface DomainsService {
  list(call?: CallOptions): Promise<Domain[]>;
  /** NotFound when there is no such domain. */
  get(id: number, call?: CallOptions): Promise<Domain>;
  /** Admin only. */
  create(params: CreateDomainParams, call?: CallOptions): Promise<Domain>;
}

export class MaasDomainsService implements DomainsService {
  readonly #http: MaasRequester;

  constructor(http: MaasRequester) {
    this.#http = http;
  }

  async list(call?: CallOptions): Promise<Domain[]> {
    return requestList(this.#http, DomainSchema, { method: "GET", path: "domains/", ...callFields(call) });
  }

  async get(id: number, call?: CallOptions): Promise<Domain> {
    return requestObject(this.#http, DomainSchema, { method: "GET", ...resourcePath("domains/{id}/", { id }), ...callFields(call) });
  }

  async create(params: CreateDomainParams, call?: CallOptions): Promise<Domain> {
    return requestObject(this.#http, DomainSchema, {
      method: "POST",
      path: "domains/",
      ...callFields(call),
      form: {
        name: params.name,
        authoritative: params.authoritative,
        ttl: params.ttlSeconds,
      },
    });
  }
}
