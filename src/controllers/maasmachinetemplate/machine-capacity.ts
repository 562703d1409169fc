// What the cluster autoscaler is told about one machine of a template, computed without
// I/O: from the machine MAAS would allocate, or from the template's minimums when MAAS
// has none to offer. The autoscaler's clusterapi provider reads status.capacity with
// unstructured.NestedStringMap, which rejects the WHOLE map when one value is not a
// string, then resource.ParseQuantity per value, which drops a value it cannot parse
// (cluster-autoscaler/cloudprovider/clusterapi/clusterapi_unstructured.go,
// resourceCapacityFromInfrastructureObject). So every value here is a string in the
// canonical quantity form, never a number. It uses capacity as the node's allocatable
// too (clusterapi_nodegroup.go TemplateNodeInfo), so figures are what MAAS reports, not
// reduced by kube-reserved or eviction thresholds, as other providers publish them.
import { Type, type Static } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { effectiveEphemeral, type MaasMachineSpec, type MaasMachineTemplateStatus } from "../../api/v1beta1/index.ts";
import { parseImageName, type Machine } from "../../maas/index.ts";

export type Capacity = NonNullable<MaasMachineTemplateStatus["capacity"]>;
export type NodeInfo = NonNullable<MaasMachineTemplateStatus["nodeInfo"]>;
export type Architecture = NonNullable<NodeInfo["architecture"]>;

/**
 * MAAS architecture names (Debian's, before the "/subarch") → the names Kubernetes uses
 * (GOARCH, the kubernetes.io/arch label). Debian says ppc64el where Go says ppc64le.
 * Others MAAS knows (i386, armhf, riscv64) have no value in the contract's enum: left out.
 */
const ARCHITECTURES: Readonly<Record<string, Architecture>> = {
  amd64: "amd64",
  arm64: "arm64",
  ppc64el: "ppc64le",
  s390x: "s390x",
};

/** `amd64/generic` → `amd64`; undefined when MAAS did not say or Kubernetes has no name for it. */
export function nodeArchitecture(maasArchitecture: string | null | undefined): Architecture | undefined {
  if (maasArchitecture === null || maasArchitecture === undefined) return undefined;
  const base = maasArchitecture.split("/")[0]?.toLowerCase() ?? "";
  return ARCHITECTURES[base];
}

/** The kubernetes.io/os a node deployed from this image reports; MAAS's Windows images are the only non-Linux ones. */
export function nodeOperatingSystem(image: string): string {
  return parseImageName(image).osystem === "windows" ? "windows" : "linux";
}

export function nodeInfoFor(image: string, architecture: Architecture | undefined): NodeInfo {
  return { ...(architecture === undefined ? {} : { architecture }), operatingSystem: nodeOperatingSystem(image) };
}

/** MiB (MAAS's unit for memory) as a quantity: `16Gi` when whole gibibytes, else `16100Mi`. */
export function mebibytesQuantity(mib: number): string {
  return mib % 1024 === 0 ? `${String(mib / 1024)}Gi` : `${String(mib)}Mi`;
}

const BYTE_UNITS: readonly (readonly [string, number])[] = [
  ["Ti", 2 ** 40], ["T", 1e12], ["Gi", 2 ** 30], ["G", 1e9], ["Mi", 2 ** 20], ["M", 1e6], ["Ki", 2 ** 10], ["k", 1e3],
];

/**
 * Bytes as the shortest exact quantity: MAAS sizes disks in bytes, usually whole
 * decimal gigabytes (`500G`); a size no unit divides stays a plain byte count.
 */
export function bytesQuantity(bytes: number): string {
  let best = String(bytes);
  for (const [suffix, size] of BYTE_UNITS) {
    if (bytes % size !== 0) continue;
    const candidate = `${String(bytes / size)}${suffix}`;
    if (candidate.length < best.length) best = candidate;
  }
  return best;
}

// The machine JSON's storage fields (DISPLAYED_MACHINE_FIELDS: boot_disk,
// blockdevice_set), which the client keeps on the object but does not type.
const FilesystemSchema = Type.Union([Type.Null(), Type.Object({ mount_point: Type.Union([Type.String(), Type.Null()]) })]);
const SizedSchema = Type.Object({ size: Type.Number(), filesystem: Type.Optional(FilesystemSchema) });
const BlockDeviceSchema = Type.Object({
  size: Type.Number(),
  filesystem: Type.Optional(FilesystemSchema),
  partitions: Type.Optional(Type.Array(SizedSchema)),
});
type Sized = Static<typeof SizedSchema>;

/**
 * Bytes of the filesystem mounted at `/`: what kubelet reports as ephemeral-storage
 * (its root dir and the container images live there). MAAS shows the layout it will
 * deploy on a Ready machine: "/" is a partition or a whole device in blockdevice_set
 * (an LVM volume is a virtual block device there). Without one, the boot disk, where
 * MAAS's default "flat" layout puts "/". Undefined when MAAS shows neither.
 */
export function rootFilesystemBytes(machine: Machine): number | undefined {
  const isRoot = (d: Sized): boolean => d.filesystem?.mount_point === "/";
  const devices = Array.isArray(machine.blockdevice_set) ? machine.blockdevice_set : [];
  for (const device of devices) {
    if (!Value.Check(BlockDeviceSchema, device)) continue;
    if (isRoot(device)) return wholeBytes(device.size);
    const root = device.partitions?.find(isRoot);
    if (root !== undefined) return wholeBytes(root.size);
  }
  return Value.Check(SizedSchema, machine.boot_disk) ? wholeBytes(machine.boot_disk.size) : undefined;
}

function wholeBytes(size: number): number | undefined {
  return Number.isSafeInteger(size) && size > 0 ? size : undefined;
}

/**
 * The capacity of the machine MAAS would allocate. For a template deployed to memory
 * ephemeral-storage is left out: the root filesystem is an overlay in RAM, so the
 * disk says nothing about it and any figure would be counted twice, as memory and as
 * storage. Left out, the autoscaler sees 0 and will not scale this group from zero
 * for pods that request ephemeral-storage, rather than promise what the node cannot
 * hold; a user who knows the in-memory size can set the MachineDeployment annotation
 * capacity.cluster-autoscaler.kubernetes.io/ephemeral-disk, which overrides this map.
 */
export function machineCapacity(machine: Machine, spec: MaasMachineSpec): Capacity {
  const capacity: Capacity = { cpu: String(machine.cpu_count), memory: mebibytesQuantity(machine.memory) };
  const rootBytes = effectiveEphemeral(spec) ? undefined : rootFilesystemBytes(machine);
  if (rootBytes !== undefined) capacity["ephemeral-storage"] = bytesQuantity(rootBytes);
  return capacity;
}

/**
 * What every machine of the template has at least. No ephemeral-storage: the root
 * filesystem of a machine no one has looked at has no known size (minDiskSize asks
 * for a disk; "/" is a part of one).
 */
export function templateCapacity(spec: MaasMachineSpec): Capacity {
  return { cpu: String(spec.minCPU), memory: mebibytesQuantity(spec.minMemory) };
}
