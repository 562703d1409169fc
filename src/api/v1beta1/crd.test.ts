import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Type } from "@sinclair/typebox";
import { parse } from "yaml";
import {
  CONTRACT_LABELS,
  EPHEMERAL_ALIAS_MESSAGE,
  buildCrd,
  crdSources,
  diffCrdFiles,
  generateCrdFiles,
  structuralViolations,
  toStructuralSchema,
} from "./index.ts";
import type { JsonObject, JsonValue } from "./index.ts";
import { StringEnum, StringMap } from "./schema-helpers.ts";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const crds = new Map(crdSources.map((source) => [source.kind, buildCrd(source)]));

function obj(value: JsonValue | undefined): JsonObject {
  assert.ok(typeof value === "object" && value !== null && !Array.isArray(value), "expected an object");
  return value;
}

function at(root: JsonValue, ...path: string[]): JsonValue | undefined {
  let node: JsonValue | undefined = root;
  for (const key of path) node = node === undefined ? undefined : obj(node)[key];
  return node;
}

function version(kind: string): JsonObject {
  const versions = at(crds.get(kind) ?? {}, "spec", "versions");
  assert.ok(Array.isArray(versions) && versions.length === 1);
  return obj(versions[0]);
}

/** Independent of structuralViolations: the rules as the Kubernetes docs state them. */
function walkNodes(node: JsonObject, path: string, visit: (node: JsonObject, path: string) => void): void {
  visit(node, path);
  const properties = node["properties"];
  if (properties !== undefined) for (const [k, v] of Object.entries(obj(properties))) walkNodes(obj(v), `${path}.${k}`, visit);
  if (node["items"] !== undefined) walkNodes(obj(node["items"]), `${path}[]`, visit);
  if (typeof node["additionalProperties"] === "object") walkNodes(obj(node["additionalProperties"]), `${path}.*`, visit);
}

describe("generated CRDs", () => {
  it("cover the four kinds", () => {
    assert.deepEqual([...crds.keys()].sort(), ["MaasCluster", "MaasClusterTemplate", "MaasMachine", "MaasMachineTemplate"]);
  });

  for (const [kind, crd] of crds) {
    describe(kind, () => {
      const schema = obj(at(version(kind), "schema", "openAPIV3Schema"));

      it("has a structural schema: every node typed, no $ref/anyOf/oneOf/allOf/not/patternProperties/const", () => {
        const problems: string[] = [];
        walkNodes(schema, "", (node, path) => {
          for (const banned of ["$ref", "$id", "anyOf", "oneOf", "allOf", "not", "patternProperties", "const", "definitions"]) {
            if (banned in node) problems.push(`${path}: ${banned}`);
          }
          if (typeof node["type"] !== "string" && node["x-kubernetes-preserve-unknown-fields"] !== true) {
            problems.push(`${path}: no type`);
          }
          if (node["uniqueItems"] === true) problems.push(`${path}: uniqueItems`);
        });
        assert.deepEqual(problems, []);
        assert.deepEqual(structuralViolations(schema), []);
      });

      it("carries the CAPI contract labels", () => {
        assert.deepEqual(at(crd, "metadata", "labels"), { ...CONTRACT_LABELS });
        assert.equal(at(crd, "metadata", "labels", "cluster.x-k8s.io/v1beta2"), "v1beta1");
      });

      it("is namespaced, in the cluster-api category, with a short name", () => {
        assert.equal(at(crd, "spec", "scope"), "Namespaced");
        assert.deepEqual(at(crd, "spec", "names", "categories"), ["cluster-api"]);
        const shortNames = at(crd, "spec", "names", "shortNames");
        assert.ok(Array.isArray(shortNames) && shortNames.length === 1 && String(shortNames[0]).startsWith("maas"));
        assert.equal(at(crd, "metadata", "name"), `${String(at(crd, "spec", "names", "plural"))}.infrastructure.cluster.x-k8s.io`);
      });

      it("serves and stores v1beta1 and requires spec", () => {
        assert.equal(version(kind)["name"], "v1beta1");
        assert.equal(version(kind)["served"], true);
        assert.equal(version(kind)["storage"], true);
        assert.deepEqual(schema["required"], ["spec"]);
        assert.deepEqual(at(schema, "properties", "metadata"), { type: "object" });
      });

      it("has a description on every spec and status field (kubectl explain)", () => {
        const missing: string[] = [];
        for (const part of ["spec", "status"]) {
          const sub = at(schema, "properties", part);
          if (sub === undefined) continue;
          walkNodes(obj(sub), part, (node, path) => {
            // List items and map values are described by their parent field.
            if (!path.endsWith("[]") && !path.endsWith(".*") && typeof node["description"] !== "string") missing.push(path);
          });
        }
        assert.deepEqual(missing, []);
      });

      it("ends its printer columns with Age", () => {
        const columns = version(kind)["additionalPrinterColumns"];
        assert.ok(Array.isArray(columns));
        assert.deepEqual(columns.at(-1), {
          name: "Age",
          type: "date",
          jsonPath: ".metadata.creationTimestamp",
          description: "Time since the object was created.",
        });
      });
    });
  }

  it("gives MaasMachine the columns users expect", () => {
    const columns = version("MaasMachine")["additionalPrinterColumns"];
    assert.ok(Array.isArray(columns));
    const byName = new Map(columns.map((c) => [String(obj(c)["name"]), obj(c)]));
    assert.deepEqual([...byName.keys()], ["Cluster", "State", "System ID", "ProviderID", "Ephemeral", "Ready", "Age"]);
    assert.equal(byName.get("Cluster")?.["jsonPath"], ".metadata.labels['cluster\\.x-k8s\\.io/cluster-name']");
    assert.equal(byName.get("State")?.["jsonPath"], ".status.machineState");
    assert.equal(byName.get("Ephemeral")?.["jsonPath"], ".spec.ephemeral");
    assert.equal(byName.get("Ephemeral")?.["type"], "boolean");
    assert.equal(byName.get("ProviderID")?.["priority"], 1);
  });

  it("gives the machine kinds and MaasCluster a status subresource, and MaasClusterTemplate none", () => {
    for (const kind of ["MaasMachine", "MaasCluster", "MaasMachineTemplate"]) {
      assert.deepEqual(version(kind)["subresources"], { status: {} }, kind);
    }
    assert.equal(version("MaasClusterTemplate")["subresources"], undefined);
  });

  it("defaults ephemeral to false and checks the deployInMemory alias with CEL", () => {
    const spec = obj(at(version("MaasMachine"), "schema", "openAPIV3Schema", "properties", "spec"));
    assert.equal(at(spec, "properties", "ephemeral", "default"), false);
    const rules = spec["x-kubernetes-validations"];
    assert.ok(Array.isArray(rules) && rules.length === 1);
    assert.equal(obj(rules[0])["message"], EPHEMERAL_ALIAS_MESSAGE);
    assert.equal(obj(rules[0])["fieldPath"], ".deployInMemory");
    assert.match(EPHEMERAL_ALIAS_MESSAGE, /ephemeral/);
    assert.match(EPHEMERAL_ALIAS_MESSAGE, /deployInMemory/);
  });

  it("uses the CAPI v1beta2 list shape for MaasCluster status.failureDomains", () => {
    const fd = obj(at(version("MaasCluster"), "schema", "openAPIV3Schema", "properties", "status", "properties", "failureDomains"));
    assert.equal(fd["type"], "array");
    assert.equal(fd["x-kubernetes-list-type"], "map");
    assert.deepEqual(fd["x-kubernetes-list-map-keys"], ["name"]);
  });
});

