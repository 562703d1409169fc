// MaasClusterTemplate: the InfraClusterTemplate a ClusterClass references; CAPI's topology
// controller creates one MaasCluster per Cluster from it.
import { Type } from "@sinclair/typebox";
import type { Static } from "@sinclair/typebox";
import { ObjectMetaSchema, TemplateMetadataSchema } from "./common-types.ts";
import { AGE_COLUMN } from "./crd-source.ts";
import type { CrdSource, PrinterColumn } from "./crd-source.ts";
import { API_VERSION, GROUP, VERSION } from "./groupversion.ts";
import { kindSpec } from "./object-model.ts";
import { MaasClusterSpecSchema } from "./maascluster-types.ts";
import { described } from "./schema-helpers.ts";

export const MaasClusterTemplateResourceSchema = Type.Object(
  {
    metadata: Type.Optional(TemplateMetadataSchema),
    spec: described(MaasClusterSpecSchema, "spec is the MaasClusterSpec of every MaasCluster made from this template."),
  },
  { description: "template is the MaasCluster to create." },
);

export const MaasClusterTemplateSpecSchema = Type.Object(
  { template: MaasClusterTemplateResourceSchema },
  { description: "MaasClusterTemplateSpec holds the template MaasClusters are made from." },
);
export type MaasClusterTemplateSpec = Static<typeof MaasClusterTemplateSpecSchema>;

export const MaasClusterTemplateSchema = Type.Object({
  apiVersion: Type.Literal(API_VERSION),
  kind: Type.Literal("MaasClusterTemplate"),
  metadata: ObjectMetaSchema,
  spec: MaasClusterTemplateSpecSchema,
});
export type MaasClusterTemplate = Static<typeof MaasClusterTemplateSchema>;

/** The MaasClusterTemplate resource; its objects are typed MaasClusterTemplate. */
export const MAAS_CLUSTER_TEMPLATE = kindSpec<MaasClusterTemplate>({ group: GROUP, version: VERSION, kind: "MaasClusterTemplate", plural: "maasclustertemplates", namespaced: true });

export const maasClusterTemplatePrinterColumns: readonly PrinterColumn[] = [
  { name: "DNS Domain", type: "string", jsonPath: ".spec.template.spec.dnsDomain", description: "MAAS DNS domain." },
  AGE_COLUMN,
];

export const maasClusterTemplateCrdSource: CrdSource = {
  kind: "MaasClusterTemplate",
  plural: "maasclustertemplates",
  singular: "maasclustertemplate",
  shortNames: ["maasct"],
  description: "MaasClusterTemplate is the template a ClusterClass creates MaasClusters from.",
  spec: MaasClusterTemplateSpecSchema,
  printerColumns: maasClusterTemplatePrinterColumns,
};
