// Response shape checks. MAAS answers are checked against a TypeBox schema of the
// fields this project reads; a mismatch is a MaasError "Unexpected" naming the field,
// the operation and the HTTP status MAAS answered with (a proxy page is not MAAS),
// instead of an undefined surfacing three calls later in a reconciler. The checked
// object is returned as MAAS sent it, so fields the schema does not name are kept.
import { Type, type Static, type TObject, type TProperties, type TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { MaasUnexpectedResponseError } from "./errors.ts";

/** Fields MAAS sent that the typed view does not name; kept, not dropped. */
export interface UnknownFields {
  readonly [field: string]: unknown;
}

/** A MAAS object: its known fields typed, every other field kept. */
export type MaasObject<T extends TSchema> = Static<T> & UnknownFields;

/** An object schema that allows (and keeps) fields it does not list. */
export function openObject<T extends TProperties>(properties: T): TObject<T> {
  return Type.Object(properties, { additionalProperties: true });
}

/** A field that may be absent (older MAAS) or null. */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** Which call an answer came from: the operation label and the HTTP status MAAS sent. */
export interface AnswerContext {
  op: string;
  status?: number;
}

export function parseResponse<T extends TSchema>(schema: T, value: unknown, context: AnswerContext): MaasObject<T> {
  if (Value.Check(schema, value)) return value as MaasObject<T>;
  const first = Value.Errors(schema, value).First();
  const field = first === undefined || first.path === "" ? "the response" : `field ${first.path}`;
  const found = first === undefined ? "" : ` (got ${describe(first.value)})`;
  throw new MaasUnexpectedResponseError({
    op: context.op,
    ...(context.status === undefined ? {} : { status: context.status }),
    message: `${context.status === undefined ? "" : `HTTP ${context.status} with an `}unexpected response shape: ${field}: ${first?.message ?? "does not match"}${found}`,
  });
}

export function parseList<T extends TSchema>(schema: T, value: unknown, context: AnswerContext): MaasObject<T>[] {
  return parseResponse(Type.Array(schema), value, context) as MaasObject<T>[];
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return `string "${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  return `${typeof value} ${String(value)}`;
}
