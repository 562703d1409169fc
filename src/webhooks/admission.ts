// admission.k8s.io/v1 AdmissionReview: decoding what the API server sends and building
// what it accepts back. A request the API server could not have sent (wrong apiVersion,
// no uid, an operation without its object) is refused with 400 before any kind's code
// sees it, so the per-kind modules only ever handle well-formed requests.

export const ADMISSION_API_VERSION = "admission.k8s.io/v1";

export type Operation = "CREATE" | "UPDATE" | "DELETE" | "CONNECT";
const OPERATIONS: ReadonlySet<string> = new Set(["CREATE", "UPDATE", "DELETE", "CONNECT"]);

/** A JSON object as decoded from the wire. */
export type JsonObject = { [key: string]: unknown };

/** The request fields our webhooks read. `object` is absent on DELETE, `oldObject` on CREATE. */
export interface AdmissionRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  operation: Operation;
  name: string;
  namespace: string;
  object: JsonObject | undefined;
  oldObject: JsonObject | undefined;
  /** True for a dry-run request (kubectl --dry-run=server, server-side-apply dry-runs). */
  dryRun: boolean;
}

/** metav1.Status as an admission response carries it; the API server hands it to the client. */
export interface AdmissionStatus {
  code: number;
  reason: string;
  message: string;
  details?: {
    name: string;
    group: string;
    kind: string;
    causes: { reason: string; field: string; message: string }[];
  };
}

/** One RFC 6902 operation; the webhooks only ever add, replace or remove. */
export type JsonPatchOperation =
  | { op: "add"; path: string; value: unknown }
  | { op: "replace"; path: string; value: unknown }
  | { op: "remove"; path: string };

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: AdmissionStatus;
  patchType?: "JSONPatch";
  /** base64 of the JSON array of patch operations. */
  patch?: string;
  warnings?: string[];
}

/** The request body was not an AdmissionReview the API server would send; answered 400. */
export class BadAdmissionReview extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BadAdmissionReview";
  }
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/** Parses an AdmissionReview body; throws BadAdmissionReview naming what is wrong. */
export function decodeAdmissionReview(body: string): AdmissionRequest {
  let review: unknown;
  try {
    review = JSON.parse(body);
  } catch {
    throw new BadAdmissionReview("the body is not JSON; expected an admission.k8s.io/v1 AdmissionReview");
  }
  if (!isObject(review) || review.apiVersion !== ADMISSION_API_VERSION || review.kind !== "AdmissionReview") {
    throw new BadAdmissionReview(`expected apiVersion ${ADMISSION_API_VERSION}, kind AdmissionReview (set admissionReviewVersions: ["v1"] in the webhook configuration)`);
  }
  const request = review.request;
  if (!isObject(request) || text(request.uid) === "") throw new BadAdmissionReview("request.uid is missing");
  const operation = text(request.operation);
  if (!OPERATIONS.has(operation)) throw new BadAdmissionReview(`request.operation ${JSON.stringify(request.operation)} is not one of CREATE, UPDATE, DELETE, CONNECT`);
  const kind = isObject(request.kind) ? request.kind : {};
  const object = isObject(request.object) ? request.object : undefined;
  const oldObject = isObject(request.oldObject) ? request.oldObject : undefined;
  if ((operation === "CREATE" || operation === "UPDATE") && object === undefined) throw new BadAdmissionReview(`request.object is missing for ${operation}`);
  if ((operation === "UPDATE" || operation === "DELETE") && oldObject === undefined) throw new BadAdmissionReview(`request.oldObject is missing for ${operation}`);
  return {
    uid: text(request.uid),
    kind: { group: text(kind.group), version: text(kind.version), kind: text(kind.kind) },
    operation: operation as Operation,
    name: text(request.name),
    namespace: text(request.namespace),
    object,
    oldObject,
    dryRun: request.dryRun === true,
  };
}

/** The AdmissionReview the API server expects back for one response. */
export function encodeAdmissionReview(response: AdmissionResponse): string {
  return JSON.stringify({ apiVersion: ADMISSION_API_VERSION, kind: "AdmissionReview", response });
}

/** An allowed response; a non-empty patch is sent base64-encoded as JSONPatch. */
export function allowed(uid: string, options: { patch?: readonly JsonPatchOperation[]; warnings?: readonly string[] } = {}): AdmissionResponse {
  const response: AdmissionResponse = { uid, allowed: true };
  if (options.patch !== undefined && options.patch.length > 0) {
    response.patchType = "JSONPatch";
    response.patch = Buffer.from(JSON.stringify(options.patch)).toString("base64");
  }
  if (options.warnings !== undefined && options.warnings.length > 0) response.warnings = [...options.warnings];
  return response;
}

/** A refusal with its status (the client sees `status.message`). */
export function denied(uid: string, status: AdmissionStatus, warnings: readonly string[] = []): AdmissionResponse {
  return { uid, allowed: false, status, ...(warnings.length > 0 ? { warnings: [...warnings] } : {}) };
}
