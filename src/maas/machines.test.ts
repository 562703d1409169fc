import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MaasError } from "./errors.ts";
import type { MaasAnswer, MaasRequest, MaasRequester } from "./http.ts";
import { Value } from "@sinclair/typebox/value";
import { MachineSchema, MachineStatus, deploymentTarget, typedFieldsOf } from "./machine.ts";
import { MaasMachinesService, distroSeriesParam } from "./machines.ts";

/** A Ready machine as MAAS 3.6 lists it (DISPLAYED_MACHINE_FIELDS, abridged). */
function readyMachine(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    system_id: "4y3h7n",
    hostname: "stable-fox",
    description: "",
    hardware_uuid: "8a4b1c2d-0000-4000-8000-000000000001",
    domain: { authoritative: true, ttl: null, is_default: true, resource_record_count: 0, id: 0, name: "maas", resource_uri: "/MAAS/api/2.0/domains/0/" },
    fqdn: "stable-fox.maas",
    owner: null,
    owner_data: {},
    locked: false,
    architecture: "amd64/generic",
    min_hwe_kernel: "",
    hwe_kernel: null,
    cpu_count: 4,
    cpu_speed: 2400,
    memory: 8192,
    swap_size: null,
    storage: 256060.555264,
    status: 4,
    osystem: "",
    distro_series: "",
    ephemeral_deploy: false,
    error_description: "",
    netboot: true,
    power_type: "ipmi",
    power_state: "off",
    tag_names: ["virtual", "control-plane"],
    address_ttl: null,
    ip_addresses: [],
    interface_set: [{ id: 7, name: "eth0", mac_address: "52:54:00:12:34:56" }],
    zone: { name: "zone-a", description: "", id: 2, resource_uri: "/MAAS/api/2.0/zones/zone-a/" },
    pool: { name: "default", description: "Default pool", id: 0, resource_uri: "/MAAS/api/2.0/resourcepool/0/" },
    status_action: "",
    status_message: "Ready",
    status_name: "Ready",
    node_type: 0,
    node_type_name: "Machine",
    enable_hw_sync: false,
    enable_kernel_crash_dump: false,
    workload_annotations: {},
    hardware_info: { system_vendor: "QEMU", cpu_model: "Intel Core Processor" },
    resource_uri: "/MAAS/api/2.0/machines/4y3h7n/",
    ...overrides,
  };
}

/** Stands in for the wire: records what a service asks for and answers from a script. */
class RecordingRequester implements MaasRequester {
  readonly requests: MaasRequest[] = [];
  constructor(private readonly answer: (request: MaasRequest) => unknown) {}
  request(request: MaasRequest): Promise<MaasAnswer> {
    this.requests.push(request);
    return Promise.resolve({ status: 200, json: this.answer(request) });
  }
}

function service(answer: (request: MaasRequest) => unknown = () => readyMachine()) {
  const requester = new RecordingRequester(answer);
  return { requester, machines: new MaasMachinesService(requester) };
}