describe("toStructuralSchema", () => {
  it("emits enums as type string + enum and maps as additionalProperties, without TypeBox symbols", () => {
    const schema = toStructuralSchema(Type.Object({ e: StringEnum(["a", "b"]), m: StringMap() }, { $id: "X" }));
    assert.deepEqual(schema, {
      type: "object",
      required: ["e", "m"],
      properties: {
        e: { type: "string", enum: ["a", "b"] },
        m: { type: "object", additionalProperties: { type: "string" } },
      },
    });
    assert.deepEqual(Object.getOwnPropertySymbols(schema), []);
  });

  const refused: [string, Parameters<typeof toStructuralSchema>[0], RegExp][] = [
    ["a union of literals (anyOf)", Type.Object({ u: Type.Union([Type.Literal("a"), Type.Literal("b")]) }), /\.u: keyword "anyOf"/],
    ["a TypeBox Record (patternProperties)", Type.Object({ r: Type.Record(Type.String(), Type.String()) }), /patternProperties/],
    ["an untyped field", Type.Object({ x: Type.Unknown() }), /\.x: has no type/],
    ["a closed object", Type.Object({ a: Type.String() }, { additionalProperties: false }), /additionalProperties must be a schema/],
  ];
  for (const [name, schema, message] of refused) {
    it(`refuses ${name}`, () => assert.throws(() => toStructuralSchema(schema), message));
  }
});

describe("committed CRD files", () => {
  it("equal what the generator produces (run `make generate` if this fails)", async () => {
    for (const [path, text] of generateCrdFiles()) {
      const committed = await readFile(join(repoRoot, path), "utf8").catch(() => "<missing>");
      assert.equal(committed, text, path);
    }
  });

  it("parse as one CRD document per file", async () => {
    for (const source of crdSources) {
      const path = join(repoRoot, "config", "crd", "bases", `infrastructure.cluster.x-k8s.io_${source.plural}.yaml`);
      const doc = parse(await readFile(path, "utf8")) as JsonObject;
      assert.equal(doc["kind"], "CustomResourceDefinition");
      assert.deepEqual(doc, buildCrd(source));
    }
  });
});

describe("diffCrdFiles", () => {
  const generated = new Map([
    ["config/crd/bases/infrastructure.cluster.x-k8s.io_a.yaml", "A"],
    ["config/crd/kustomization.yaml", "K"],
  ]);

  it("reports nothing when disk matches", () => {
    assert.deepEqual(diffCrdFiles(generated, new Map(generated)), { changed: [], extra: [] });
  });

  it("reports missing and changed files, and owned files no longer generated", () => {
    const onDisk = new Map([
      ["config/crd/bases/infrastructure.cluster.x-k8s.io_a.yaml", "old"],
      ["config/crd/bases/infrastructure.cluster.x-k8s.io_gone.yaml", "G"],
      ["config/crd/bases/other.example.com_x.yaml", "not ours"],
    ]);
    assert.deepEqual(diffCrdFiles(generated, onDisk), {
      changed: ["config/crd/bases/infrastructure.cluster.x-k8s.io_a.yaml", "config/crd/kustomization.yaml"],
      extra: ["config/crd/bases/infrastructure.cluster.x-k8s.io_gone.yaml"],
    });
  });
});
