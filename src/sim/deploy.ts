// POST machines/{id}/?op=deploy, checked in the order MAAS checks it
// (maas@3.7.0 api/machines.py MachineHandler.deploy → power_on → Node.start),
// with the ephemeral (deploy-to-memory) rules of each MAAS version.
// Every check runs before anything changes: MAAS runs each request in a
// transaction, so a refused deploy leaves a Ready machine Ready.
import type { ApiRequest, ApiResult, HandlerEnv } from "./handlers/context.ts";
import { machineOr404, userOf } from "./handlers/context.ts";
import { badRequest, conflict, forbidden, modelValidationErrors, validationErrors } from "./http/errors.ts";
import type { FormParams } from "./http/form-params.ts";
import { optionalInt, optionalStringBool } from "./http/validators.ts";
import { machineJson } from "./machine-json.ts";
import { canDeployToMemory, distroSeriesChoices, findRelease, isBionicOrNewer, ubuntuVersion, type OsRelease } from "./os-releases.ts";
import { MachineStatus, statusName } from "./status.ts";
import type { SimMachine } from "./types.ts";

export interface AllocationOptions {
  agentName: string;
  installRackd: boolean;
  installKvm: boolean;
  registerVmhost: boolean;
  ephemeralDeploy: boolean;
  enableHwSync: boolean;
}

const BRIDGE_TYPES = ["standard", "ovs"];

/**
 * get_allocation_options (api/machines.py): StringBool/Int checks on the form body,
 * for allocate and deploy alike. Parameters a version does not know are not read.
 */
export function allocationOptions(env: HandlerEnv, body: FormParams): AllocationOptions {
  const f = env.features;
  const installRackd = optionalStringBool(body, "install_rackd", false);
  const installKvm = optionalStringBool(body, "install_kvm", false);
  const registerVmhost = f.registerVmhostParam ? optionalStringBool(body, "register_vmhost", false) : false;
  const ephemeralDeploy = f.ephemeralParam ? optionalStringBool(body, "ephemeral_deploy", false) : false;
  optionalStringBool(body, "bridge_all", false);
  const bridgeType = body.get("bridge_type");
  if (bridgeType !== undefined && !BRIDGE_TYPES.includes(bridgeType)) {
    // MAAS passes the un-interpolated choice template, "%(value)s" and all.
    throw validationErrors({ bridge_type: ["'%(value)s' is not a valid bridge_type.  It should be one of: 'standard', 'ovs'."] });
  }
  optionalStringBool(body, "bridge_stp", false);
  optionalInt(body, "bridge_fd", 0);
  const enableHwSync = f.hwSyncParam ? optionalStringBool(body, "enable_hw_sync", false) : false;
  return { agentName: body.get("agent_name") ?? "", installRackd, installKvm, registerVmhost, ephemeralDeploy, enableHwSync };
}

/** Node.ephemeral_deployment before 3.5: diskless or flagged, in a deploy-ish status. */
function storedEphemeral(m: SimMachine): boolean {
  const deployish = [MachineStatus.DEPLOYING, MachineStatus.DEPLOYED, MachineStatus.ALLOCATED, MachineStatus.READY].some((s) => s === m.status);
  return deployish && (m.disks.length === 0 || m.ephemeralDeploy);
}

export function deploy(env: HandlerEnv, req: ApiRequest): ApiResult {
  const { store, features: f } = env;
  const body = req.body;
  const user = userOf(req);
  const series = body.get("distro_series");
  const hweKernel = body.get("hwe_kernel");
  const m = machineOr404(env, req, "edit");
  const options = allocationOptions(env, body);
  if (options.installRackd && !user.admin) throw forbidden("Only administrators can deploy MAAS racks");
  const vmHost = options.installKvm || options.registerVmhost;
  // [sic] "administratros": maas@3.x api/machines.py.
  if (vmHost && !user.admin) throw forbidden(env.version.major >= 3 ? "Only administratros can deploy VM hosts" : "");
  const requested = options.ephemeralDeploy || (f.ephemeralForcedWhenDiskless && m.disks.length === 0);
  // The API's own VM-host check looks at the request from 3.5, at the stored state
  // in 3.0–3.4, and at both in 2.6–2.9; Node.start() repeats it (startChecks).
  const vmHostRefused = f.ephemeralForcedWhenDiskless
    ? requested
    : f.registerVmhostParam
      ? storedEphemeral(m)
      : f.ephemeralParam && (storedEphemeral(m) || requested);
  if (vmHost && vmHostRefused) throw badRequest(f.vmHostEphemeralText);
  let acquire = false;
  if (m.status === MachineStatus.READY) {
    if (m.owner !== null && m.owner !== user.username) throw conflict("Can't allocate a machine belonging to another user.");
    acquire = true;
  }
  const status = acquire ? MachineStatus.ALLOCATED : m.status;
  if (status !== MachineStatus.ALLOCATED) {
    throw conflict(`Can't deploy a machine that is in the '${statusName(status)}' state`);
  }
  const release = resolveSeries(env, series === undefined || series === "" ? store.state.defaultDistroSeries : series);
  const kernel = resolveKernel(env, release, m, hweKernel);
  // MachineForm.clean (3.2+): hardware sync needs a Linux image (LINUX_OSYSTEMS or custom).
  if (options.enableHwSync && !["ubuntu", "centos", "rhel", "ol", "custom"].includes(release.osystem)) {
    throw validationErrors({ enable_hw_sync: ["Hardware sync is only supported for Linux based image deploys."] });
  }
  // LP#2033632 fix: every deploy writes the flag; before it, only a true value was written.
  const flag = f.deployResetsEphemeral ? requested : requested || m.ephemeralDeploy;
  startChecks(env, m, release, { ephemeralDeploy: flag, installKvm: options.installKvm, registerVmhost: options.registerVmhost });

  if (acquire) {
    m.status = MachineStatus.ALLOCATED;
    m.owner = user.username;
    m.agentName = options.agentName;
  }
  m.osystem = release.osystem;
  m.distroSeries = release.release;
  m.hweKernel = kernel;
  m.ephemeralDeploy = flag;
  m.installKvm = options.installKvm;
  m.registerVmhost = options.registerVmhost;
  m.enableHwSync = options.enableHwSync;
  m.userData = body.get("user_data") ?? null;
  // No installation script set for ephemeral deploys (node.py _start_deployment).
  m.installationResultId = flag ? null : store.nextId("scriptSet", 100);
  m.ipAddresses = [m.deployIp];
  env.lifecycle.startDeploy(m);
  store.changed();
  return { json: machineJson(store, f, m) };
}

