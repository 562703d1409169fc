// Availability zones: the failure domains a MaasCluster offers, and the zone part of
// a providerID (maas:///<zone>/<system-id>).
import { Type } from "@sinclair/typebox";
import { callFields, type CallOptions, type MaasRequester } from "./http.ts";
import { resourcePath } from "./form.ts";
import { openObject, type MaasObject } from "./validate.ts";
import { requestList, requestObject } from "./typed-request.ts";

const ZoneSchema = openObject({
  id: Type.Integer(),
  name: Type.String(),
  description: Type.Optional(Type.String()),
});

export type Zone = MaasObject<typeof ZoneSchema>;

export interface ZonesService {
  list(call?: CallOptions): Promise<Zone[]>;
  /** NotFound when there is no such zone. */
  get(name: string, call?: CallOptions): Promise<Zone>;
}

export class MaasZonesService implements ZonesService {
  readonly #http: MaasRequester;

  constructor(http: MaasRequester) {
    this.#http = http;
  }

  async list(call?: CallOptions): Promise<Zone[]> {
    return requestList(this.#http, ZoneSchema, { method: "GET", path: "zones/", ...callFields(call) });
  }

  async get(name: string, call?: CallOptions): Promise<Zone> {
    return requestObject(this.#http, ZoneSchema, { method: "GET", ...resourcePath("zones/{name}/", { name }), ...callFields(call) });
  }
}
