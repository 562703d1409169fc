// MaasMachine against a real kube-apiserver: what the generated CRD accepts, refuses,
// defaults, and shows in `kubectl get`.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { useSharedTestEnv } from "../../testenv/index.ts";
import type { TestEnvHandle } from "../../testenv/index.ts";
import { API_VERSION, EPHEMERAL_ALIAS_MESSAGE, effectiveEphemeral } from "../../../src/api/v1beta1/index.ts";
import type { MaasMachineSpec, MaasMachineStatus } from "../../../src/api/v1beta1/index.ts";
import { MaasApi, assertRejected, createNamespace, deleteNamespace, parseTable } from "./api-client.ts";
import type { Stored } from "./api-client.ts";

type StoredMachine = Stored<MaasMachineSpec, MaasMachineStatus>;

const spec: MaasMachineSpec = { minCPU: 2, minMemory: 4096, image: "ubuntu/jammy" };

function machine(name: string, specOverride: Record<string, unknown> = {}, labels: Record<string, string> = {}): object {
  return { apiVersion: API_VERSION, kind: "MaasMachine", metadata: { name, labels }, spec: { ...spec, ...specOverride } };
}

describe("MaasMachine on the API server", () => {
  let env: TestEnvHandle;
  let namespace: string;
  let api: MaasApi;

  before(async () => {
    env = await useSharedTestEnv();
    namespace = await createNamespace(env.kubeConfig(), "api-maasmachine");
    api = new MaasApi(env.kubeConfig(), namespace);
  });

  after(async () => {
    if (env) await deleteNamespace(env.kubeConfig(), namespace);
    await env?.stop();
  });

  describe("a valid object", () => {
    it("is accepted and reads back as written", async () => {
      const full = {
        ...spec,
        minDiskSize: 40,
        resourcePool: "default",
        tags: ["gpu", "rack-1"],
        failureDomain: "zone-a",
        ephemeral: true,
        releasePolicy: "secure-erase",
      };
      await api.create("maasmachines", machine("full", full));
      const got = await api.get<StoredMachine>("maasmachines", "full");
      assert.deepEqual(got.spec, full);
      assert.equal(got.apiVersion, API_VERSION);
    });

    it("gets ephemeral defaulted to false", async () => {
      const created = await api.create<StoredMachine>("maasmachines", machine("defaults"));
      assert.equal(created.spec.ephemeral, false);
      assert.equal(created.spec.deployInMemory, undefined);
    });

    for (const image of ["jammy", "ubuntu/jammy", "rhel/rocky-92", "custom/name"]) {
      it(`accepts the image form ${image}`, async () => {
        const name = `image-${image.replace(/[^a-z0-9]/g, "-")}`;
        const created = await api.create<StoredMachine>("maasmachines", machine(name, { image }));
        assert.equal(created.spec.image, image);
      });
    }
  });

  describe("an invalid object is refused by the server, naming the field", () => {
    const cases: [string, Record<string, unknown>, string[]][] = [
      ["a negative minCPU", { minCPU: -1 }, ["spec.minCPU", "greater than or equal to 1"]],
      ["zero minMemory", { minMemory: 0 }, ["spec.minMemory"]],
      ["an empty image", { image: "" }, ["spec.image"]],
      ["an image with three parts", { image: "a/b/c" }, ["spec.image", "should match"]],
      ["an image with a space", { image: "ubuntu jammy" }, ["spec.image", "should match"]],
      ["an image with a leading slash", { image: "/jammy" }, ["spec.image", "should match"]],
      ["an image with a trailing slash", { image: "ubuntu/" }, ["spec.image", "should match"]],
      ["an image with shell characters", { image: "jammy;rm" }, ["spec.image", "should match"]],
      ['ephemeral: "yes"', { ephemeral: "yes" }, ["spec.ephemeral", "boolean"]],
      ["duplicate tags", { tags: ["a", "a"] }, ["spec.tags[1]", "Duplicate value"]],
      ["an unknown releasePolicy", { releasePolicy: "shred" }, ["spec.releasePolicy", "none", "quick-erase", "secure-erase"]],
    ];
    for (const [name, override, fragments] of cases) {
      it(`refuses ${name}`, async () => {
        await assertRejected(api.create("maasmachines", machine("bad", override)), fragments);
      });
    }

    it("refuses a missing image and minCPU together, naming both", async () => {
      const body = { apiVersion: API_VERSION, kind: "MaasMachine", metadata: { name: "bad" }, spec: { minMemory: 1 } };
      await assertRejected(api.create("maasmachines", body), ["spec.image", "spec.minCPU", "Required value"]);
    });

    it("refuses an object without spec", async () => {
      const body = { apiVersion: API_VERSION, kind: "MaasMachine", metadata: { name: "bad" } };
      await assertRejected(api.create("maasmachines", body), ["spec"]);
    });
  });

  describe("the deprecated deployInMemory alias", () => {
    const refused: [string, Record<string, unknown>][] = [
      ["ephemeral true with deployInMemory false", { ephemeral: true, deployInMemory: false }],
    ];
    for (const [name, override] of refused) {
      it(`refuses ${name}, naming both fields and the fix`, async () => {
        const message = await assertRejected(api.create("maasmachines", machine("alias-bad", override)), [
          "spec.deployInMemory",
          EPHEMERAL_ALIAS_MESSAGE,
        ]);
        assert.match(message, /ephemeral/);
      });
    }

    // [name, object name, spec override, stored ephemeral, effective (memory?)]
    const accepted: [string, string, Record<string, unknown>, boolean, boolean][] = [
      ["both true", "alias-both-true", { ephemeral: true, deployInMemory: true }, true, true],
      ["both false", "alias-both-false", { ephemeral: false, deployInMemory: false }, false, false],
      ["deployInMemory false alone", "alias-false", { deployInMemory: false }, false, false],
      // ephemeral is defaulted to false before validation; the alias still means memory.
      ["deployInMemory true alone", "alias-true", { deployInMemory: true }, false, true],
      ["ephemeral false with deployInMemory true", "alias-mixed", { ephemeral: false, deployInMemory: true }, false, true],
    ];
    for (const [name, objectName, override, storedEphemeral, effective] of accepted) {
      it(`accepts ${name}`, async () => {
        const created = await api.create<StoredMachine>("maasmachines", machine(objectName, override));
        assert.equal(created.spec.ephemeral, storedEphemeral);
        assert.equal(effectiveEphemeral(created.spec), effective);
      });
    }

    it("refuses an update that makes them contradict", async () => {
      await api.create("maasmachines", machine("alias-update", { ephemeral: false, deployInMemory: false }));
      await assertRejected(api.patch("maasmachines", "alias-update", { spec: { ephemeral: true } }), ["spec.deployInMemory"]);
    });
  });

  describe("providerID and systemID", () => {
    it("may be set once and then not changed", async () => {
      await api.create("maasmachines", machine("ids"));
      await api.patch("maasmachines", "ids", { spec: { systemID: "abc123", providerID: "maas:///zone-a/abc123" } });
      await assertRejected(api.patch("maasmachines", "ids", { spec: { systemID: "def456" } }), [
        "spec.systemID",
        "systemID is immutable once set",
      ]);
      await assertRejected(api.patch("maasmachines", "ids", { spec: { providerID: "maas:///zone-b/def456" } }), [
        "spec.providerID",
        "providerID is immutable once set",
      ]);
      const got = await api.get<StoredMachine>("maasmachines", "ids");
      assert.equal(got.spec.systemID, "abc123");
    });
  });

  describe("the status subresource", () => {
    const status: MaasMachineStatus = {
      ready: true,
      initialization: { provisioned: true },
      machineState: "Deployed",
      machinePowered: true,
      hostname: "node-1",
      deploymentTarget: "memory",
      addresses: [{ type: "InternalIP", address: "10.0.0.5" }],
      conditions: [{ type: "Ready", status: "True", reason: "Ready", message: "", lastTransitionTime: "2025-01-02T03:04:05Z" }],
    };

    it("drops status sent with a create", async () => {
      const created = await api.create<StoredMachine>("maasmachines", { ...machine("status-on-create"), status });
      assert.equal(created.status, undefined);
    });

    it("takes a status write without touching spec", async () => {
      await api.create("maasmachines", machine("status-write"));
      const written = await api.patchStatus<StoredMachine>("maasmachines", "status-write", { spec: { minCPU: 64 }, status });
      assert.deepEqual(written.status, status);
      assert.equal(written.spec.minCPU, spec.minCPU);
    });

    it("takes a spec write without touching status", async () => {
      await api.create("maasmachines", machine("spec-write"));
      await api.patchStatus("maasmachines", "spec-write", { status });
      const written = await api.patch<StoredMachine>("maasmachines", "spec-write", {
        spec: { minCPU: 8 },
        status: { machineState: "Broken" },
      });
      assert.equal(written.spec.minCPU, 8);
      assert.deepEqual(written.status, status);
    });

    it("keeps a terminal failure's reason and message (CAPI v1beta1 contract)", async () => {
      await api.create("maasmachines", machine("status-failed"));
      const failed: MaasMachineStatus = {
        ready: false,
        failureReason: "CreateError",
        failureMessage: "MAAS has no machine with 64 cores in pool default",
        machineState: "Failed deployment",
        machinePowered: false,
        deploymentTarget: "disk",
      };
      const written = await api.patchStatus<StoredMachine>("maasmachines", "status-failed", { status: failed });
      assert.deepEqual(written.status, failed);
    });

    it("refuses a bad status, naming the field", async () => {
      await api.create("maasmachines", machine("status-bad"));
      await assertRejected(api.patchStatus("maasmachines", "status-bad", { status: { deploymentTarget: "ram" } }), [
        "status.deploymentTarget",
        "Unsupported value",
      ]);
      await assertRejected(
        api.patchStatus("maasmachines", "status-bad", { status: { addresses: [{ type: "PublicIP", address: "1.2.3.4" }] } }),
        ["status.addresses[0].type"],
      );
    });
  });

  describe("kubectl get", () => {
    const wide = ["NAME", "CLUSTER", "STATE", "SYSTEM ID", "PROVIDERID", "EPHEMERAL", "READY", "AGE"];

    before(async () => {
      await api.create(
        "maasmachines",
        machine("shown", { ephemeral: true, systemID: "xy7k3p", providerID: "maas:///zone-a/xy7k3p" }, {
          "cluster.x-k8s.io/cluster-name": "c1",
        }),
      );
      await api.patchStatus("maasmachines", "shown", {
        status: {
          machineState: "Deployed",
          // No message: TypeScript writers omit unset fields, and the schema allows it.
          conditions: [{ type: "Ready", status: "True", reason: "Ready", lastTransitionTime: "2025-01-02T03:04:05Z" }],
        },
      });
    });

    it("shows the printer columns with -o wide", async () => {
      const result = await env.kubectl(["get", "maasmachines", "shown", "-n", namespace, "-o", "wide"]);
      assert.equal(result.code, 0, result.stderr);
      const [row] = parseTable(result.stdout, wide);
      assert.ok(row, result.stdout);
      assert.deepEqual(Object.fromEntries([...row].filter(([k]) => k !== "AGE")), {
        NAME: "shown",
        CLUSTER: "c1",
        STATE: "Deployed",
        "SYSTEM ID": "xy7k3p",
        PROVIDERID: "maas:///zone-a/xy7k3p",
        EPHEMERAL: "true",
        READY: "True",
      });
      assert.match(row.get("AGE") ?? "", /^\d+[smhd]/);
    });

    it("shows cluster, state, system ID, ephemeral, ready and age without -o wide, and no provider ID", async () => {
      const result = await env.kubectl(["get", "maasmachines", "shown", "-n", namespace]);
      assert.equal(result.code, 0, result.stderr);
      const header = result.stdout.split("\n")[0] ?? "";
      assert.doesNotMatch(header, /PROVIDERID/);
      assert.match(header, /^NAME\s+CLUSTER\s+STATE\s+SYSTEM ID\s+EPHEMERAL\s+READY\s+AGE$/);
      const [row] = parseTable(result.stdout, wide.filter((h) => h !== "PROVIDERID"));
      assert.ok(row, result.stdout);
      assert.deepEqual(Object.fromEntries([...row].filter(([k]) => k !== "AGE")), {
        NAME: "shown",
        CLUSTER: "c1",
        STATE: "Deployed",
        "SYSTEM ID": "xy7k3p",
        EPHEMERAL: "true",
        READY: "True",
      });
      assert.match(row.get("AGE") ?? "", /^\d+[smhd]/);
    });

    it("answers to its short name", async () => {
      const result = await env.kubectl(["get", "maasm", "shown", "-n", namespace, "-o", "name"]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.trim(), "maasmachine.infrastructure.cluster.x-k8s.io/shown");
    });

    it("is listed in the cluster-api category", async () => {
      const result = await env.kubectl(["get", "cluster-api", "-n", namespace, "-o", "name"]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^maasmachine\.infrastructure\.cluster\.x-k8s\.io\/shown$/m);
    });
  });
});
