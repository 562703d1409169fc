// Machines: find, allocate, deploy, release, power, rename. Parameter names map onto
// MAAS's forms (ReadNodesForm for list, AcquireNodeForm for allocate, the deploy and
// release handlers in maasserver/api/machines.py). Booleans are sent only when true,
// because MAAS treats an absent flag as false and some flags (ephemeral_deploy) are
// refused by older MAAS versions even when false.
import { callFields, type CallOptions, type MaasRequester } from "./http.ts";
import { MaasBadRequestError } from "./errors.ts";
import { resourcePath } from "./form.ts";
import { MachineSchema, type Machine } from "./machine.ts";
import { parseImageName } from "./version.ts";
import { requestList, requestObject } from "./typed-request.ts";

export interface MachineFilters {
  /** `id`: system IDs. */
  systemIds?: readonly string[];
  hostnames?: readonly string[];
  zone?: string;
  pool?: string;
  /** All must match. */
  tags?: readonly string[];
  /** `agent_name` given at allocation; how this provider finds the machines it holds. */
  agentName?: string;
}

export interface AllocateParams {
  /** Minimum CPU count. */
  cpuCount?: number;
  /** Minimum memory in MiB (`mem`). */
  memoryMiB?: number;
  /** All must be on the machine. */
  tags?: readonly string[];
  notTags?: readonly string[];
  zone?: string;
  pool?: string;
  systemId?: string;
  /** Hostname or FQDN. */
  name?: string;
  /**
   * MAAS's storage constraint, sent as is: comma-separated `[label:]size[(tag,...)]`
   * entries, sizes in decimal GB (10^9 bytes, not GiB). The first entry is the disk
   * holding the root filesystem; each further entry needs another, unused disk (a
   * `partition` tag asks for a partition instead). E.g. `root:40(ssd),data:500`.
   * MAAS answers BadRequest (field `storage`) for a malformed value
   * (node_constraint_filter_forms.py storage_validator, nodes_by_storage).
   */
  storage?: string;
  /** Stored on the machine; `list({ agentName })` finds it again. */
  agentName?: string;
  comment?: string;
  /** Report what would be allocated without allocating; safe to retry. */
  dryRun?: boolean;
}

export interface DeployParams {
  /**
   * OS of the image. MAAS's deploy handler does not read `osystem`; it derives the OS
   * from `distro_series`, which may be `os/series`. So `osystem` + `distroSeries`
   * are sent as one `distro_series=osystem/series`.
   */
  osystem?: string;
  /** `jammy` or `ubuntu/jammy`; MAAS's default series when both are omitted. */
  distroSeries?: string;
  /**
   * Raw bootstrap data (cloud-init). The client base64-encodes it: MAAS stores
   * user_data as sent and its metadata server decodes valid base64, which keeps
   * binary-safe any data that is not plain text.
   */
  userData?: string | Uint8Array;
  hweKernel?: string;
  /** Run from memory: sends `ephemeral_deploy=true`. Never sent otherwise (see module note). */
  ephemeralDeploy?: boolean;
  /** MAAS 3.2+. */
  enableHwSync?: boolean;
  comment?: string;
  agentName?: string;
}

export interface ReleaseParams {
  erase?: boolean;
  quickErase?: boolean;
  secureErase?: boolean;
  force?: boolean;
  comment?: string;
}

export interface PowerOnParams {
  /** Raw data; base64-encoded like deploy's user data. */
  userData?: string | Uint8Array;
  comment?: string;
}

export interface PowerOffParams {
  stopMode?: "hard" | "soft";
  comment?: string;
}

export interface UpdateMachineParams {
  hostname?: string;
  /** Bytes. */
  swapSize?: number;
}

export interface MachinesService {
  list(filters?: MachineFilters, call?: CallOptions): Promise<Machine[]>;
  /** NotFound when there is no such machine. */
  get(systemId: string, call?: CallOptions): Promise<Machine>;
  /** Conflict when no available machine matches; BadRequest for an unknown tag, zone or pool. */
  allocate(params?: AllocateParams, call?: CallOptions): Promise<Machine>;
  deploy(systemId: string, params?: DeployParams, call?: CallOptions): Promise<Machine>;
  release(systemId: string, params?: ReleaseParams, call?: CallOptions): Promise<Machine>;
  powerOn(systemId: string, params?: PowerOnParams, call?: CallOptions): Promise<Machine>;
  powerOff(systemId: string, params?: PowerOffParams, call?: CallOptions): Promise<Machine>;
  update(systemId: string, params: UpdateMachineParams, call?: CallOptions): Promise<Machine>;
  /** Removes the machine from MAAS (admin only). */
  delete(systemId: string, call?: CallOptions): Promise<void>;
}

export class MaasMachinesService implements MachinesService {
  readonly #http: MaasRequester;

  constructor(http: MaasRequester) {
    this.#http = http;
  }

