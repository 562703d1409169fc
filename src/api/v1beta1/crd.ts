// Turns a kind's TypeBox schemas into a CustomResourceDefinition. TypeBox schemas are JSON
// Schema with extra symbol keys; the API server wants a *structural* OpenAPI v3 subset, so
// this module copies only what the server understands and refuses everything else loudly
// (a keyword the server silently drops would make the CRD differ from the TypeScript type).
import type { TSchema } from "@sinclair/typebox";
import type { CrdSource, PrinterColumn } from "./crd-source.ts";
import { CONTRACT_LABELS, GROUP, VERSION } from "./groupversion.ts";

/** A JSON value as it appears in a CRD. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Keywords of apiextensions/v1 JSONSchemaProps that structural schemas may use. */
const ALLOWED_KEYWORDS = new Set([
  "type",
  "format",
  "description",
  "title",
  "default",
  "enum",
  "nullable",
  "example",
  "externalDocs",
  "maximum",
  "exclusiveMaximum",
  "minimum",
  "exclusiveMinimum",
  "multipleOf",
  "maxLength",
  "minLength",
  "pattern",
  "maxItems",
  "minItems",
  "maxProperties",
  "minProperties",
  "required",
  "properties",
  "items",
  "additionalProperties",
  "x-kubernetes-preserve-unknown-fields",
  "x-kubernetes-embedded-resource",
  "x-kubernetes-int-or-string",
  "x-kubernetes-list-type",
  "x-kubernetes-list-map-keys",
  "x-kubernetes-map-type",
  "x-kubernetes-validations",
]);

const TYPES = new Set(["object", "array", "string", "integer", "number", "boolean"]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Deep copy keeping string keys only: drops TypeBox's [Kind]/[OptionalKind] symbols. */
function toJson(value: unknown): JsonValue {
  if (Array.isArray(value)) return value.map(toJson);
  if (isObject(value)) {
    const out: JsonObject = {};
    for (const key of Object.keys(value)) {
      const v = value[key];
      if (v !== undefined) out[key] = toJson(v);
    }
    return out;
  }
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean" || value === null) {
    return value;
  }
  throw new Error(`value of type ${typeof value} cannot appear in a CRD schema`);
}

/** Removes what TypeBox adds but the server must not see: `$id` and empty `properties`. */
function normalise(node: JsonValue): JsonValue {
  if (Array.isArray(node)) return node.map(normalise);
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "$id") continue;
    // StringMap/MapOf carry `properties: {}` so TypeBox can check them as objects; for
    // the server an empty `properties` next to `additionalProperties` is a conflict.
    if (key === "properties" && isObject(value) && Object.keys(value).length === 0) continue;
    // Schema-valued keywords recurse; data-valued ones (default, enum, example) do not.
    if (key === "properties" && isObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalise(v)]));
    } else if (key === "items" || key === "additionalProperties") {
      out[key] = normalise(value);
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** The schema as the API server should receive it. Throws if it is not structural. */
export function toStructuralSchema(schema: TSchema): JsonObject {
  const json = normalise(toJson(schema));
  if (!isObject(json)) throw new Error("schema must be an object");
  const violations = structuralViolations(json);
  if (violations.length > 0) throw new Error(`schema is not structural:\n  ${violations.join("\n  ")}`);
  return json;
}

/**
 * Every way `schema` breaks the Kubernetes structural-schema rules or uses a keyword the
 * server does not know, as `<path>: <problem>` lines; empty when the schema is fine.
 */
export function structuralViolations(schema: unknown, path = ""): string[] {
  const at = path === "" ? "<root>" : path;
  if (!isObject(schema)) return [`${at}: schema node is not an object`];
  const problems: string[] = [];
  for (const key of Object.keys(schema)) {
    if (!ALLOWED_KEYWORDS.has(key)) problems.push(`${at}: keyword ${JSON.stringify(key)} is not allowed`);
  }
  const type = schema["type"];
  const preserve = schema["x-kubernetes-preserve-unknown-fields"] === true;
  const intOrString = schema["x-kubernetes-int-or-string"] === true;
  if (type === undefined) {
    if (!preserve && !intOrString) problems.push(`${at}: has no type`);
  } else if (typeof type !== "string" || !TYPES.has(type)) {
    problems.push(`${at}: type ${JSON.stringify(type)} is not one of ${[...TYPES].join(", ")}`);
  }
  if (schema["uniqueItems"] === true) problems.push(`${at}: uniqueItems must not be true`);
  const properties = schema["properties"];
  const additional = schema["additionalProperties"];
  if (properties !== undefined && additional !== undefined) {
    problems.push(`${at}: properties and additionalProperties are mutually exclusive`);
  }
  if (properties !== undefined) {
    if (type !== "object") problems.push(`${at}: properties on a non-object`);
    if (!isObject(properties)) problems.push(`${at}: properties is not a map`);
    else for (const [name, child] of Object.entries(properties)) problems.push(...structuralViolations(child, `${path}.${name}`));
  }
  if (additional !== undefined) {
    if (!isObject(additional)) problems.push(`${at}: additionalProperties must be a schema (not true/false)`);
    else problems.push(...structuralViolations(additional, `${path}.*`));
  }
  if (type === "array") {
    if (schema["items"] === undefined) problems.push(`${at}: array without items`);
    else problems.push(...structuralViolations(schema["items"], `${path}[]`));
  } else if (schema["items"] !== undefined) {
    problems.push(`${at}: items on a non-array`);
  }
  return problems;
}

/** The CAPI category every provider kind is listed under (`kubectl get cluster-api`). */
export const CAPI_CATEGORY = "cluster-api";

function printerColumn(column: PrinterColumn): JsonObject {
  const out: JsonObject = { name: column.name, type: column.type, jsonPath: column.jsonPath, description: column.description };
  if (column.priority !== undefined && column.priority !== 0) out["priority"] = column.priority;
  return out;
}

/** The full CustomResourceDefinition for one kind. */
export function buildCrd(source: CrdSource): JsonObject {
  const properties: JsonObject = {
    apiVersion: {
      description: "APIVersion defines the versioned schema of this representation of an object.",
      type: "string",
    },
    kind: { description: "Kind is a string value representing the REST resource this object represents.", type: "string" },
    // The API server owns metadata's schema; a CRD may only say it is an object.
    metadata: { type: "object" },
    spec: toStructuralSchema(source.spec),
  };
  if (source.status !== undefined) properties["status"] = toStructuralSchema(source.status);
  const version: JsonObject = {
    name: VERSION,
    served: true,
    storage: true,
    schema: {
      openAPIV3Schema: { description: source.description, type: "object", required: ["spec"], properties },
    },
    additionalPrinterColumns: source.printerColumns.map(printerColumn),
  };
  if (source.status !== undefined) version["subresources"] = { status: {} };
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${source.plural}.${GROUP}`, labels: { ...CONTRACT_LABELS } },
    spec: {
      group: GROUP,
      names: {
        kind: source.kind,
        listKind: `${source.kind}List`,
        plural: source.plural,
        singular: source.singular,
        shortNames: [...source.shortNames],
        categories: [CAPI_CATEGORY],
      },
      scope: "Namespaced",
      versions: [version],
    },
  };
}
