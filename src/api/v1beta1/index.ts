// The infrastructure.cluster.x-k8s.io/v1beta1 API: MaasCluster, MaasMachine and their
// templates. Each kind is defined once, as a TypeBox schema; its TypeScript type
// (Static<>), runtime validation (Value.Check) and CRD openAPIV3Schema all come from
// that one definition (hack/generate-crds.ts writes config/crd/bases from it).
// This folder imports nothing else of the project, so every layer may depend on it.
export { API_VERSION, CONTRACT_LABELS, GROUP, VERSION } from "./groupversion.ts";
export {
  APIEndpointSchema,
  ConditionSchema,
  ConditionStatusSchema,
  DNS_SUBDOMAIN_PATTERN,
  FailureDomainSchema,
  MachineAddressSchema,
  MachineAddressTypeSchema,
  ObjectMetaSchema,
  TemplateMetadataSchema,
  type APIEndpoint,
  type Condition,
  type ConditionStatus,
  type FailureDomain,
  type MachineAddress,
  type MachineAddressType,
  type ObjectMeta,
  type OwnerReference,
  type TemplateMetadata,
} from "./common-types.ts";
export {
  DeploymentTargetSchema,
  EPHEMERAL_ALIAS_MESSAGE,
  IMAGE_PATTERN,
  TAG_NAME_PATTERN,
  MAAS_MACHINE,
  MaasMachineSchema,
  MaasMachineSpecSchema,
  MaasMachineStatusSchema,
  effectiveEphemeral,
  maasMachineCrdSource,
  maasMachinePrinterColumns,
  type DeploymentTarget,
  type MaasMachine,
  type MaasMachineSpec,
  type MaasMachineStatus,
} from "./maasmachine-types.ts";
export {
  MAAS_CLUSTER,
  MaasClusterSchema,
  MaasClusterSpecSchema,
  MaasClusterStatusSchema,
  maasClusterCrdSource,
  maasClusterPrinterColumns,
  type MaasCluster,
  type MaasClusterSpec,
  type MaasClusterStatus,
} from "./maascluster-types.ts";
export {
  ArchitectureSchema,
  MAAS_MACHINE_TEMPLATE,
  MaasMachineTemplateSchema,
  MaasMachineTemplateSpecSchema,
  MaasMachineTemplateStatusSchema,
  QUANTITY_PATTERN,
  maasMachineTemplateCrdSource,
  maasMachineTemplatePrinterColumns,
  type MaasMachineTemplate,
  type MaasMachineTemplateSpec,
  type MaasMachineTemplateStatus,
} from "./maasmachinetemplate-types.ts";
export {
  MAAS_CLUSTER_TEMPLATE,
  MaasClusterTemplateSchema,
  MaasClusterTemplateSpecSchema,
  maasClusterTemplateCrdSource,
  maasClusterTemplatePrinterColumns,
  type MaasClusterTemplate,
  type MaasClusterTemplateSpec,
} from "./maasclustertemplate-types.ts";
export { kindSpec, type KindSpec, type KubeObject } from "./object-model.ts";
export * from "./conditions.ts";
export * from "./finalizers.ts";
export * from "./labels.ts";
export type { CrdSource, PrinterColumn } from "./crd-source.ts";
export { CAPI_CATEGORY, buildCrd, structuralViolations, toStructuralSchema, type JsonObject, type JsonValue } from "./crd.ts";
export {
  CRD_BASES_DIR,
  CRD_KUSTOMIZATION_PATH,
  crdFilePath,
  crdSources,
  diffCrdFiles,
  generateCrdFiles,
  isGeneratedCrdPath,
  renderYaml,
  type CrdFileDiff,
} from "./crd-files.ts";
