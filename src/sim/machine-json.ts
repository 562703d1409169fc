// The machine JSON MAAS returns: every key of DISPLAYED_MACHINE_FIELDS (plus
// resource_uri) for the configured version, with MAAS's JSON types.
// MAAS: api/machines.py DISPLAYED_MACHINE_FIELDS per tag (fields added over
// time are gated in maas-version.ts), api/nodes.py for the computed fields, and
// api/examples/machines.json for the nested shapes (interfaces, block devices).
import { createHash } from "node:crypto";
import type { VersionFeatures } from "./maas-version.ts";
import { statusName } from "./status.ts";
import { diskTags, rootPartitionSizeBytes } from "./storage.ts";
import { fqdnOf, type Store } from "./store.ts";
import type { SimDisk, SimMachine } from "./types.ts";

export const API_ROOT = "/MAAS/api/2.0";

/** Deterministic UUID-shaped text from a seed string (no randomness in JSON). */
export function stableUuid(seed: string): string {
  const h = createHash("sha1").update(seed).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function zoneJson(zone: { id: number; name: string; description: string }): Record<string, unknown> {
  return { name: zone.name, description: zone.description, id: zone.id, resource_uri: `${API_ROOT}/zones/${zone.name}/` };
}

export function poolJson(pool: { id: number; name: string; description: string }): Record<string, unknown> {
  return { name: pool.name, description: pool.description, id: pool.id, resource_uri: `${API_ROOT}/resourcepool/${pool.id}/` };
}

export function domainJson(store: Store, domainId: number): Record<string, unknown> {
  const d = store.domainById(domainId) ?? store.defaultDomain();
  return {
    authoritative: d.authoritative,
    ttl: d.ttl,
    is_default: d.isDefault,
    resource_record_count: store.state.dnsResources.filter((r) => r.domainId === d.id).length,
    id: d.id,
    name: d.name,
    resource_uri: `${API_ROOT}/domains/${d.id}/`,
  };
}

function vlanJson(): Record<string, unknown> {
  return {
    vid: 0, mtu: 1500, dhcp_on: true, external_dhcp: null, relay_vlan: null,
    fabric: "fabric-0", space: "undefined", primary_rack: "simrak", secondary_rack: null,
    fabric_id: 0, id: 5001, name: "untagged", resource_uri: `${API_ROOT}/vlans/5001/`,
  };
}

export function subnetJson(store: Store): Record<string, unknown> {
  const { cidr, gateway } = store.state.subnet;
  return {
    name: cidr, vlan: vlanJson(), cidr, rdns_mode: 2, gateway_ip: gateway, dns_servers: [],
    allow_dns: true, allow_proxy: true, active_discovery: false, managed: true,
    space: "undefined", id: 1, resource_uri: `${API_ROOT}/subnets/1/`,
  };
}

function interfaceJson(store: Store, m: SimMachine): Record<string, unknown> {
  const link: Record<string, unknown> = { id: m.interfaceId, mode: "auto", subnet: subnetJson(store) };
  if (m.ipAddresses.length > 0) link.ip_address = m.ipAddresses[0];
  return {
    firmware_version: null, vlan: vlanJson(), parents: [], effective_mtu: 1500, system_id: m.systemId,
    tags: [], enabled: true, product: null, links: [link], type: "physical", children: [], vendor: null,
    mac_address: m.macAddress, discovered: null, id: m.interfaceId, params: "", name: "eth0",
    link_connected: true, interface_speed: 1000, link_speed: 1000, numa_node: 0, sriov_max_vf: 0,
    resource_uri: `${API_ROOT}/nodes/${m.systemId}/interfaces/${m.interfaceId}/`,
  };
}

// The storage layout MAAS configures at commissioning ("flat": one GPT partition
// with an ext4 root on the first disk). It stays in the machine's configuration
// whatever is on the physical disks; see osOnDisk for that.
function blockDeviceJson(m: SimMachine, disk: SimDisk, index: number): Record<string, unknown> {
  const base = {
    firmware_version: "2.5+", system_id: m.systemId, tags: [...diskTags(disk)],
    id_path: `/dev/disk/by-id/wwn-0x${createHash("sha1").update(disk.serial).digest("hex").slice(0, 16)}`,
    size: disk.sizeBytes, block_size: 512, type: "physical", uuid: null, filesystem: null,
    model: disk.model, storage_pool: null, id: disk.id, path: `/dev/disk/by-dname/${disk.name}`,
    serial: disk.serial, name: disk.name, numa_node: 0,
    resource_uri: `${API_ROOT}/nodes/${m.systemId}/blockdevices/${disk.id}/`,
  };
  if (index !== 0) {
    return { ...base, partitions: [], partition_table_type: null, available_size: disk.sizeBytes, used_size: 0, used_for: "Unused" };
  }
  const partSize = rootPartitionSizeBytes(disk);
  return {
    ...base,
    partitions: [{
      uuid: stableUuid(`${m.systemId}-part`), size: partSize, bootable: false, tags: [], system_id: m.systemId,
      device_id: disk.id, type: "partition",
      filesystem: { fstype: "ext4", label: "root", uuid: stableUuid(`${m.systemId}-fs`), mount_point: "/", mount_options: null },
      id: disk.partitionId, path: `/dev/disk/by-dname/${disk.name}-part1`,
      used_for: "ext4 formatted filesystem mounted at /",
      resource_uri: `${API_ROOT}/nodes/${m.systemId}/blockdevices/${disk.id}/partition/${disk.partitionId}`,
    }],
    partition_table_type: "GPT", available_size: 0, used_size: disk.sizeBytes, used_for: "GPT partitioned with 1 partition",
  };
}

const HARDWARE_KEYS = [
  "system_vendor", "system_product", "system_family", "system_version", "system_sku", "system_serial",
  "cpu_model", "mainboard_vendor", "mainboard_product", "mainboard_serial", "mainboard_version",
  "mainboard_firmware_vendor", "mainboard_firmware_date", "mainboard_firmware_version",
  "chassis_vendor", "chassis_type", "chassis_serial", "chassis_version",
];

export interface MachineJsonOptions {
  /** allocate adds constraints_by_type; other responses do not have the key (MAAS sets it only there). */
  constraintsByType?: Record<string, unknown>;
}

export function machineJson(store: Store, f: VersionFeatures, m: SimMachine, options: MachineJsonOptions = {}): Record<string, unknown> {
  const zone = store.zoneById(m.zoneId);
  const pool = store.poolById(m.poolId);
  const disks = m.disks.map((d, i) => blockDeviceJson(m, d, i));
  const boot = interfaceJson(store, m);
  const storageMb = m.disks.reduce((sum, d) => sum + d.sizeBytes, 0) / 1e6;
  const hardware: Record<string, string> = Object.fromEntries(HARDWARE_KEYS.map((k) => [k, "Unknown"]));
  hardware.system_vendor = "QEMU";
  hardware.system_product = "Standard PC (Q35 + ICH9, 2009)";
  hardware.cpu_model = "Intel Core Processor (Simulated)";
  const testStatus = (prefix: string, value: number, name: string): Record<string, unknown> => ({
    [`${prefix}_status`]: value,
    [`${prefix}_status_name`]: name,
  });
  const j: Record<string, unknown> = {
    system_id: m.systemId,
    hostname: m.hostname,
    description: m.description,
    hardware_uuid: stableUuid(`${m.systemId}-hw`),
    domain: domainJson(store, m.domainId),
    fqdn: fqdnOf(store, m),
    owner: m.owner,
    owner_data: { ...m.ownerData },
    locked: m.locked,
    cache_sets: [],
    bcaches: [],
    bios_boot_method: "pxe",
    boot_interface: boot,
    architecture: m.architecture,
    min_hwe_kernel: "",
    hwe_kernel: m.hweKernel,
    cpu_count: m.cpuCount,
    cpu_speed: m.cpuSpeedMhz,
    memory: m.memoryMiB,
    swap_size: m.swapSize,
    storage: storageMb,
    status: m.status,
    osystem: m.osystem,
    distro_series: m.distroSeries,
    netboot: m.netboot,
    power_type: m.powerType,
    power_state: m.powerState,
    tag_names: [...m.tags],
    address_ttl: null,
    ip_addresses: [...m.ipAddresses],
    interface_set: [boot],
    zone: zone === undefined ? null : zoneJson(zone),
    pool: pool === undefined ? null : poolJson(pool),
    disable_ipv4: false,
    boot_disk: disks[0] ?? null,
    blockdevice_set: disks,
    physicalblockdevice_set: disks,
    virtualblockdevice_set: [],
    volume_groups: [],
    raids: [],
    status_action: "",
    status_message: m.statusMessage,
    status_name: statusName(m.status),
    node_type: 0,
    node_type_name: "Machine",
    special_filesystems: [],
    pod: null,
    default_gateways: {
      ipv4: m.ipAddresses.length > 0 ? { gateway_ip: store.state.subnet.gateway, link_id: m.interfaceId } : { gateway_ip: null, link_id: null },
      ipv6: { gateway_ip: null, link_id: null },
    },
    current_commissioning_result_id: 1,
    current_testing_result_id: 2,
    current_installation_result_id: m.installationResultId,
    ...testStatus("commissioning", 2, "Passed"),
    ...testStatus("testing", 2, "Passed"),
    ...testStatus("cpu_test", 2, "Passed"),
    ...testStatus("memory_test", 2, "Passed"),
    ...testStatus("network_test", -1, "Unknown"),
    ...testStatus("storage_test", 2, "Passed"),
    ...testStatus("other_test", -1, "Unknown"),
    ...testStatus("interface_test", -1, "Unknown"),
    hardware_info: hardware,
    numanode_set: [{ index: 0, cores: Array.from({ length: m.cpuCount }, (_, i) => i), memory: m.memoryMiB, hugepages_set: [] }],
    resource_uri: `${API_ROOT}/machines/${m.systemId}/`,
  };
  if (f.ephemeralField) j.ephemeral_deploy = m.ephemeralDeploy;
  if (f.fields.errorDescription) j.error_description = "";
  if (f.fields.iscsiBlockDeviceSet) j.iscsiblockdevice_set = [];
  if (f.fields.virtualmachineId) j.virtualmachine_id = null;
  if (f.fields.workloadAnnotations) j.workload_annotations = { ...m.ownerData };
  if (f.fields.hwSync) Object.assign(j, { last_sync: null, sync_interval: null, next_sync: null });
  if (f.fields.parent) j.parent = null;
  if (f.fields.enableHwSync) j.enable_hw_sync = m.enableHwSync;
  if (f.fields.enableKernelCrashDump) j.enable_kernel_crash_dump = false;
  if (f.fields.isDpu) j.is_dpu = false;
  if (options.constraintsByType !== undefined) j.constraints_by_type = options.constraintsByType;
  return j;
}
