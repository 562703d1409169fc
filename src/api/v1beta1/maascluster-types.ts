// MaasCluster: the CAPI InfraCluster. It owns the MAAS DNS name in front of the control
// plane and offers MAAS zones to CAPI as failure domains.
import { Type } from "@sinclair/typebox";
import type { Static } from "@sinclair/typebox";
import {
  APIEndpointSchema,
  DNS_SUBDOMAIN_PATTERN,
  FailureDomainSchema,
  ObjectMetaSchema,
  conditionsSchema,
  initializationSchema,
} from "./common-types.ts";
import { AGE_COLUMN, CLUSTER_NAME_LABEL_JSONPATH, conditionStatusJsonPath } from "./crd-source.ts";
import type { CrdSource, PrinterColumn } from "./crd-source.ts";
import { API_VERSION, GROUP, VERSION } from "./groupversion.ts";
import { kindSpec } from "./object-model.ts";
import { ListMap, ListSet, described } from "./schema-helpers.ts";

export const MaasClusterSpecSchema = Type.Object(
  {
    dnsDomain: Type.String({
      description:
        "dnsDomain is the MAAS DNS domain the control-plane name is created in: <cluster-name>.<dnsDomain>.",
      minLength: 1,
      maxLength: 253,
      pattern: DNS_SUBDOMAIN_PATTERN,
    }),
    controlPlaneEndpoint: Type.Optional(
      described(
        APIEndpointSchema,
        "controlPlaneEndpoint is where the control plane is reached. Set by the controller from the DNS name unless given.",
      ),
    ),
    failureDomains: Type.Optional(
      ListSet(Type.String({ minLength: 1, maxLength: 256 }), {
        description:
          "failureDomains are the MAAS zones machines may be placed in; each must exist in MAAS. Empty means every zone.",
        maxItems: 100,
      }),
    ),
  },
  { description: "MaasClusterSpec is the desired state of the cluster's MAAS infrastructure." },
);
export type MaasClusterSpec = Static<typeof MaasClusterSpecSchema>;

export const MaasClusterStatusSchema = Type.Object(
  {
    ready: Type.Optional(
      Type.Boolean({
        description: "ready is true when the infrastructure is provisioned (CAPI v1beta1 contract; v1beta2 reads initialization.provisioned).",
      }),
    ),
    initialization: Type.Optional(initializationSchema("cluster's infrastructure")),
    failureDomains: Type.Optional(
      ListMap(FailureDomainSchema, ["name"], {
        description:
          "failureDomains are the MAAS zones offered to CAPI, in the CAPI v1beta2 contract's list shape.",
        maxItems: 100,
      }),
    ),
    conditions: Type.Optional(
      conditionsSchema("conditions are the observations of the MaasCluster's state; Ready summarises them."),
    ),
    dnsName: Type.Optional(
      Type.String({ description: "dnsName is the DNS name in use for the control plane, e.g. my-cluster.maas." }),
    ),
  },
  { description: "MaasClusterStatus is the observed state of the cluster's MAAS infrastructure." },
);
export type MaasClusterStatus = Static<typeof MaasClusterStatusSchema>;

export const MaasClusterSchema = Type.Object({
  apiVersion: Type.Literal(API_VERSION),
  kind: Type.Literal("MaasCluster"),
  metadata: ObjectMetaSchema,
  spec: MaasClusterSpecSchema,
  status: Type.Optional(MaasClusterStatusSchema),
});
export type MaasCluster = Static<typeof MaasClusterSchema>;

/** The MaasCluster resource; its objects are typed MaasCluster. */
export const MAAS_CLUSTER = kindSpec<MaasCluster>({ group: GROUP, version: VERSION, kind: "MaasCluster", plural: "maasclusters", namespaced: true });

export const maasClusterPrinterColumns: readonly PrinterColumn[] = [
  { name: "Cluster", type: "string", jsonPath: CLUSTER_NAME_LABEL_JSONPATH, description: "Cluster this MaasCluster belongs to." },
  { name: "DNS Name", type: "string", jsonPath: ".status.dnsName", description: "DNS name of the control plane." },
  { name: "Endpoint", type: "string", jsonPath: ".spec.controlPlaneEndpoint.host", description: "Control-plane endpoint host." },
  {
    name: "Port",
    type: "integer",
    jsonPath: ".spec.controlPlaneEndpoint.port",
    description: "Control-plane endpoint port.",
    priority: 1,
  },
  { name: "DNS Domain", type: "string", jsonPath: ".spec.dnsDomain", description: "MAAS DNS domain.", priority: 1 },
  { name: "Ready", type: "string", jsonPath: conditionStatusJsonPath("Ready"), description: "Ready condition status." },
  AGE_COLUMN,
];

export const maasClusterCrdSource: CrdSource = {
  kind: "MaasCluster",
  plural: "maasclusters",
  singular: "maascluster",
  shortNames: ["maasc"],
  description: "MaasCluster is the MAAS infrastructure of a Cluster API Cluster: its control-plane DNS name and zones.",
  spec: MaasClusterSpecSchema,
  status: MaasClusterStatusSchema,
  printerColumns: maasClusterPrinterColumns,
};
