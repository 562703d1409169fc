// The provider's webhooks: the eight paths of paths.ts, each bound to its kind's handler.
import type { Logger } from "../observability/index.ts";
import type { MachineSpecRules } from "./machine-spec.ts";
import { maasClusterWebhook } from "./maascluster.ts";
import { maasClusterTemplateWebhook } from "./maasclustertemplate.ts";
import { maasMachineWebhook } from "./maasmachine.ts";
import { maasMachineTemplateWebhook } from "./maasmachinetemplate.ts";
import { mutatePath, validatePath, type WebhookKind } from "./paths.ts";
import { startWebhookServer, type WebhookServer } from "./server.ts";
import { mutatingHandler, validatingHandler, type AdmissionHandler, type KindWebhook } from "./webhook.ts";

export interface ProviderWebhooksOptions extends MachineSpecRules {
  port: number;
  host?: string;
  certDir: string;
  logger: Logger;
  certPollIntervalMs?: number;
}

/** Path → handler for every kind (the server's routing table). */
export function providerWebhookHandlers(rules: MachineSpecRules): Map<string, AdmissionHandler> {
  const kinds: [WebhookKind, KindWebhook<never>][] = [
    ["maascluster", maasClusterWebhook() as KindWebhook<never>],
    ["maasmachine", maasMachineWebhook(rules) as KindWebhook<never>],
    ["maasmachinetemplate", maasMachineTemplateWebhook(rules) as KindWebhook<never>],
    ["maasclustertemplate", maasClusterTemplateWebhook() as KindWebhook<never>],
  ];
  const handlers = new Map<string, AdmissionHandler>();
  for (const [kind, webhook] of kinds) {
    handlers.set(mutatePath(kind), mutatingHandler(webhook));
    handlers.set(validatePath(kind), validatingHandler(webhook));
  }
  return handlers;
}

/** Starts the HTTPS server with every webhook of the provider. */
export function startProviderWebhooks(options: ProviderWebhooksOptions): Promise<WebhookServer> {
  return startWebhookServer({
    port: options.port,
    ...(options.host === undefined ? {} : { host: options.host }),
    certDir: options.certDir,
    handlers: providerWebhookHandlers({ ephemeralMinMemoryMiB: options.ephemeralMinMemoryMiB }),
    logger: options.logger,
    ...(options.certPollIntervalMs === undefined ? {} : { certPollIntervalMs: options.certPollIntervalMs }),
  });
}
