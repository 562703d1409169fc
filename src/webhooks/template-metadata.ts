// `spec.template.metadata` of the two template kinds: Cluster API copies these labels and
// annotations onto every object it makes from the template, where the API server checks
// them as object metadata. A key or value it would refuse there is refused here, at the
// template, where the mistake was made; otherwise every MaasMachine (or MaasCluster) made
// from it would fail to be created, far from the template. The rules are apimachinery's
// (metav1validation.ValidateLabels, apivalidation.ValidateAnnotations), as Cluster API's
// own ObjectMeta.Validate applies them to its templates.
import type { TemplateMetadata } from "../api/v1beta1/index.ts";
import { invalid, type FieldError } from "./field-errors.ts";

const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const NAME_MAX = 63;
const PREFIX_MAX = 253;
/** apimachinery's TotalAnnotationSizeLimitB: keys and values together. */
const ANNOTATIONS_MAX_BYTES = 256 * 1024;

const KEY_FIX =
  "a key is [prefix/]name: name at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit; prefix a lowercase DNS subdomain (e.g. example.com/role)";
const VALUE_FIX = "a label value is empty or at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit";

function validKey(key: string): boolean {
  const parts = key.split("/");
  if (parts.length > 2) return false;
  const name = parts[parts.length - 1] ?? "";
  const prefix = parts.length === 2 ? (parts[0] ?? "") : undefined;
  if (name.length > NAME_MAX || !NAME.test(name)) return false;
  return prefix === undefined || (prefix.length <= PREFIX_MAX && DNS_SUBDOMAIN.test(prefix));
}

/** The refusals for a template's `metadata` at `path` (e.g. `spec.template.metadata`). */
export function validateTemplateMetadata(metadata: TemplateMetadata | undefined, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const copied = "Cluster API copies it onto every object made from this template, where the API server would refuse it";
  for (const [key, value] of Object.entries(metadata?.labels ?? {})) {
    if (!validKey(key)) errors.push(invalid(`${path}.labels`, key, `not a label key (${KEY_FIX}); ${copied}`));
    else if (value.length > NAME_MAX || (value !== "" && !NAME.test(value))) errors.push(invalid(`${path}.labels`, value, `not a value of label ${key} (${VALUE_FIX}); ${copied}`));
  }
  let bytes = 0;
  for (const [key, value] of Object.entries(metadata?.annotations ?? {})) {
    // apimachinery checks annotation keys lowercased: only labels are case-sensitive there.
    if (!validKey(key.toLowerCase())) errors.push(invalid(`${path}.annotations`, key, `not an annotation key (${KEY_FIX}); ${copied}`));
    bytes += Buffer.byteLength(key) + Buffer.byteLength(value);
  }
  if (bytes > ANNOTATIONS_MAX_BYTES) {
    errors.push(invalid(`${path}.annotations`, `${bytes} bytes`, `annotations may hold at most ${ANNOTATIONS_MAX_BYTES} bytes of keys and values together; ${copied}`));
  }
  return errors;
}
