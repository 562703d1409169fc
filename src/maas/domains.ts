// DNS domains: where the control-plane record <cluster>.<domain> lives.
import { Type } from "@sinclair/typebox";
import type { MaasRequester } from "./http.ts";
import { segment } from "./form.ts";
import { Nullable, openObject, parseList, parseResponse, type MaasObject } from "./validate.ts";

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
  list(): Promise<Domain[]>;
  /** NotFound when there is no such domain. */
  get(id: number): Promise<Domain>;
  /** Admin only. */
  create(params: CreateDomainParams): Promise<Domain>;
}

export class MaasDomainsService implements DomainsService {
  readonly #http: MaasRequester;

  constructor(http: MaasRequester) {
    this.#http = http;
  }

  async list(): Promise<Domain[]> {
    return parseList(DomainSchema, await this.#http.request({ method: "GET", path: "domains/" }), "GET domains/");
  }

  async get(id: number): Promise<Domain> {
    const path = `domains/${segment(id)}/`;
    return parseResponse(DomainSchema, await this.#http.request({ method: "GET", path }), `GET ${path}`);
  }

  async create(params: CreateDomainParams): Promise<Domain> {
    const body = await this.#http.request({
      method: "POST",
      path: "domains/",
      form: {
        name: params.name,
        authoritative: params.authoritative,
        ttl: params.ttlSeconds,
      },
    });
    return parseResponse(DomainSchema, body, "POST domains/");
  }
}
