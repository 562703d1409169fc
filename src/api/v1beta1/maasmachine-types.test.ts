import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Value } from "@sinclair/typebox/value";
import {
  API_VERSION,
  MaasMachineSchema,
  MaasMachineSpecSchema,
  MaasMachineStatusSchema,
  effectiveEphemeral,
} from "./index.ts";
import type { MaasMachine, MaasMachineSpec } from "./index.ts";

const validSpec: MaasMachineSpec = { minCPU: 2, minMemory: 4096, image: "ubuntu/jammy" };

/** Paths of the fields TypeBox objects to, e.g. ["/minCPU"]. */
function errorPaths(schema: Parameters<typeof Value.Errors>[0], value: unknown): string[] {
  return [...Value.Errors(schema, value)].map((e) => e.path);
}

describe("MaasMachineSpec schema", () => {
  describe("accepts", () => {
    const cases: [string, MaasMachineSpec][] = [
      ["the minimum: cpu, memory, image", validSpec],
      ["a bare series image", { ...validSpec, image: "jammy" }],
      ["a non-Ubuntu image", { ...validSpec, image: "rhel/rocky-92" }],
      ["a custom image", { ...validSpec, image: "custom/name" }],
      ["an image with dots and underscores", { ...validSpec, image: "ubuntu/22.04_lts" }],
      [
        "every optional field",
        {
          ...validSpec,
          minDiskSize: 20,
          resourcePool: "default",
          tags: ["control-plane", "gpu"],
          failureDomain: "zone-a",
          providerID: "maas:///zone-a/abc123",
          systemID: "abc123",
          ephemeral: true,
          deployInMemory: true,
        },
      ],
      ["ephemeral false", { ...validSpec, ephemeral: false }],
    ];
    for (const [name, spec] of cases) {
      it(name, () => assert.deepEqual(errorPaths(MaasMachineSpecSchema, spec), []));
    }
  });

  describe("rejects", () => {
    const cases: [string, unknown, string][] = [
      ["a negative minCPU", { ...validSpec, minCPU: -1 }, "/minCPU"],
      ["zero minCPU", { ...validSpec, minCPU: 0 }, "/minCPU"],
      ["a fractional minCPU", { ...validSpec, minCPU: 1.5 }, "/minCPU"],
      ["a missing minMemory", { minCPU: 1, image: "jammy" }, "/minMemory"],
      ["zero minMemory", { ...validSpec, minMemory: 0 }, "/minMemory"],
      ["zero minDiskSize", { ...validSpec, minDiskSize: 0 }, "/minDiskSize"],
      ["a missing image", { minCPU: 1, minMemory: 1 }, "/image"],
      ["an empty image", { ...validSpec, image: "" }, "/image"],
      ["an image with a space", { ...validSpec, image: "ubuntu jammy" }, "/image"],
      ["an image with two slashes", { ...validSpec, image: "a/b/c" }, "/image"],
      ["an image with a leading slash", { ...validSpec, image: "/jammy" }, "/image"],
      ["an image with a trailing slash", { ...validSpec, image: "ubuntu/" }, "/image"],
      ["ephemeral given as a string", { ...validSpec, ephemeral: "yes" }, "/ephemeral"],
      ["deployInMemory given as a string", { ...validSpec, deployInMemory: "true" }, "/deployInMemory"],
      ["an empty tag", { ...validSpec, tags: [""] }, "/tags/0"],
      ["a tag with a space", { ...validSpec, tags: ["a b"] }, "/tags/0"],
      ["an empty resource pool", { ...validSpec, resourcePool: "" }, "/resourcePool"],
    ];
    for (const [name, spec, path] of cases) {
      it(`${name} at ${path}`, () => assert.ok(errorPaths(MaasMachineSpecSchema, spec).includes(path)));
    }
  });
});