  async list(filters: MachineFilters = {}, call?: CallOptions): Promise<Machine[]> {
    return requestList(this.#http, MachineSchema, {
      method: "GET",
      path: "machines/",
      ...callFields(call),
      query: {
        id: filters.systemIds,
        hostname: filters.hostnames,
        zone: filters.zone,
        pool: filters.pool,
        tags: filters.tags,
        agent_name: filters.agentName,
      },
    });
  }

  async get(systemId: string, call?: CallOptions): Promise<Machine> {
    return requestObject(this.#http, MachineSchema, { method: "GET", ...machinePath(systemId), ...callFields(call) });
  }

  async allocate(params: AllocateParams = {}, call?: CallOptions): Promise<Machine> {
    return requestObject(this.#http, MachineSchema, {
      method: "POST",
      path: "machines/",
      op: "allocate",
      ...callFields(call),
      // A dry run changes nothing, so it may be repeated after an ambiguous failure.
      idempotent: params.dryRun === true,
      form: {
        cpu_count: params.cpuCount,
        mem: params.memoryMiB,
        tags: params.tags,
        not_tags: params.notTags,
        zone: params.zone,
        pool: params.pool,
        system_id: params.systemId,
        name: params.name,
        storage: params.storage,
        agent_name: params.agentName,
        comment: params.comment,
        dry_run: flag(params.dryRun),
      },
    });
  }

  async deploy(systemId: string, params: DeployParams = {}, call?: CallOptions): Promise<Machine> {
    return this.#post(systemId, "deploy", {
      distro_series: distroSeriesParam(params.osystem, params.distroSeries),
      user_data: params.userData === undefined ? undefined : toBase64(params.userData),
      hwe_kernel: params.hweKernel,
      ephemeral_deploy: flag(params.ephemeralDeploy),
      enable_hw_sync: flag(params.enableHwSync),
      comment: params.comment,
      agent_name: params.agentName,
    }, call);
  }

  async release(systemId: string, params: ReleaseParams = {}, call?: CallOptions): Promise<Machine> {
    return this.#post(systemId, "release", {
      erase: flag(params.erase),
      quick_erase: flag(params.quickErase),
      secure_erase: flag(params.secureErase),
      force: flag(params.force),
      comment: params.comment,
    }, call);
  }

  async powerOn(systemId: string, params: PowerOnParams = {}, call?: CallOptions): Promise<Machine> {
    return this.#post(systemId, "power_on", {
      user_data: params.userData === undefined ? undefined : toBase64(params.userData),
      comment: params.comment,
    }, call);
  }

  async powerOff(systemId: string, params: PowerOffParams = {}, call?: CallOptions): Promise<Machine> {
    return this.#post(systemId, "power_off", { stop_mode: params.stopMode, comment: params.comment }, call);
  }

  async update(systemId: string, params: UpdateMachineParams, call?: CallOptions): Promise<Machine> {
    return requestObject(this.#http, MachineSchema, {
      method: "PUT",
      ...machinePath(systemId),
      form: { hostname: params.hostname, swap_size: params.swapSize },
      ...callFields(call),
    });
  }

  /** Removes the machine from MAAS (admin only; MAAS answers 204). */
  async delete(systemId: string, call?: CallOptions): Promise<void> {
    await this.#http.request({ method: "DELETE", ...machinePath(systemId), ...callFields(call) });
  }

  async #post(systemId: string, op: string, form: Record<string, string | number | undefined>, call: CallOptions | undefined): Promise<Machine> {
    return requestObject(this.#http, MachineSchema, { method: "POST", ...machinePath(systemId), op, form, ...callFields(call) });
  }
}

function machinePath(systemId: string): { path: string; route: string } {
  return resourcePath("machines/{system_id}/", { system_id: systemId });
}

/** "true" when set, otherwise not sent. */
function flag(value: boolean | undefined): "true" | undefined {
  return value === true ? "true" : undefined;
}

/**
 * The `distro_series` value: `osystem/series` when both are known, the series as given
 * otherwise. Refuses an OS without a series (MAAS would silently pick its default OS's
 * default series) and an OS that contradicts an `os/series` value.
 */
export function distroSeriesParam(osystem: string | undefined, distroSeries: string | undefined): string | undefined {
  const op = "POST machines/{system_id}/?op=deploy";
  if (distroSeries === undefined || distroSeries === "") {
    if (osystem === undefined || osystem === "") return undefined;
    throw new MaasBadRequestError({
      op,
      body: `osystem "${osystem}" given without distroSeries`,
      fieldErrors: { distro_series: ["Required when osystem is given: MAAS selects the OS through distro_series."] },
    });
  }
  if (osystem === undefined || osystem === "") return distroSeries;
  if (distroSeries.includes("/")) {
    if (parseImageName(distroSeries).osystem === osystem.toLowerCase()) return distroSeries;
    throw new MaasBadRequestError({
      op,
      body: `osystem "${osystem}" contradicts distroSeries "${distroSeries}"`,
      fieldErrors: { distro_series: [`Names a different OS than osystem "${osystem}".`] },
    });
  }
  return `${osystem}/${distroSeries}`;
}

function toBase64(data: string | Uint8Array): string {
  return (typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data)).toString("base64");
}
