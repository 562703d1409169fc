// MaasClusterTemplate: the MaasCluster defaulting and value checks at
// `spec.template.spec`, and the labels and annotations at `spec.template.metadata`. It
// stays mutable: CAPI's topology controller applies a changed ClusterClass template to
// existing MaasClusters in place, where the MaasCluster's own webhook refuses what may
// not change (dnsDomain, a set controlPlaneEndpoint).
import type { MaasClusterTemplate } from "../api/v1beta1/index.ts";
import { defaultClusterSpec, validateClusterSpec } from "./cluster-spec.ts";
import type { FieldError } from "./field-errors.ts";
import { validateTemplateMetadata } from "./template-metadata.ts";
import { child, type KindWebhook } from "./webhook.ts";

const PATH = "spec.template.spec";
const METADATA_PATH = "spec.template.metadata";

function templateErrors(template: MaasClusterTemplate): FieldError[] {
  return [...validateTemplateMetadata(template.spec.template.metadata, METADATA_PATH), ...validateClusterSpec(template.spec.template.spec, PATH)];
}

export function maasClusterTemplateWebhook(): KindWebhook<MaasClusterTemplate> {
  return {
    kind: "MaasClusterTemplate",
    default(object) {
      const spec = child(child(child(object, "spec") ?? {}, "template") ?? {}, "spec");
      return spec === undefined ? [] : defaultClusterSpec(spec);
    },
    validateCreate(template) {
      return { errors: templateErrors(template), warnings: [] };
    },
    validateUpdate(_oldTemplate, newTemplate) {
      return { errors: templateErrors(newTemplate), warnings: [] };
    },
  };
}