describe("MachinesService", () => {
  describe("list", () => {
    it("sends ReadNodesForm's filter names with lists as lists", async () => {
      const { requester, machines } = service(() => [readyMachine(), readyMachine({ system_id: "b2" })]);
      const result = await machines.list({ systemIds: ["a1", "b2"], hostnames: ["h"], zone: "z", pool: "p", tags: ["t1", "t2"], agentName: "capi-x" });
      assert.equal(result.length, 2);
      assert.deepEqual(requester.requests[0], {
        method: "GET",
        path: "machines/",
        query: { id: ["a1", "b2"], hostname: ["h"], zone: "z", pool: "p", tags: ["t1", "t2"], agent_name: "capi-x" },
      });
    });

    it("names the bad element and field when one machine in the list is malformed", async () => {
      const { machines } = service(() => [readyMachine(), readyMachine({ zone: "zone-a" })]);
      await assert.rejects(machines.list(), (error: unknown) => {
        assert.ok(error instanceof MaasError);
        assert.equal(error.code, "Unexpected");
        assert.match(error.message, /GET machines\/.*field \/1\/zone/);
        return true;
      });
    });
  });

  describe("get", () => {
    it("reads the typed fields and keeps the ones the type does not name", async () => {
      const { requester, machines } = service();
      const machine = await machines.get("4y3h7n");
      assert.equal(requester.requests[0]?.path, "machines/4y3h7n/");
      assert.equal(machine.system_id, "4y3h7n");
      assert.equal(machine.status, MachineStatus.Ready);
      assert.equal(machine.zone.name, "zone-a");
      assert.equal(machine.pool?.name, "default");
      assert.equal(machine.memory, 8192);
      assert.deepEqual(machine.tag_names, ["virtual", "control-plane"]);
      assert.equal(machine.ephemeral_deploy, false);
      assert.deepEqual(machine.hardware_info, { system_vendor: "QEMU", cpu_model: "Intel Core Processor" });
      assert.equal(machine.node_type_name, "Machine");
      assert.equal((machine.zone as Record<string, unknown>).resource_uri, "/MAAS/api/2.0/zones/zone-a/");
    });

    it("accepts a machine from MAAS before 3.3.7/3.4.2, which has no ephemeral_deploy", async () => {
      const old = readyMachine();
      delete old.ephemeral_deploy;
      const machine = await service(() => old).machines.get("4y3h7n");
      assert.equal(machine.ephemeral_deploy, undefined);
      assert.equal(deploymentTarget(machine), undefined);
    });

    it("refuses a machine whose status is not a number, naming the field", async () => {
      await assert.rejects(service(() => readyMachine({ status: "Ready" })).machines.get("4y3h7n"), (error: unknown) => {
        assert.ok(error instanceof MaasError);
        assert.equal(error.code, "Unexpected");
        assert.equal(error.op, "GET machines/4y3h7n/");
        assert.match(error.message, /field \/status/);
        return true;
      });
    });

    it("labels a malformed answer to an operation with its op, as the HTTP layer labels its errors", async () => {
      await assert.rejects(service(() => readyMachine({ status: "Deploying" })).machines.deploy("4y3h7n"), (error: unknown) => {
        assert.ok(error instanceof MaasError);
        assert.equal(error.code, "Unexpected");
        assert.equal(error.op, "POST machines/4y3h7n/?op=deploy");
        return true;
      });
    });

    it("escapes the system id into one path segment", async () => {
      const { requester, machines } = service();
      await machines.get("../tags");
      assert.equal(requester.requests[0]?.path, "machines/..%2Ftags/");
    });
  });

  describe("allocate", () => {
    it("maps constraints onto AcquireNodeForm names and is not marked idempotent", async () => {
      const { requester, machines } = service(() => readyMachine({ status: 10, status_name: "Allocated", owner: "admin" }));
      const machine = await machines.allocate({
        cpuCount: 2, memoryMiB: 4096, tags: ["cp"], notTags: ["gpu"], zone: "zone-a", pool: "default",
        systemId: "4y3h7n", name: "stable-fox", storage: "root:40(ssd),data:500", agentName: "capi:ns/m1", comment: "for ns/m1",
      });
      assert.equal(machine.status, MachineStatus.Allocated);
      assert.deepEqual(requester.requests[0], {
        method: "POST", path: "machines/", op: "allocate", idempotent: false,
        form: {
          cpu_count: 2, mem: 4096, tags: ["cp"], not_tags: ["gpu"], zone: "zone-a", pool: "default",
          system_id: "4y3h7n", name: "stable-fox", storage: "root:40(ssd),data:500", agent_name: "capi:ns/m1", comment: "for ns/m1", dry_run: undefined,
        },
      });
    });

    it("marks a dry run idempotent, since it allocates nothing", async () => {
      const { requester, machines } = service();
      await machines.allocate({ dryRun: true });
      assert.equal(requester.requests[0]?.idempotent, true);
      assert.equal(requester.requests[0]?.form?.dry_run, "true");
    });
  });

  describe("deploy", () => {
    it("sends ephemeral_deploy=true and base64 user data for a deploy to memory", async () => {
      const { requester, machines } = service(() => readyMachine({ status: 9, ephemeral_deploy: true }));
      const machine = await machines.deploy("4y3h7n", { distroSeries: "ubuntu/jammy", userData: "#cloud-config\nruncmd: [kubeadm init]\n", ephemeralDeploy: true });
      const request = requester.requests[0];
      assert.equal(request?.op, "deploy");
      assert.equal(request?.path, "machines/4y3h7n/");
      assert.equal(request?.form?.ephemeral_deploy, "true");
      assert.equal(request?.form?.distro_series, "ubuntu/jammy");
      assert.equal(Buffer.from(String(request?.form?.user_data), "base64").toString("utf8"), "#cloud-config\nruncmd: [kubeadm init]\n");
      assert.equal(deploymentTarget(machine), "memory");
    });

    for (const ephemeralDeploy of [false, undefined]) {
      it(`does not send ephemeral_deploy at all when it is ${String(ephemeralDeploy)}`, async () => {
        const { requester, machines } = service();
        await machines.deploy("4y3h7n", { distroSeries: "jammy", ephemeralDeploy });
        assert.equal(requester.requests[0]?.form?.ephemeral_deploy, undefined);
      });
    }

    it("encodes binary user data byte for byte", async () => {
      const { requester, machines } = service();
      await machines.deploy("4y3h7n", { userData: new Uint8Array([0, 255, 1]) });
      assert.equal(requester.requests[0]?.form?.user_data, "AP8B");
    });

    it("maps hweKernel, enableHwSync and comment", async () => {
      const { requester, machines } = service();
      await machines.deploy("4y3h7n", { hweKernel: "ga-22.04", enableHwSync: true, comment: "c", agentName: "a" });
      const form = requester.requests[0]?.form;
      assert.equal(form?.hwe_kernel, "ga-22.04");
      assert.equal(form?.enable_hw_sync, "true");
      assert.equal(form?.comment, "c");
      assert.equal(form?.agent_name, "a");
      assert.equal(form?.osystem, undefined);
    });
  });

  describe("distroSeriesParam", () => {
    const table: [string | undefined, string | undefined, string | undefined][] = [
      [undefined, undefined, undefined],
      [undefined, "jammy", "jammy"],
      [undefined, "ubuntu/jammy", "ubuntu/jammy"],
      ["ubuntu", "jammy", "ubuntu/jammy"],
      ["centos", "8", "centos/8"],
      ["ubuntu", "ubuntu/noble", "ubuntu/noble"],
      ["Ubuntu", "ubuntu/noble", "ubuntu/noble"],
    ];
    for (const [osystem, series, expected] of table) {
      it(`osystem ${String(osystem)} + distroSeries ${String(series)} → distro_series ${String(expected)}`, () => {
        assert.equal(distroSeriesParam(osystem, series), expected);
      });
    }
    it("refuses an OS without a series and an OS that contradicts os/series, as BadRequest", () => {
      assert.throws(() => distroSeriesParam("ubuntu", undefined), { code: "BadRequest" });
      assert.throws(() => distroSeriesParam("centos", "ubuntu/jammy"), (error: unknown) => {
        assert.ok(error instanceof MaasError && error.code === "BadRequest");
        return true;
      });
    });
  });

  describe("release, power and update", () => {
    it("sends release flags only when set", async () => {
      const { requester, machines } = service();
      await machines.release("4y3h7n", { erase: true, quickErase: true, force: false, comment: "bye" });
      assert.deepEqual(requester.requests[0], {
        method: "POST", path: "machines/4y3h7n/", route: "machines/{system_id}/", op: "release",
        form: { erase: "true", quick_erase: "true", secure_erase: undefined, force: undefined, comment: "bye" },
      });
    });

    it("powers on with base64 user data and off with a stop mode", async () => {
      const { requester, machines } = service();
      await machines.powerOn("4y3h7n", { userData: "hi", comment: "on" });
      await machines.powerOff("4y3h7n", { stopMode: "soft" });
      assert.deepEqual(requester.requests.map((r) => [r.op, r.form]), [
        ["power_on", { user_data: "aGk=", comment: "on" }],
        ["power_off", { stop_mode: "soft", comment: undefined }],
      ]);
    });

    it("updates with PUT and MAAS's field names", async () => {
      const { requester, machines } = service();
      await machines.update("4y3h7n", { hostname: "new-name", swapSize: 1024 });
      assert.deepEqual(requester.requests[0], { method: "PUT", path: "machines/4y3h7n/", route: "machines/{system_id}/", form: { hostname: "new-name", swap_size: 1024 } });
    });
  });
});

describe("deploymentTarget", () => {
  it("reads memory or disk from ephemeral_deploy", () => {
    assert.equal(deploymentTarget({ ephemeral_deploy: true }), "memory");
    assert.equal(deploymentTarget({ ephemeral_deploy: false }), "disk");
    assert.equal(deploymentTarget({}), undefined);
  });
});

describe("typedFieldsOf", () => {
  it("keeps every field MachineSchema types, with its value, and drops the rest", async () => {
    const { machines } = service(() => [readyMachine()]);
    const [machine] = await machines.list();
    assert.ok(machine !== undefined);
    const kept = typedFieldsOf(machine);
    assert.equal(Value.Check(MachineSchema, kept), true);
    for (const field of Object.keys(MachineSchema.properties)) {
      if (field in machine) assert.deepEqual(kept[field], machine[field], field);
    }
    for (const dropped of ["interface_set", "hardware_info", "owner_data", "storage"]) assert.equal(dropped in kept, false, dropped);
    assert.ok(Object.keys(kept).length < Object.keys(machine).length);
  });
});
