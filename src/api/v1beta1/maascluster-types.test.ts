import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Value } from "@sinclair/typebox/value";
import { MaasClusterSpecSchema, MaasClusterStatusSchema } from "./index.ts";
import type { MaasClusterSpec, MaasClusterStatus } from "./index.ts";

function errorPaths(schema: Parameters<typeof Value.Errors>[0], value: unknown): string[] {
  return [...Value.Errors(schema, value)].map((e) => e.path);
}

describe("MaasClusterSpec schema", () => {
  describe("accepts", () => {
    const cases: [string, MaasClusterSpec][] = [
      ["a DNS domain alone", { dnsDomain: "maas" }],
      ["a multi-label DNS domain", { dnsDomain: "k8s.example.com" }],
      ["an endpoint and zones", { dnsDomain: "maas", controlPlaneEndpoint: { host: "c.maas", port: 6443 }, failureDomains: ["az1", "az2"] }],
      ["an endpoint with only a host", { dnsDomain: "maas", controlPlaneEndpoint: { host: "c.maas" } }],
    ];
    for (const [name, spec] of cases) {
      it(name, () => assert.deepEqual(errorPaths(MaasClusterSpecSchema, spec), []));
    }
  });

  describe("rejects", () => {
    const cases: [string, unknown, string][] = [
      ["a missing DNS domain", {}, "/dnsDomain"],
      ["an empty DNS domain", { dnsDomain: "" }, "/dnsDomain"],
      ["a DNS domain with upper case", { dnsDomain: "Example.com" }, "/dnsDomain"],
      ["a DNS domain with a trailing dot", { dnsDomain: "example.com." }, "/dnsDomain"],
      ["a DNS domain with a space", { dnsDomain: "exa mple.com" }, "/dnsDomain"],
      ["port 0", { dnsDomain: "maas", controlPlaneEndpoint: { host: "h", port: 0 } }, "/controlPlaneEndpoint/port"],
      ["port 65536", { dnsDomain: "maas", controlPlaneEndpoint: { host: "h", port: 65536 } }, "/controlPlaneEndpoint/port"],
      ["an empty endpoint host", { dnsDomain: "maas", controlPlaneEndpoint: { host: "" } }, "/controlPlaneEndpoint/host"],
      ["an empty endpoint", { dnsDomain: "maas", controlPlaneEndpoint: {} }, "/controlPlaneEndpoint"],
      ["an empty zone name", { dnsDomain: "maas", failureDomains: [""] }, "/failureDomains/0"],
    ];
    for (const [name, spec, path] of cases) {
      it(`${name} at ${path}`, () => assert.ok(errorPaths(MaasClusterSpecSchema, spec).includes(path)));
    }
  });
});

describe("MaasClusterStatus schema", () => {
  it("accepts failure domains in the CAPI v1beta2 list shape", () => {
    const status: MaasClusterStatus = {
      ready: true,
      initialization: { provisioned: true },
      dnsName: "c.maas",
      failureDomains: [
        { name: "az1", controlPlane: true, attributes: { rack: "r1" } },
        { name: "az2" },
      ],
    };
    assert.deepEqual(errorPaths(MaasClusterStatusSchema, status), []);
  });

  it("rejects the v1beta1 map shape of failure domains", () => {
    const status = { failureDomains: { az1: { controlPlane: true } } };
    assert.ok(errorPaths(MaasClusterStatusSchema, status).includes("/failureDomains"));
  });

  it("rejects a failure domain attribute that is not a string, naming its key", () => {
    const status = { failureDomains: [{ name: "az1", attributes: { rack: 1 } }] };
    assert.ok(errorPaths(MaasClusterStatusSchema, status).includes("/failureDomains/0/attributes/rack"));
  });
});
