import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { QUANTITY_PATTERN, type MaasMachineSpec } from "../../api/v1beta1/index.ts";
import type { Machine } from "../../maas/index.ts";
import {
  bytesQuantity,
  machineCapacity,
  mebibytesQuantity,
  nodeArchitecture,
  nodeOperatingSystem,
  rootFilesystemBytes,
} from "./machine-capacity.ts";

const quantity = new RegExp(QUANTITY_PATTERN);

/** A Ready machine as MAAS lists it, with only the storage fields a case gives. */
function machine(storage: Record<string, unknown> = {}): Machine {
  return {
    system_id: "abc123", hostname: "node-1", fqdn: "node-1.maas", status: 4, status_name: "Ready", power_state: "off",
    cpu_count: 8, memory: 32768, architecture: "amd64/generic", zone: { name: "default" }, pool: { name: "default" },
    tag_names: [], ip_addresses: [], osystem: "", distro_series: "", owner: null, ...storage,
  };
}

const spec = (extra: Partial<MaasMachineSpec> = {}): MaasMachineSpec => ({ minCPU: 2, minMemory: 4096, image: "jammy", ...extra });

describe("nodeArchitecture", () => {
  const cases: [string | null, string | undefined][] = [
    ["amd64/generic", "amd64"],
    ["arm64/xgene-uboot", "arm64"],
    ["ppc64el/generic", "ppc64le"],
    ["s390x/generic", "s390x"],
    ["i386/generic", undefined],
    ["armhf/generic", undefined],
    [null, undefined],
  ];
  for (const [maas, kubernetes] of cases) {
    it(`maps MAAS's ${String(maas)} to ${String(kubernetes)}`, () => assert.equal(nodeArchitecture(maas), kubernetes));
  }
});

describe("nodeOperatingSystem", () => {
  it("is windows for MAAS's Windows images and linux for every other", () => {
    assert.equal(nodeOperatingSystem("windows/win2019"), "windows");
    assert.equal(nodeOperatingSystem("jammy"), "linux");
    assert.equal(nodeOperatingSystem("rhel/9"), "linux");
  });
});

describe("quantities", () => {
  const bytes: [number, string][] = [
    [500e9, "500G"],
    [16 * 2 ** 30, "16Gi"],
    [2 ** 40, "1Ti"],
    [480e9 - 8 * 2 ** 20, "468741808Ki"],
    [1234567, "1234567"],
  ];
  for (const [value, expected] of bytes) {
    it(`writes ${String(value)} bytes as the shortest exact quantity ${expected}`, () => {
      assert.equal(bytesQuantity(value), expected);
      assert.match(expected, quantity);
    });
  }

  it("writes MAAS's MiB as Gi when whole, else Mi", () => {
    assert.equal(mebibytesQuantity(16384), "16Gi");
    assert.equal(mebibytesQuantity(16100), "16100Mi");
  });
});

describe("rootFilesystemBytes", () => {
  it("is the size of the partition mounted at /", () => {
    const disk = { size: 500e9, filesystem: null, partitions: [{ size: 1e9, filesystem: { mount_point: "/boot/efi" } }, { size: 499e9, filesystem: { mount_point: "/" } }] };
    assert.equal(rootFilesystemBytes(machine({ blockdevice_set: [disk], boot_disk: disk })), 499e9);
  });

  it("is the size of a logical volume mounted at / (an LVM layout)", () => {
    const disk = { size: 500e9, filesystem: null, partitions: [{ size: 500e9, filesystem: { mount_point: null } }] };
    const volume = { size: 200e9, filesystem: { mount_point: "/" } };
    assert.equal(rootFilesystemBytes(machine({ blockdevice_set: [disk, volume], boot_disk: disk })), 200e9);
  });

  it("falls back to the boot disk when no filesystem is mounted at /", () => {
    assert.equal(rootFilesystemBytes(machine({ blockdevice_set: [], boot_disk: { size: 250e9 } })), 250e9);
  });

  it("is unknown when MAAS shows no storage", () => {
    assert.equal(rootFilesystemBytes(machine()), undefined);
    assert.equal(rootFilesystemBytes(machine({ boot_disk: null })), undefined);
  });
});

describe("machineCapacity", () => {
  const withDisk = machine({ boot_disk: { size: 500e9 } });

  it("gives cpu, memory and ephemeral-storage as strings for a template deployed to disk", () => {
    assert.deepEqual(machineCapacity(withDisk, spec()), { cpu: "8", memory: "32Gi", "ephemeral-storage": "500G" });
  });

  for (const [field, extra] of [["ephemeral", { ephemeral: true }], ["deployInMemory", { deployInMemory: true }]] as const) {
    it(`leaves ephemeral-storage out when ${field} is true`, () => {
      assert.deepEqual(machineCapacity(withDisk, spec(extra)), { cpu: "8", memory: "32Gi" });
    });
  }
});
