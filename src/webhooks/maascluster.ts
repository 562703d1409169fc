// MaasCluster: port 6443 for an endpoint given without one; `dnsDomain` fixed and
// `controlPlaneEndpoint` fixed once set; every other field stays mutable, since a
// ClusterClass patches MaasClusters in place.
import type { MaasCluster } from "../api/v1beta1/index.ts";
import { defaultClusterSpec, validateClusterSpec, validateClusterSpecUpdate } from "./cluster-spec.ts";
import { child, type KindWebhook } from "./webhook.ts";

export function maasClusterWebhook(): KindWebhook<MaasCluster> {
  return {
    kind: "MaasCluster",
    default(object) {
      const spec = child(object, "spec");
      return spec === undefined ? [] : defaultClusterSpec(spec);
    },
    validateCreate(cluster) {
      return { errors: validateClusterSpec(cluster.spec, "spec"), warnings: [] };
    },
    validateUpdate(oldCluster, newCluster, context) {
      const errors = validateClusterSpec(newCluster.spec, "spec");
      if (!context.skipImmutability) errors.push(...validateClusterSpecUpdate(oldCluster.spec, newCluster.spec, "spec"));
      return { errors, warnings: [] };
    },
  };
}
