// The HTTPS paths the manager serves admission webhooks on, in controller-runtime's
// convention (/mutate-<group with dashes>-<version>-<lowercase kind>), so the release's
// webhook configurations and this server agree on one spelling.

/** The kinds with webhooks, lower-cased as they appear in the paths. */
export const WEBHOOK_KINDS = ["maascluster", "maasmachine", "maasmachinetemplate", "maasclustertemplate"] as const;
export type WebhookKind = (typeof WEBHOOK_KINDS)[number];

const PREFIX = "infrastructure-cluster-x-k8s-io-v1beta1";

/** Defaulting (MutatingWebhookConfiguration) path of a kind. */
export function mutatePath(kind: WebhookKind): string {
  return `/mutate-${PREFIX}-${kind}`;
}

/** Validation (ValidatingWebhookConfiguration) path of a kind. */
export function validatePath(kind: WebhookKind): string {
  return `/validate-${PREFIX}-${kind}`;
}

export const MUTATE_MAASCLUSTER_PATH = mutatePath("maascluster");
export const VALIDATE_MAASCLUSTER_PATH = validatePath("maascluster");
export const MUTATE_MAASMACHINE_PATH = mutatePath("maasmachine");
export const VALIDATE_MAASMACHINE_PATH = validatePath("maasmachine");
export const MUTATE_MAASMACHINETEMPLATE_PATH = mutatePath("maasmachinetemplate");
export const VALIDATE_MAASMACHINETEMPLATE_PATH = validatePath("maasmachinetemplate");
export const MUTATE_MAASCLUSTERTEMPLATE_PATH = mutatePath("maasclustertemplate");
export const VALIDATE_MAASCLUSTERTEMPLATE_PATH = validatePath("maasclustertemplate");
