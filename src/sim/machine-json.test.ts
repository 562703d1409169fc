import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startHarness } from "./test-support.ts";

type Kind = "string" | "string|null" | "int" | "int|null" | "number" | "boolean" | "object" | "object|null" | "array" | "null" | "any";

// Reference §8 (maas@3.7.0 DISPLAYED_MACHINE_FIELDS + resource_uri) with the JSON types clients decode.
const FIELDS: Record<string, Kind> = {
  system_id: "string", hostname: "string", description: "string", hardware_uuid: "string", domain: "object",
  fqdn: "string", owner: "string|null", owner_data: "object", locked: "boolean", cache_sets: "array", bcaches: "array",
  bios_boot_method: "string", boot_interface: "object", architecture: "string", min_hwe_kernel: "string",
  hwe_kernel: "string|null", cpu_count: "int", cpu_speed: "int", memory: "int", swap_size: "int|null", storage: "number",
  status: "int", osystem: "string", distro_series: "string", ephemeral_deploy: "boolean", error_description: "string",
  netboot: "boolean", power_type: "string", power_state: "string", tag_names: "array", address_ttl: "int|null",
  ip_addresses: "array", interface_set: "array", zone: "object", pool: "object", disable_ipv4: "boolean",
  constraints_by_type: "object", boot_disk: "object|null", blockdevice_set: "array", physicalblockdevice_set: "array",
  virtualblockdevice_set: "array", volume_groups: "array", raids: "array", status_action: "string",
  status_message: "string", status_name: "string", node_type: "int", node_type_name: "string",
  special_filesystems: "array", parent: "null", pod: "null", default_gateways: "object",
  current_commissioning_result_id: "int|null", current_testing_result_id: "int|null", current_installation_result_id: "int|null",
  commissioning_status: "int", commissioning_status_name: "string", testing_status: "int", testing_status_name: "string",
  cpu_test_status: "int", cpu_test_status_name: "string", memory_test_status: "int", memory_test_status_name: "string",
  network_test_status: "int", network_test_status_name: "string", storage_test_status: "int", storage_test_status_name: "string",
  other_test_status: "int", other_test_status_name: "string", interface_test_status: "int", interface_test_status_name: "string",
  hardware_info: "object", numanode_set: "array", virtualmachine_id: "null", workload_annotations: "object",
  last_sync: "null", sync_interval: "null", next_sync: "null", enable_hw_sync: "boolean", enable_kernel_crash_dump: "boolean",
  is_dpu: "boolean", resource_uri: "string",
};

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "number";
  return typeof value;
}

function matches(value: unknown, kind: Kind): boolean {
  const actual = kindOf(value);
  return kind.split("|").some((k) => k === actual || (k === "number" && actual === "int") || k === "any");
}

describe("machine JSON", () => {
  it("has every reference §8 key with the type clients decode (MAAS 3.7, allocate response)", async () => {
    const h = await startHarness({ maasVersion: "3.7.0" });
    try {
      const m = (await h.client.post("machines/", "allocate", {})).json();
      for (const [key, kind] of Object.entries(FIELDS)) {
        assert.ok(key in m, `missing ${key}`);
        assert.ok(matches(m[key], kind), `${key} is ${kindOf(m[key])}, expected ${kind}`);
      }
      assert.deepEqual(Object.keys(m).filter((k) => !(k in FIELDS)), []);
      assert.ok(["on", "off", "unknown", "error"].includes(m.power_state as string));
      const zone = m.zone as Record<string, unknown>;
      assert.deepEqual(Object.keys(zone).sort(), ["description", "id", "name", "resource_uri"]);
      assert.equal((m.pool as Record<string, unknown>).resource_uri, "/MAAS/api/2.0/resourcepool/0/");
      assert.deepEqual(Object.keys(m.domain as object).sort(), ["authoritative", "id", "is_default", "name", "resource_record_count", "resource_uri", "ttl"]);
      assert.ok(Object.values(m.hardware_info as object).every((v) => typeof v === "string"));
      assert.equal(m.resource_uri, `/MAAS/api/2.0/machines/${m.system_id as string}/`);
    } finally {
      await h.sim.close();
    }
  });

  it("has constraints_by_type only in the allocate response, as MAAS sets it only there", async () => {
    const h = await startHarness();
    try {
      const [m] = (await h.client.get("machines/")).json<Array<Record<string, unknown>>>();
      assert.equal("constraints_by_type" in (m ?? {}), false);
    } finally {
      await h.sim.close();
    }
  });

  describe("fields by MAAS version", () => {
    const cases: Array<[string, string[], string[]]> = [
      ["3.7.0", ["is_dpu", "enable_kernel_crash_dump", "ephemeral_deploy", "error_description"], []],
      ["3.6.0", ["enable_kernel_crash_dump", "ephemeral_deploy"], ["is_dpu"]],
      ["3.5.0", ["ephemeral_deploy", "error_description", "enable_hw_sync"], ["enable_kernel_crash_dump"]],
      ["3.4.2", ["ephemeral_deploy", "enable_hw_sync"], ["error_description"]],
      ["3.4.0", ["enable_hw_sync", "parent"], ["ephemeral_deploy"]],
      ["3.3.7", ["ephemeral_deploy", "enable_hw_sync"], []],
      ["3.3.6", ["parent", "last_sync"], ["ephemeral_deploy", "enable_hw_sync"]],
      ["2.9.2", ["virtualmachine_id", "iscsiblockdevice_set"], ["workload_annotations", "last_sync", "parent"]],
    ];
    for (const [version, present, absent] of cases) {
      it(`${version} has ${present.join(", ")}${absent.length ? ` and lacks ${absent.join(", ")}` : ""}`, async () => {
        const h = await startHarness({ maasVersion: version, machines: 1 });
        try {
          const [m] = (await h.client.get("machines/")).json<Array<Record<string, unknown>>>();
          for (const key of present) assert.ok(key in (m ?? {}), `${version} should have ${key}`);
          for (const key of absent) assert.ok(!(key in (m ?? {})), `${version} should not have ${key}`);
        } finally {
          await h.sim.close();
        }
      });
    }
  });
});

describe("GET version/", () => {
  for (const version of ["3.6.0", "3.4.2", "3.0.0~beta1"]) {
    it(`reports the configured version ${version} with MAAS's fixed capabilities`, async () => {
      const h = await startHarness({ maasVersion: version });
      try {
        const r = await h.client.get("version/", {}, { auth: "none" });
        assert.equal(r.headers.get("content-type"), "application/json; charset=utf-8");
        assert.deepEqual(r.json(), {
          capabilities: ["networks-management", "static-ipaddresses", "ipv6-deployment-ubuntu", "devices-management", "storage-deployment-ubuntu", "network-deployment-ubuntu", "bridging-interface-ubuntu", "bridging-automatic-ubuntu", "authenticate-api"],
          version,
          subversion: "",
        });
      } finally {
        await h.sim.close();
      }
    });
  }
});
