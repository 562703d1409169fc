// Boot resources: which images this MAAS can deploy (e.g. "ubuntu/jammy" on
// "amd64/generic"), so an unknown image is reported before a deploy fails.
import { Type } from "@sinclair/typebox";
import { callFields, type CallOptions, type MaasRequester } from "./http.ts";
import { openObject, type MaasObject } from "./validate.ts";
import { requestList } from "./typed-request.ts";

const BootResourceSchema = openObject({
  id: Type.Integer(),
  /** "Synced" (from a mirror), "Uploaded" (custom) or "Generated". */
  type: Type.String(),
  /** `os/series`, e.g. "ubuntu/jammy", or a custom image name. */
  name: Type.String(),
  /** `arch/subarch`, e.g. "amd64/generic". */
  architecture: Type.String(),
});

export type BootResource = MaasObject<typeof BootResourceSchema>;

export interface BootResourcesService {
  list(call?: CallOptions): Promise<BootResource[]>;
}

export class MaasBootResourcesService implements BootResourcesService {
  readonly #http: MaasRequester;

  constructor(http: MaasRequester) {
    this.#http = http;
  }

  async list(call?: CallOptions): Promise<BootResource[]> {
    return requestList(this.#http, BootResourceSchema, { method: "GET", path: "boot-resources/", ...callFields(call) });
  }
}
