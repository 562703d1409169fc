// Tags: create and read them, and attach machines. Tag membership goes through
// `POST tags/{name}/?op=update_nodes` with repeated `add`/`remove` system IDs; it is
// admin only (403 otherwise).
import { Type } from "@sinclair/typebox";
import type { MaasRequester } from "./http.ts";
import { segment } from "./form.ts";
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
  list(): Promise<Tag[]>;
  /** NotFound when there is no such tag. */
  get(name: string): Promise<Tag>;
  create(params: CreateTagParams): Promise<Tag>;
  delete(name: string): Promise<void>;
  addMachines(tag: string, systemIds: readonly string[]): Promise<TagMembershipChange>;
  removeMachines(tag: string, systemIds: readonly string[]): Promise<TagMembershipChange>;
}

export class MaasTagsService implements TagsService {
  readonly #http: MaasRequester;

  constructor(http: MaasRequester) {
    this.#http = http;
  }

  async list(): Promise<Tag[]> {
    return requestList(this.#http, TagSchema, { method: "GET", path: "tags/" });
  }

  async get(name: string): Promise<Tag> {
    const path = `tags/${segment(name)}/`;
    return requestObject(this.#http, TagSchema, { method: "GET", path });
  }

  async create(params: CreateTagParams): Promise<Tag> {
    return requestObject(this.#http, TagSchema, {
      method: "POST",
      path: "tags/",
      form: { name: params.name, comment: params.comment, definition: params.definition, kernel_opts: params.kernelOpts },
    });
  }

  async delete(name: string): Promise<void> {
    await this.#http.request({ method: "DELETE", path: `tags/${segment(name)}/` });
  }

  addMachines(tag: string, systemIds: readonly string[]): Promise<TagMembershipChange> {
    return this.#updateNodes(tag, { add: systemIds });
  }

  removeMachines(tag: string, systemIds: readonly string[]): Promise<TagMembershipChange> {
    return this.#updateNodes(tag, { remove: systemIds });
  }

  async #updateNodes(tag: string, form: { add?: readonly string[]; remove?: readonly string[] }): Promise<TagMembershipChange> {
    const path = `tags/${segment(tag)}/`;
    return requestObject(this.#http, UpdateNodesResultSchema, { method: "POST", path, op: "update_nodes", form });
  }
}