describe("effectiveEphemeral", () => {
  const cases: [Pick<MaasMachineSpec, "ephemeral" | "deployInMemory">, boolean][] = [
    [{}, false],
    [{ ephemeral: true }, true],
    [{ ephemeral: false }, false],
    [{ deployInMemory: true }, true],
    [{ deployInMemory: false }, false],
    [{ ephemeral: true, deployInMemory: true }, true],
    [{ ephemeral: false, deployInMemory: false }, false],
    // The server stores a defaulted ephemeral: false beside the alias; the alias wins.
    [{ ephemeral: false, deployInMemory: true }, true],
    // Refused by the server's CEL rule; memory still wins for a spec built in code.
    [{ ephemeral: true, deployInMemory: false }, true],
  ];
  for (const [spec, expected] of cases) {
    it(`is ${String(expected)} for ${JSON.stringify(spec)}`, () => assert.equal(effectiveEphemeral(spec), expected));
  }
});

describe("MaasMachineStatus schema", () => {
  it("accepts a deployed machine's status", () => {
    const status = {
      ready: true,
      initialization: { provisioned: true },
      addresses: [
        { type: "Hostname", address: "node-1" },
        { type: "InternalIP", address: "10.0.0.5" },
      ],
      conditions: [
        { type: "Ready", status: "True", reason: "Ready", message: "", lastTransitionTime: "2025-01-02T03:04:05Z" },
        {
          type: "MachineDeployed",
          status: "True",
          reason: "MachineDeployed",
          message: "",
          lastTransitionTime: "2025-01-02T03:04:05.123+01:00",
          observedGeneration: 3,
        },
        // A message left unset reads as empty, as the CAPI contract has it.
        { type: "Paused", status: "False", reason: "NotPaused", lastTransitionTime: "2025-01-02T03:04:05Z" },
      ],
      machineState: "Deployed",
      machinePowered: true,
      hostname: "node-1",
      deploymentTarget: "memory",
      failureDomain: "zone-a",
    };
    assert.deepEqual(errorPaths(MaasMachineStatusSchema, status), []);
  });

  const cases: [string, unknown, string][] = [
    ["an unknown address type", { addresses: [{ type: "PublicIP", address: "1.2.3.4" }] }, "/addresses/0/type"],
    ["an empty address", { addresses: [{ type: "InternalIP", address: "" }] }, "/addresses/0/address"],
    ["a deployment target other than memory or disk", { deploymentTarget: "ram" }, "/deploymentTarget"],
    [
      "a condition status other than True/False/Unknown",
      { conditions: [{ type: "Ready", status: "Yes", reason: "R", message: "", lastTransitionTime: "2025-01-02T03:04:05Z" }] },
      "/conditions/0/status",
    ],
    [
      "a condition time that is not RFC 3339",
      { conditions: [{ type: "Ready", status: "True", reason: "R", message: "", lastTransitionTime: "yesterday" }] },
      "/conditions/0/lastTransitionTime",
    ],
    [
      "a condition without a reason",
      { conditions: [{ type: "Ready", status: "True", message: "", lastTransitionTime: "2025-01-02T03:04:05Z" }] },
      "/conditions/0/reason",
    ],
  ];
  for (const [name, status, path] of cases) {
    it(`rejects ${name} at ${path}`, () => assert.ok(errorPaths(MaasMachineStatusSchema, status).includes(path)));
  }
});

describe("MaasMachine schema", () => {
  it("accepts a whole object and types it", () => {
    const machine: MaasMachine = {
      apiVersion: API_VERSION,
      kind: "MaasMachine",
      metadata: { name: "m-0", namespace: "default", labels: { "cluster.x-k8s.io/cluster-name": "c" } },
      spec: validSpec,
    };
    assert.equal(Value.Check(MaasMachineSchema, machine), true);
  });

  it("rejects another kind", () => {
    const other = { apiVersion: API_VERSION, kind: "MaasCluster", metadata: {}, spec: validSpec };
    assert.ok(errorPaths(MaasMachineSchema, other).includes("/kind"));
  });
});