/**
 * MachineForm.set_distro_series + its ChoiceField: unknown series → 400 JSON
 * {"distro_series": ["'x' is not a valid distro_series.  It should be one of: '', …."]}.
 */
function resolveSeries(env: HandlerEnv, series: string): OsRelease {
  const found = findRelease(env.store, series);
  if (found !== undefined) return found;
  const choices = distroSeriesChoices(env.store).map((c) => `'${c}'`).join(", ");
  throw validationErrors({ distro_series: [`'${series}' is not a valid distro_series.  It should be one of: ${choices}.`] });
}

/** The kernel MAAS records: the requested one if it fits, else the release's GA kernel (Ubuntu). */
function resolveKernel(env: HandlerEnv, release: OsRelease, m: SimMachine, requested: string | undefined): string | null {
  const version = release.osystem === "ubuntu" ? ubuntuVersion(env.store, release.release) : undefined;
  if (requested === undefined || requested === "") return version === undefined ? null : `ga-${version}`;
  const ok = release.osystem === "ubuntu" && /^(ga|hwe)-(\d\d\.\d\d|[a-z])(-edge)?(-lowlatency)?$/.test(requested);
  if (!ok) {
    throw validationErrors({ hwe_kernel: [`${requested} is not available for ${release.osystem}/${release.release} on ${m.architecture}.`] });
  }
  return requested;
}

interface StartFlags {
  ephemeralDeploy: boolean;
  installKvm: boolean;
  registerVmhost: boolean;
}

/**
 * Node.start() and _start_deployment() checks (models/node.py), by version:
 * 3.5+: VM host refused for memory deploys; the image must run from memory
 *   ("Deployment to memory not supported for {os}/{series} on {arch}").
 * 2.7–3.4: ephemeral (flag or diskless) needs Ubuntu ≥ Bionic; VM host refused.
 * 2.6: only install_kvm is refused.
 * Before 3.5 a diskless disk deploy of a non-Ubuntu OS fails the storage check.
 * MAAS has no memory-size check for deploying to memory; neither do we.
 */
export function startChecks(env: HandlerEnv, m: SimMachine, release: OsRelease, flags: StartFlags): void {
  const f = env.features;
  const diskless = m.disks.length === 0;
  if (f.ephemeralImageCheck) {
    if (!flags.ephemeralDeploy) return;
    if (flags.installKvm || flags.registerVmhost) throw badRequest(f.vmHostEphemeralText);
    const mainArch = m.architecture.split("/")[0];
    const resource = release.resources.find((r) => r.architecture === m.architecture) ?? release.resources.find((r) => r.architecture.split("/")[0] === mainArch);
    if (resource === undefined || !canDeployToMemory(resource)) {
      throw badRequest(`Deployment to memory not supported for ${release.osystem}/${release.release} on ${m.architecture}`);
    }
    return;
  }
  const effective = flags.ephemeralDeploy || diskless;
  if (f.ephemeralParam && effective) {
    if (flags.installKvm || (f.registerVmhostParam && flags.registerVmhost)) throw badRequest(f.vmHostEphemeralText);
    if (f.ephemeralUbuntuBionicOnly && !isBionicOrNewer(env.store, release.osystem, release.release)) {
      throw badRequest("Ephemeral deployments only supported on Ubuntu Bionic 18.04+");
    }
  }
  if (diskless && !(f.ephemeralParam && effective && release.osystem === "ubuntu")) {
    throw modelValidationErrors({ storage: ["There are currently no storage devices.  Please add a storage device to be able to deploy this node."] });
  }
}
