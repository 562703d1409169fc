import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Value } from "@sinclair/typebox/value";
import {
  API_VERSION,
  MaasClusterTemplateSchema,
  MaasMachineTemplateSchema,
  MaasMachineTemplateStatusSchema,
} from "./index.ts";
import type { MaasClusterTemplate, MaasMachineTemplate } from "./index.ts";

function errorPaths(schema: Parameters<typeof Value.Errors>[0], value: unknown): string[] {
  return [...Value.Errors(schema, value)].map((e) => e.path);
}

const machineTemplate: MaasMachineTemplate = {
  apiVersion: API_VERSION,
  kind: "MaasMachineTemplate",
  metadata: { name: "workers" },
  spec: {
    template: {
      metadata: { labels: { role: "worker" }, annotations: { note: "x" } },
      spec: { minCPU: 4, minMemory: 8192, image: "ubuntu/noble", ephemeral: true },
    },
  },
  status: { capacity: { cpu: "4", memory: "8192Mi" }, nodeInfo: { architecture: "amd64", operatingSystem: "linux" } },
};

describe("MaasMachineTemplate schema", () => {
  it("accepts a template with metadata, spec and autoscaler capacity", () => {
    assert.deepEqual(errorPaths(MaasMachineTemplateSchema, machineTemplate), []);
  });

  it("checks the embedded MaasMachineSpec", () => {
    const bad = structuredClone(machineTemplate);
    bad.spec.template.spec.minCPU = 0;
    assert.ok(errorPaths(MaasMachineTemplateSchema, bad).includes("/spec/template/spec/minCPU"));
  });

  const statusCases: [string, unknown, string][] = [
    ["a capacity that is not a quantity", { capacity: { memory: "lots" } }, "/capacity/memory"],
    ["a capacity given as a number", { capacity: { cpu: 4 } }, "/capacity/cpu"],
    ["an unknown architecture", { nodeInfo: { architecture: "x86" } }, "/nodeInfo/architecture"],
  ];
  for (const [name, status, path] of statusCases) {
    it(`rejects ${name} at ${path}`, () => assert.ok(errorPaths(MaasMachineTemplateStatusSchema, status).includes(path)));
  }

  it("accepts the quantity forms the autoscaler writes", () => {
    for (const q of ["1", "500m", "8192Mi", "1.5Gi", "2e3", "1k"]) {
      assert.deepEqual(errorPaths(MaasMachineTemplateStatusSchema, { capacity: { x: q } }), [], q);
    }
  });
});

describe("MaasClusterTemplate schema", () => {
  it("accepts a template with a MaasClusterSpec", () => {
    const template: MaasClusterTemplate = {
      apiVersion: API_VERSION,
      kind: "MaasClusterTemplate",
      metadata: { name: "cc" },
      spec: { template: { spec: { dnsDomain: "maas" } } },
    };
    assert.deepEqual(errorPaths(MaasClusterTemplateSchema, template), []);
  });

  it("requires the DNS domain in the embedded spec", () => {
    const template = { apiVersion: API_VERSION, kind: "MaasClusterTemplate", metadata: {}, spec: { template: { spec: {} } } };
    assert.ok(errorPaths(MaasClusterTemplateSchema, template).includes("/spec/template/spec/dnsDomain"));
  });
});
