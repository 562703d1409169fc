// What each kind declares about its CRD, next to its schema: names, printer columns and
// subresources. crd.ts turns one of these into a CustomResourceDefinition.
import type { TSchema } from "@sinclair/typebox";

/** One `additionalPrinterColumns` entry, as `kubectl get` shows it. */
export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  jsonPath: string;
  description: string;
  /** 0 shows in `kubectl get`; 1 only with `-o wide`. */
  priority?: 0 | 1;
}

/** Everything needed to emit one kind's CRD. */
export interface CrdSource {
  kind: string;
  plural: string;
  singular: string;
  shortNames: readonly string[];
  /** Shown by `kubectl explain <kind>`. */
  description: string;
  spec: TSchema;
  /** Omitted for kinds without observed state (e.g. cluster templates). */
  status?: TSchema;
  printerColumns: readonly PrinterColumn[];
}

/** JSONPath of the CAPI cluster-name label (dots in the key escaped for kubectl). */
export const CLUSTER_NAME_LABEL_JSONPATH = ".metadata.labels['cluster\\.x-k8s\\.io/cluster-name']";

/** JSONPath of a condition's status by type, the form CAPI's own printer columns use. */
export function conditionStatusJsonPath(type: string): string {
  return `.status.conditions[?(@.type=="${type}")].status`;
}

/** The Age column every kind ends with. */
export const AGE_COLUMN: PrinterColumn = {
  name: "Age",
  type: "date",
  jsonPath: ".metadata.creationTimestamp",
  description: "Time since the object was created.",
};
