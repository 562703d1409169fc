// Resource pools. MAAS names the collection `resourcepools/` but a single pool
// `resourcepool/{id}/` (singular); the default pool is id 0, "Default pool".
import { Type } from "@sinclair/typebox";
import { callFields, type CallOptions, type MaasRequester } from "./http.ts";
import { resourcePath } from "./form.ts";
import { openObject, type MaasObject } from "./validate.ts";
import { requestList, requestObject } from "./typed-request.ts";

const ResourcePoolSchema = openObject({
  id: Type.Integer(),
  name: Type.String(),
  description: Type.Optional(Type.String()),
});

export type ResourcePool = MaasObject<typeof ResourcePoolSchema>;

export interface ResourcePoolsService {
  list(call?: CallOptions): Promise<ResourcePool[]>;
  /** By id (MAAS also accepts the name here). NotFound when there is no such pool. */
  get(idOrName: number | string, call?: CallOptions): Promise<ResourcePool>;
}

export class MaasResourcePoolsService implements ResourcePoolsService {
  readonly #http: MaasRequester;

  constructor(http: MaasRequester) {
    this.#http = http;
  }

  async list(call?: CallOptions): Promise<ResourcePool[]> {
    return requestList(this.#http, ResourcePoolSchema, { method: "GET", path: "resourcepools/", ...callFields(call) });
  }

  async get(idOrName: number | string, call?: CallOptions): Promise<ResourcePool> {
    return requestObject(this.#http, ResourcePoolSchema, { method: "GET", ...resourcePath("resourcepool/{id}/", { id: idOrName }), ...callFields(call) });
  }
}
