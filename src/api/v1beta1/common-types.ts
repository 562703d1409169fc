// Shapes shared by several kinds, matching the upstream Kubernetes and CAPI v1beta2 types
// field for field (metav1.Condition, clusterv1.MachineAddress, clusterv1.APIEndpoint,
// clusterv1.FailureDomain), so CAPI reads our objects exactly as it reads its own.
import { Type } from "@sinclair/typebox";
import type { Static } from "@sinclair/typebox";
import { ListAtomic, ListMap, StringEnum, StringMap } from "./schema-helpers.ts";

/** An RFC 1123 DNS subdomain, e.g. `maas.example.com`; each label at most 63 characters, as DNS (and MAAS) allow. */
export const DNS_SUBDOMAIN_PATTERN = "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$";

/** Status of a condition, as metav1.ConditionStatus. */
export const ConditionStatusSchema = StringEnum(["True", "False", "Unknown"], {
  description: "status of the condition, one of True, False, Unknown.",
});
export type ConditionStatus = Static<typeof ConditionStatusSchema>;

/** metav1.Condition, with the same limits the upstream CRDs carry (message optional, see below). */
export const ConditionSchema = Type.Object(
  {
    type: Type.String({
      description: "type of condition in CamelCase or in foo.example.com/CamelCase.",
      maxLength: 316,
      pattern:
        "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$",
    }),
    status: ConditionStatusSchema,
    observedGeneration: Type.Optional(
      Type.Integer({
        description: "observedGeneration is the .metadata.generation the condition was set based upon.",
        format: "int64",
        minimum: 0,
      }),
    ),
    lastTransitionTime: Type.String({
      description: "lastTransitionTime is the last time the condition transitioned from one status to another.",
      format: "date-time",
    }),
    reason: Type.String({
      description: "reason is a CamelCase programmatic identifier for the condition's last transition.",
      minLength: 1,
      maxLength: 1024,
      pattern: "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$",
    }),
    // Optional, unlike metav1.Condition: Go always serialises it, TypeScript omits an
    // unset field, and the CAPI contract reads a missing message as empty.
    message: Type.Optional(
      Type.String({
        description: "message is a human readable message with details about the transition; it may be empty.",
        maxLength: 32768,
      }),
    ),
  },
  { description: "Condition contains details for one aspect of the current state of this API resource." },
);
export type Condition = Static<typeof ConditionSchema>;

/** `status.conditions`: one entry per type, as every CAPI v1beta2 object has them. */
export function conditionsSchema(description: string) {
  return ListMap(ConditionSchema, ["type"], { description, maxItems: 32 });
}

/** Address types CAPI accepts on a Machine (clusterv1.MachineAddressType). */
export const MachineAddressTypeSchema = StringEnum(
  ["Hostname", "ExternalIP", "InternalIP", "ExternalDNS", "InternalDNS"],
  { description: "type is the machine address type, one of Hostname, ExternalIP, InternalIP, ExternalDNS or InternalDNS." },
);
export type MachineAddressType = Static<typeof MachineAddressTypeSchema>;

export const MachineAddressSchema = Type.Object(
  {
    type: MachineAddressTypeSchema,
    address: Type.String({ description: "address is the machine address.", minLength: 1, maxLength: 256 }),
  },
  { description: "MachineAddress is one address of a machine (clusterv1.MachineAddress)." },
);
export type MachineAddress = Static<typeof MachineAddressSchema>;

export const MachineAddressesSchema = ListAtomic(MachineAddressSchema, {
  description: "addresses are the machine's addresses as MAAS reports them; CAPI copies them to the Machine.",
  maxItems: 256,
});

/** clusterv1.APIEndpoint (v1beta2 contract: both fields optional, but not both empty). */
export const APIEndpointSchema = Type.Object(
  {
    host: Type.Optional(
      Type.String({ description: "host is the hostname on which the API server is serving.", minLength: 1, maxLength: 512 }),
    ),
    port: Type.Optional(
      Type.Integer({
        description: "port is the port on which the API server is serving.",
        format: "int32",
        minimum: 1,
        maximum: 65535,
      }),
    ),
  },
  { description: "APIEndpoint represents a reachable Kubernetes API endpoint.", minProperties: 1 },
);
export type APIEndpoint = Static<typeof APIEndpointSchema>;

/** clusterv1.FailureDomain, the v1beta2 contract's list item for InfraCluster `status.failureDomains`. */
export const FailureDomainSchema = Type.Object(
  {
    name: Type.String({ description: "name is the MAAS zone name.", minLength: 1, maxLength: 256 }),
    controlPlane: Type.Optional(
      Type.Boolean({ description: "controlPlane is true if control plane machines may be placed in this zone." }),
    ),
    attributes: Type.Optional(StringMap({ description: "attributes are free-form details about the failure domain." })),
  },
  { description: "FailureDomain is one MAAS zone offered to CAPI for machine placement." },
);
export type FailureDomain = Static<typeof FailureDomainSchema>;

/** `status.initialization` of the v1beta2 contract. */
export function initializationSchema(what: string) {
  return Type.Object(
    {
      provisioned: Type.Optional(
        Type.Boolean({
          description: `provisioned is true when the ${what} is fully provisioned. Part of the CAPI v1beta2 contract.`,
        }),
      ),
    },
    { description: `initialization reports the ${what} initial provisioning (CAPI v1beta2 contract).` },
  );
}

/** Labels and annotations a template stamps onto the objects made from it (clusterv1.ObjectMeta). */
export const TemplateMetadataSchema = Type.Object(
  {
    labels: Type.Optional(StringMap({ description: "labels to put on objects created from this template." })),
    annotations: Type.Optional(StringMap({ description: "annotations to put on objects created from this template." })),
  },
  { description: "metadata holds labels and annotations for objects created from this template." },
);
export type TemplateMetadata = Static<typeof TemplateMetadataSchema>;

/** An owner reference, as metav1.OwnerReference. */
export const OwnerReferenceSchema = Type.Object({
  apiVersion: Type.String(),
  kind: Type.String(),
  name: Type.String(),
  uid: Type.String(),
  controller: Type.Optional(Type.Boolean()),
  blockOwnerDeletion: Type.Optional(Type.Boolean()),
});
export type OwnerReference = Static<typeof OwnerReferenceSchema>;

/**
 * The parts of metav1.ObjectMeta our code reads or writes. It types whole objects in
 * TypeScript only: the CRD's `metadata` is always plain `type: object`, because the
 * API server owns that schema.
 */
export const ObjectMetaSchema = Type.Object({
  // Required here although a create may carry only generateName: every object our
  // code holds was read back from the server, which always names it.
  name: Type.String(),
  generateName: Type.Optional(Type.String()),
  namespace: Type.Optional(Type.String()),
  uid: Type.Optional(Type.String()),
  resourceVersion: Type.Optional(Type.String()),
  generation: Type.Optional(Type.Integer()),
  creationTimestamp: Type.Optional(Type.String()),
  deletionTimestamp: Type.Optional(Type.String()),
  labels: Type.Optional(StringMap()),
  annotations: Type.Optional(StringMap()),
  finalizers: Type.Optional(Type.Array(Type.String())),
  ownerReferences: Type.Optional(Type.Array(OwnerReferenceSchema)),
});
export type ObjectMeta = Static<typeof ObjectMetaSchema>;
