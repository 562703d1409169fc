// MaasMachineTemplate: the InfraMachineTemplate MachineDeployments, KubeadmControlPlane and
// ClusterClass stamp MaasMachines from. Its status tells the cluster autoscaler what one
// machine offers, so node groups can scale from zero.
import { Type } from "@sinclair/typebox";
import type { Static } from "@sinclair/typebox";
import { ObjectMetaSchema, TemplateMetadataSchema, conditionsSchema } from "./common-types.ts";
import { AGE_COLUMN } from "./crd-source.ts";
import type { CrdSource, PrinterColumn } from "./crd-source.ts";
import { API_VERSION, GROUP, VERSION } from "./groupversion.ts";
import { kindSpec } from "./object-model.ts";
import { MaasMachineSpecSchema } from "./maasmachine-types.ts";
import { MapOf, StringEnum, described } from "./schema-helpers.ts";

/** A Kubernetes resource quantity as a string, e.g. `4`, `8192Mi`, `1.5`. */
export const QUANTITY_PATTERN =
  "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$";

export const MaasMachineTemplateResourceSchema = Type.Object(
  {
    metadata: Type.Optional(TemplateMetadataSchema),
    spec: described(MaasMachineSpecSchema, "spec is the MaasMachineSpec of every MaasMachine made from this template."),
  },
  { description: "template is the MaasMachine to create." },
);

export const MaasMachineTemplateSpecSchema = Type.Object(
  { template: MaasMachineTemplateResourceSchema },
  { description: "MaasMachineTemplateSpec holds the template MaasMachines are made from." },
);
export type MaasMachineTemplateSpec = Static<typeof MaasMachineTemplateSpecSchema>;

/** CPU architectures the autoscaler understands (CAPI contract NodeInfo.architecture). */
export const ArchitectureSchema = StringEnum(["amd64", "arm64", "s390x", "ppc64le"], {
  description: "architecture is the CPU architecture of the node.",
});

export const MaasMachineTemplateStatusSchema = Type.Object(
  {
    capacity: Type.Optional(
      MapOf(Type.String({ pattern: QUANTITY_PATTERN }), {
        description:
          'capacity is the resources one machine from this template offers, as quantities (e.g. {"cpu":"4","memory":"8192Mi"}); read by the cluster autoscaler to scale from zero.',
      }),
    ),
    nodeInfo: Type.Optional(
      Type.Object(
        {
          architecture: Type.Optional(ArchitectureSchema),
          operatingSystem: Type.Optional(
            Type.String({ description: "operatingSystem of the node, e.g. linux.", minLength: 1 }),
          ),
        },
        { description: "nodeInfo tells the cluster autoscaler the architecture and OS of a node from this template." },
      ),
    ),
    observedGeneration: Type.Optional(
      Type.Integer({
        description: "observedGeneration is the metadata.generation capacity and nodeInfo were last computed for.",
        format: "int64",
        minimum: 0,
      }),
    ),
    lastRefreshTime: Type.Optional(
      Type.String({
        description:
          "lastRefreshTime is when MAAS last answered the dry-run allocation for observedGeneration; absent while capacity comes from the template's minimums because MAAS could not be asked. The controller asks again once the refresh interval has passed or the spec changes.",
        format: "date-time",
      }),
    ),
    conditions: Type.Optional(
      conditionsSchema("conditions are CapacityReady (where capacity came from), MaasReachable and Paused."),
    ),
  },
  { description: "MaasMachineTemplateStatus is what the cluster autoscaler reads about this template." },
);
export type MaasMachineTemplateStatus = Static<typeof MaasMachineTemplateStatusSchema>;

export const MaasMachineTemplateSchema = Type.Object({
  apiVersion: Type.Literal(API_VERSION),
  kind: Type.Literal("MaasMachineTemplate"),
  metadata: ObjectMetaSchema,
  spec: MaasMachineTemplateSpecSchema,
  status: Type.Optional(MaasMachineTemplateStatusSchema),
});
export type MaasMachineTemplate = Static<typeof MaasMachineTemplateSchema>;

/** The MaasMachineTemplate resource; its objects are typed MaasMachineTemplate. */
export const MAAS_MACHINE_TEMPLATE = kindSpec<MaasMachineTemplate>({ group: GROUP, version: VERSION, kind: "MaasMachineTemplate", plural: "maasmachinetemplates", namespaced: true });

export const maasMachineTemplatePrinterColumns: readonly PrinterColumn[] = [
  { name: "Image", type: "string", jsonPath: ".spec.template.spec.image", description: "MAAS image to deploy." },
  { name: "Min CPU", type: "integer", jsonPath: ".spec.template.spec.minCPU", description: "Minimum CPU cores." },
  { name: "Min Memory", type: "integer", jsonPath: ".spec.template.spec.minMemory", description: "Minimum memory in MiB." },
  { name: "Ephemeral", type: "boolean", jsonPath: ".spec.template.spec.ephemeral", description: "Deploy into memory." },
  { name: "Pool", type: "string", jsonPath: ".spec.template.spec.resourcePool", description: "MAAS resource pool.", priority: 1 },
  AGE_COLUMN,
];

export const maasMachineTemplateCrdSource: CrdSource = {
  kind: "MaasMachineTemplate",
  plural: "maasmachinetemplates",
  singular: "maasmachinetemplate",
  shortNames: ["maasmt"],
  description: "MaasMachineTemplate is the template MaasMachines are created from.",
  spec: MaasMachineTemplateSpecSchema,
  status: MaasMachineTemplateStatusSchema,
  printerColumns: maasMachineTemplatePrinterColumns,
};
