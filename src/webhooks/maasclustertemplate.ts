// MaasClusterTemplate: the MaasCluster defaulting and value checks at
// `spec.template.spec`. It stays mutable: CAPI's topology controller applies a changed
// ClusterClass template to existing MaasClusters in place, where the MaasCluster's own
// webhook refuses what may not change (dnsDomain, a set controlPlaneEndpoint).
import type { MaasClusterTemplate } from "../api/v1beta1/index.ts";
import { defaultClusterSpec, validateClusterSpec } from "./cluster-spec.ts";
import { child, type KindWebhook } from "./webhook.ts";

const PATH = "spec.template.spec";

export function maasClusterTemplateWebhook(): KindWebhook<MaasClusterTemplate> {
  return {
    kind: "MaasClusterTemplate",
    default(object) {
      const spec = child(child(child(object, "spec") ?? {}, "template") ?? {}, "spec");
      return spec === undefined ? [] : defaultClusterSpec(spec);
    },
    validateCreate(template) {
      return { errors: validateClusterSpec(template.spec.template.spec, PATH), warnings: [] };
    },
    validateUpdate(_oldTemplate, newTemplate) {
      return { errors: validateClusterSpec(newTemplate.spec.template.spec, PATH), warnings: [] };
    },
  };
}
