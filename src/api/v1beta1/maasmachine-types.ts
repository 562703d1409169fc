// MaasMachine: the CAPI InfraMachine for one MAAS machine. The spec says what to allocate
// and how to deploy it; the status mirrors what MAAS reports and what CAPI reads.
import { Type } from "@sinclair/typebox";
import type { Static } from "@sinclair/typebox";
import {
  MachineAddressesSchema,
  ObjectMetaSchema,
  conditionsSchema,
  initializationSchema,
} from "./common-types.ts";
import { AGE_COLUMN, CLUSTER_NAME_LABEL_JSONPATH, conditionStatusJsonPath } from "./crd-source.ts";
import type { CrdSource, PrinterColumn } from "./crd-source.ts";
import { API_VERSION, GROUP, VERSION } from "./groupversion.ts";
import { kindSpec } from "./object-model.ts";
import { Int32, ListSet, StringEnum, celRules } from "./schema-helpers.ts";

/**
 * A MAAS image: a series (`jammy`), or `<os>/<series>` (`ubuntu/jammy`, `rhel/rocky-92`,
 * `custom/name`). At most one slash, no spaces.
 */
export const IMAGE_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$";

/** A MAAS tag name, as MAAS's Tag model validates it (maasserver/models/tag.py `_tag_name_regex`, 2.6 to 3.7 and main). */
export const TAG_NAME_PATTERN = "^[a-zA-Z0-9_-]+$";

/** Why `ephemeral: true` with `deployInMemory: false` is refused; names both fields and the fix. */
export const EPHEMERAL_ALIAS_MESSAGE =
  "ephemeral: true contradicts deployInMemory: false; deployInMemory is a deprecated alias of ephemeral. " +
  "Remove deployInMemory (or set it to true).";

export const MaasMachineSpecSchema = Type.Object(
  {
    minCPU: Int32({
      description: "minCPU is the minimum number of CPU cores the MAAS machine must have.",
      minimum: 1,
    }),
    minMemory: Int32({
      description: "minMemory is the minimum memory the MAAS machine must have, in MiB.",
      minimum: 1,
    }),
    minDiskSize: Type.Optional(
      Int32({
        description: "minDiskSize is the minimum size of the machine's boot disk, in GiB.",
        minimum: 1,
      }),
    ),
    image: Type.String({
      description:
        "image is the MAAS image to deploy: a series (jammy) or <os>/<series> (ubuntu/jammy, rhel/rocky-92, custom/name).",
      minLength: 1,
      maxLength: 256,
      pattern: IMAGE_PATTERN,
    }),
    resourcePool: Type.Optional(
      Type.String({
        description: "resourcePool is the MAAS resource pool to allocate the machine from.",
        minLength: 1,
        maxLength: 256,
      }),
    ),
    tags: Type.Optional(
      ListSet(
        Type.String({ minLength: 1, maxLength: 256, pattern: TAG_NAME_PATTERN }),
        { description: "tags are MAAS tag names the machine must all carry.", maxItems: 64 },
      ),
    ),
    failureDomain: Type.Optional(
      Type.String({
        description:
          "failureDomain is the MAAS zone to allocate the machine in. CAPI sets the Machine's failure domain; this field is kept for the v1beta1 contract.",
        minLength: 1,
        maxLength: 256,
      }),
    ),
    providerID: Type.Optional(
      Type.String({
        description:
          "providerID is the machine's ID as the Node shows it, maas:///<zone>/<system-id>. Set by the controller; immutable once set.",
        minLength: 1,
        maxLength: 512,
        ...celRules({ rule: "self == oldSelf", message: "providerID is immutable once set" }),
      }),
    ),
    systemID: Type.Optional(
      Type.String({
        description: "systemID is the MAAS system ID of the allocated machine. Set by the controller; immutable once set.",
        minLength: 1,
        maxLength: 64,
        ...celRules({ rule: "self == oldSelf", message: "systemID is immutable once set" }),
      }),
    ),
    ephemeral: Type.Optional(
      Type.Boolean({
        description:
          "ephemeral, if true, deploys the machine into memory instead of disk (MAAS ephemeral_deploy; MAAS 3.5+ for non-Ubuntu images). Defaults to false.",
        default: false,
      }),
    ),
    releasePolicy: Type.Optional(
      StringEnum(["none", "quick-erase", "secure-erase"], {
        description:
          "releasePolicy says how a disk-deployed machine's disks are erased when it is released: none (default), quick-erase or secure-erase. Machines deployed to memory never erase: their disks were not written.",
        default: "none",
      }),
    ),
    deployInMemory: Type.Optional(
      Type.Boolean({
        description:
          "Deprecated: use ephemeral. Accepted so manifests written for other MAAS providers keep deploying to memory: the machine deploys to memory when either field is true. ephemeral: true with deployInMemory: false is refused as contradictory.",
      }),
    ),
  },
  {
    description: "MaasMachineSpec says which MAAS machine to allocate and how to deploy it.",
    ...celRules({
      // `ephemeral` is defaulted to false before validation, so a stored `false` cannot be
      // told from "not set": `deployInMemory: true` must win over it, or manifests written
      // for the other provider would silently deploy to disk. Only an explicit `true`
      // beside `deployInMemory: false` is a real contradiction.
      rule: "!(has(self.deployInMemory) && !self.deployInMemory && has(self.ephemeral) && self.ephemeral)",
      message: EPHEMERAL_ALIAS_MESSAGE,
      fieldPath: ".deployInMemory",
      reason: "FieldValueInvalid",
    }),
  },
);
export type MaasMachineSpec = Static<typeof MaasMachineSpecSchema>;

