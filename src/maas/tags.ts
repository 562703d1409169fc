// Tags: create and read them, and attach machines. Tag membership goes through
// `POST tags/{name}/?op=update_nodes` with repeated `add`/`remove` system IDs; it is
// admin only (403 otherwise).
import { Type } from "@sinclair/typebox";
import { callFields, type CallOptions, type MaasRequester } from "./http.ts";
import { resourcePath } from "./form.ts";
import { Nullable, openObject, type MaasObject } from "./validate.ts";
import { requestList, requestObject } from "./typed-request.ts";

const TagSchema = openObject({
  name: Type.String(),
  definition: Type.Optional(Type.String()),
  comment: Type.Optional(Type.String()),
  kernel_opts: Type.Optional(Nullable(Type.String())),
});

export type Tag = MaasObject<typeof TagSchema>;

const UpdateNodesResultSchema = openObject({ added: Type.Integer(), removed: Type.Integer() });

/** How many machines `update_nodes` added to and removed from the tag. */
export type TagMembershipChange = MaasObject<typeof UpdateNodesResultSchema>;

export interface CreateTagParams {
  name: string;
  comment?: string;
  /** An XPath over hardware details; MAAS then tags matching machines itself. */
  definition?: string;
  kernelOpts?: string;
}

export interface TagsService {
  list(call?: CallOptions): Promise<Tag[]>;
  /** NotFound when there is no such tag. */
  get(name: string, call?: CallOptions): Promise<Tag>;
  create(params: CreateTagParams, call?: CallOptions): Promise<Tag>;
  delete(name: string, call?: CallOptions): Promise<void>;
  addMachines(tag: string, systemIds: readonly string[], call?: CallOptions): Promise<TagMembershipChange>;
  removeMachines(tag: string, systemIds: readonly string[], call?: CallOptions): Promise<TagMembershipChange>;
}

export class MaasTagsService implements TagsService {
  readonly #http: MaasRequester;

  constructor(http: MaasRequester) {
    this.#http = http;
  }

  async list(call?: CallOptions): Promise<Tag[]> {
    return requestList(this.#http, TagSchema, { method: "GET", path: "tags/", ...callFields(call) });
  }

  async get(name: string, call?: CallOptions): Promise<Tag> {
    return requestObject(this.#http, TagSchema, { method: "GET", ...tagPath(name), ...callFields(call) });
  }

  async create(params: CreateTagParams, call?: CallOptions): Promise<Tag> {
    return requestObject(this.#http, TagSchema, {
      method: "POST",
      path: "tags/",
      ...callFields(call),
      form: { name: params.name, comment: params.comment, definition: params.definition, kernel_opts: params.kernelOpts },
    });
  }

  async delete(name: string, call?: CallOptions): Promise<void> {
    await this.#http.request({ method: "DELETE", ...tagPath(name), ...callFields(call) });
  }

  addMachines(tag: string, systemIds: readonly string[], call?: CallOptions): Promise<TagMembershipChange> {
    return this.#updateNodes(tag, { add: systemIds }, call);
  }

  removeMachines(tag: string, systemIds: readonly string[], call?: CallOptions): Promise<TagMembershipChange> {
    return this.#updateNodes(tag, { remove: systemIds }, call);
  }

  async #updateNodes(tag: string, form: { add?: readonly string[]; remove?: readonly string[] }, call: CallOptions | undefined): Promise<TagMembershipChange> {
    return requestObject(this.#http, UpdateNodesResultSchema, { method: "POST", ...tagPath(tag), op: "update_nodes", form, ...callFields(call) });
  }
}

function tagPath(name: string): { path: string; route: string } {
  return resourcePath("tags/{name}/", { name });
}
