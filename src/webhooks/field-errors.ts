// Refusals in the API server's own shape: a 422 Invalid status whose message lists each
// field as `path: Type: detail` and whose causes carry the field paths, so kubectl shows
// our refusals exactly like the schema's and a client can read the field by machine.
import type { AdmissionStatus } from "./admission.ts";

export type FieldErrorType = "Invalid" | "Forbidden" | "Unsupported" | "Required";

/** One refused field. `detail` says what is wrong and what to do instead. */
export interface FieldError {
  type: FieldErrorType;
  field: string;
  detail: string;
  /** Shown as `Invalid value: <value>` for type Invalid. */
  value?: unknown;
}

const CAUSE_REASONS: Record<FieldErrorType, string> = {
  Invalid: "FieldValueInvalid",
  Forbidden: "FieldValueForbidden",
  Unsupported: "FieldValueNotSupported",
  Required: "FieldValueRequired",
};

export function invalid(field: string, value: unknown, detail: string): FieldError {
  return { type: "Invalid", field, value, detail };
}

export function forbidden(field: string, detail: string): FieldError {
  return { type: "Forbidden", field, detail };
}

/** `spec.image: Forbidden: …` / `spec.x: Invalid value: "y": …`, as apimachinery's field.Error prints. */
export function formatFieldError(error: FieldError): string {
  if (error.type === "Invalid") return `${error.field}: Invalid value: ${JSON.stringify(error.value)}: ${error.detail}`;
  return `${error.field}: ${error.type}: ${error.detail}`;
}

/** The 422 status for a refused object, as apierrors.NewInvalid builds it. */
export function invalidStatus(target: { group: string; kind: string; name: string }, errors: readonly FieldError[]): AdmissionStatus {
  const listed = errors.map(formatFieldError);
  const joined = listed.length === 1 ? (listed[0] as string) : `[${listed.join(", ")}]`;
  return {
    code: 422,
    reason: "Invalid",
    message: `${target.kind}.${target.group} "${target.name}" is invalid: ${joined}`,
    details: {
      name: target.name,
      group: target.group,
      kind: target.kind,
      causes: errors.map((error) => ({ reason: CAUSE_REASONS[error.type], field: error.field, message: formatFieldError(error) })),
    },
  };
}
