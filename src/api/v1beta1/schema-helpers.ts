// Small TypeBox builders for the shapes Kubernetes structural schemas need but TypeBox
// spells differently: string enums (TypeBox would emit `anyOf` of literals), string maps
// (TypeBox's Record emits `patternProperties`), and list types. Each builder keeps the
// TypeScript type precise and the emitted JSON schema acceptable to the API server.
import { CloneType, FormatRegistry, Kind, Type, TypeRegistry } from "@sinclair/typebox";
import type { IntegerOptions, SchemaOptions, TArray, TInteger, TSchema, TString, TUnsafe, Static } from "@sinclair/typebox";

const STRING_ENUM_KIND = "StringEnum";

interface StringEnumSchema {
  enum: readonly string[];
}

// Value.Check dispatches on [Kind]; registering the kind once lets TypeBox validate enums
// without the `anyOf` form the API server rejects.
if (!TypeRegistry.Has(STRING_ENUM_KIND)) {
  TypeRegistry.Set<StringEnumSchema>(
    STRING_ENUM_KIND,
    (schema, value) => typeof value === "string" && schema.enum.includes(value),
  );
}

// RFC 3339 as Kubernetes serialises metav1.Time (`format: date-time`). TypeBox refuses
// unknown formats, so the format must be registered for Value.Check to pass at all.
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
if (!FormatRegistry.Has("date-time")) {
  FormatRegistry.Set("date-time", (value) => RFC3339.test(value) && !Number.isNaN(Date.parse(value)));
}

/** A copy of a shared schema with its own description, for `kubectl explain` at each use. */
export function described<T extends TSchema>(schema: T, description: string): T {
  // CloneType's own options lose to the schema's, so the description is set on the copy.
  return Object.assign(CloneType(schema), { description });
}

/**
 * An integer that fits Go's int32 (`format: int32`). The API server does not enforce a
 * format's range, so the bounds are spelled out; options may narrow them.
 */
export function Int32(options: IntegerOptions = {}): TInteger {
  return Type.Integer({ format: "int32", minimum: -(2 ** 31), maximum: 2 ** 31 - 1, ...options });
}

/** A `type: string` + `enum` schema whose static type is the union of the values. */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: SchemaOptions = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ ...options, [Kind]: STRING_ENUM_KIND, type: "string", enum: [...values] });
}

/**
 * A map from string keys to values of one schema (`additionalProperties`), typed as a
 * Record. It is checked as a TypeBox Object with no named properties, which validates
 * every value against the value schema and reports the offending key in the path.
 */
export function MapOf<V extends TSchema>(
  values: V,
  options: SchemaOptions = {},
): TUnsafe<Record<string, Static<V>>> {
  return Type.Unsafe<Record<string, Static<V>>>({
    ...options,
    [Kind]: "Object",
    type: "object",
    properties: {},
    additionalProperties: values,
  });
}

/** A map from string keys to string values, e.g. labels, annotations, attributes. */
export function StringMap(options: SchemaOptions = {}): TUnsafe<Record<string, string>> {
  return MapOf(Type.String(), options);
}

/**
 * A list with set semantics (`x-kubernetes-list-type: set`): the server rejects
 * duplicates and server-side apply merges items. `uniqueItems` is not emitted because
 * structural schemas forbid it.
 */
export function ListSet<T extends TString>(items: T, options: SchemaOptions = {}): TArray<T> {
  return Type.Array(items, { ...options, "x-kubernetes-list-type": "set" });
}

/** A list of objects keyed by some of their required fields (`x-kubernetes-list-type: map`). */
export function ListMap<T extends TSchema>(
  items: T,
  keys: readonly (keyof Static<T> & string)[],
  options: SchemaOptions = {},
): TArray<T> {
  return Type.Array(items, { ...options, "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": [...keys] });
}

/** A list replaced as a whole on server-side apply (`x-kubernetes-list-type: atomic`). */
export function ListAtomic<T extends TSchema>(items: T, options: SchemaOptions = {}): TArray<T> {
  return Type.Array(items, { ...options, "x-kubernetes-list-type": "atomic" });
}

/** One CEL rule for `x-kubernetes-validations`, as the API server reads it. */
export interface CelRule {
  rule: string;
  message: string;
  /** A JSONPath relative to the schema node, so errors point at the field, e.g. `.deployInMemory`. */
  fieldPath?: string;
  reason?: "FieldValueInvalid" | "FieldValueForbidden" | "FieldValueRequired" | "FieldValueDuplicate";
}

/** Schema options attaching CEL rules; spread into a TypeBox builder's options. */
export function celRules(...rules: CelRule[]): SchemaOptions {
  return { "x-kubernetes-validations": rules };
}
