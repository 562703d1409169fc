// Admission webhooks for MaasCluster, MaasMachine and their templates, served over TLS
// by the manager: defaulting (JSON patches) and validation of what the CRD schema cannot
// say, with messages that name the field and the fix. admission.ts, json-patch.ts,
// field-errors.ts and webhook.ts are the plumbing every kind shares; server.ts and
// certificates.ts serve them with a certificate that is reloaded when its files change.
// Imports api/ and observability/ only: the webhooks never reach into the controllers.
export * from "./paths.ts";
export { CERT_FILE, KEY_FILE } from "./certificates.ts";
export { startProviderWebhooks, providerWebhookHandlers, type ProviderWebhooksOptions } from "./setup.ts";
export { startWebhookServer, type WebhookServer, type WebhookServerOptions } from "./server.ts";
export { TopologyDryRunAnnotation } from "./webhook.ts";
export { DEFAULT_API_SERVER_PORT } from "./cluster-spec.ts";
export { TEMPLATE_IMMUTABLE_FIX } from "./maasmachinetemplate.ts";