/**
 * Whether to deploy into memory: true when either `ephemeral` or its deprecated alias
 * `deployInMemory` is true. The server defaults `ephemeral` to false, so `false` there
 * may mean "unset" and must not override the alias.
 */
export function effectiveEphemeral(spec: Pick<MaasMachineSpec, "ephemeral" | "deployInMemory">): boolean {
  return spec.ephemeral === true || spec.deployInMemory === true;
}

/** Where MAAS deployed the machine (its `ephemeral_deploy` flag; MAAS calls it the deployment target). */
export const DeploymentTargetSchema = StringEnum(["memory", "disk"], {
  description: "deploymentTarget is where MAAS deployed the machine: memory (ephemeral) or disk.",
});
export type DeploymentTarget = Static<typeof DeploymentTargetSchema>;

export const MaasMachineStatusSchema = Type.Object(
  {
    ready: Type.Optional(
      Type.Boolean({
        description: "ready is true when the machine is deployed (CAPI v1beta1 contract; v1beta2 reads initialization.provisioned).",
      }),
    ),
    initialization: Type.Optional(initializationSchema("machine's infrastructure")),
    addresses: Type.Optional(MachineAddressesSchema),
    conditions: Type.Optional(
      conditionsSchema("conditions are the observations of the MaasMachine's state; Ready summarises them."),
    ),
    failureReason: Type.Optional(
      Type.String({
        description: "failureReason is a terminal failure reason (deprecated CAPI v1beta1 contract; use conditions).",
        maxLength: 256,
      }),
    ),
    failureMessage: Type.Optional(
      Type.String({
        description: "failureMessage explains a terminal failure (deprecated CAPI v1beta1 contract; use conditions).",
        maxLength: 10240,
      }),
    ),
    failureDomain: Type.Optional(
      Type.String({ description: "failureDomain is the MAAS zone the machine was placed in.", minLength: 1, maxLength: 256 }),
    ),
    machineState: Type.Optional(
      Type.String({ description: "machineState is the MAAS status name of the machine, e.g. Deploying, Deployed." }),
    ),
    machinePowered: Type.Optional(Type.Boolean({ description: "machinePowered is true when MAAS reports the machine powered on." })),
    hostname: Type.Optional(Type.String({ description: "hostname is the machine's hostname in MAAS." })),
    deploymentTarget: Type.Optional(DeploymentTargetSchema),
  },
  { description: "MaasMachineStatus is the observed state of the MAAS machine." },
);
export type MaasMachineStatus = Static<typeof MaasMachineStatusSchema>;

export const MaasMachineSchema = Type.Object({
  apiVersion: Type.Literal(API_VERSION),
  kind: Type.Literal("MaasMachine"),
  metadata: ObjectMetaSchema,
  spec: MaasMachineSpecSchema,
  status: Type.Optional(MaasMachineStatusSchema),
});
export type MaasMachine = Static<typeof MaasMachineSchema>;

/** The MaasMachine resource; its objects are typed MaasMachine. */
export const MAAS_MACHINE = kindSpec<MaasMachine>({ group: GROUP, version: VERSION, kind: "MaasMachine", plural: "maasmachines", namespaced: true });

export const maasMachinePrinterColumns: readonly PrinterColumn[] = [
  { name: "Cluster", type: "string", jsonPath: CLUSTER_NAME_LABEL_JSONPATH, description: "Cluster this MaasMachine belongs to." },
  { name: "State", type: "string", jsonPath: ".status.machineState", description: "MAAS status of the machine." },
  { name: "System ID", type: "string", jsonPath: ".spec.systemID", description: "MAAS system ID." },
  { name: "ProviderID", type: "string", jsonPath: ".spec.providerID", description: "Provider ID of the Node.", priority: 1 },
  { name: "Ephemeral", type: "boolean", jsonPath: ".spec.ephemeral", description: "Deployed into memory instead of disk." },
  { name: "Ready", type: "string", jsonPath: conditionStatusJsonPath("Ready"), description: "Ready condition status." },
  AGE_COLUMN,
];

export const maasMachineCrdSource: CrdSource = {
  kind: "MaasMachine",
  plural: "maasmachines",
  singular: "maasmachine",
  shortNames: ["maasm"],
  description: "MaasMachine is a MAAS machine allocated and deployed for a Cluster API Machine.",
  spec: MaasMachineSpecSchema,
  status: MaasMachineStatusSchema,
  printerColumns: maasMachinePrinterColumns,
};
