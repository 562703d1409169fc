// The provider's admission webhooks in the sandbox: a serving certificate for
// 127.0.0.1 (the control plane's own CA signs it, so the caBundle is that CA) and
// webhook configurations that send the API server to https://127.0.0.1:<port>/<path>,
// the paths the manager serves (src/webhooks/paths.ts). A release reaches the same
// paths through the capmaas-webhook-service Service instead of a URL.
import { copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { MANAGER_HELP } from "../../src/cmd/manager-config.ts";
import { WEBHOOK_KINDS, mutatePath, validatePath, type WebhookKind } from "../../src/webhooks/paths.ts";

const GROUP = "infrastructure.cluster.x-k8s.io";

/** Whether this checkout's manager serves webhooks (it has --webhook-port). */
export function managerServesWebhooks(): boolean {
  return MANAGER_HELP.includes("--webhook-port");
}

/**
 * Writes tls.crt and tls.key for the manager's --webhook-cert-dir. The control plane's
 * serving certificate is already valid for 127.0.0.1 and signed by its CA, so it serves.
 */
export async function writeWebhookCertDir(controlPlaneDir: string, certDir: string): Promise<void> {
  await mkdir(certDir, { recursive: true, mode: 0o700 });
  await copyFile(join(controlPlaneDir, "serving.crt"), join(certDir, "tls.crt"));
  await copyFile(join(controlPlaneDir, "serving.key"), join(certDir, "tls.key"));
}

function plural(kind: WebhookKind): string {
  return `${kind}s`;
}

function webhook(prefix: "m" | "v", kind: WebhookKind, url: string, caBundle: string): Record<string, unknown> {
  return {
    name: `${prefix}${kind}.${GROUP}`,
    admissionReviewVersions: ["v1"],
    sideEffects: "None",
    failurePolicy: "Fail",
    matchPolicy: "Equivalent",
    timeoutSeconds: 10,
    clientConfig: { url, caBundle },
    rules: [{ apiGroups: [GROUP], apiVersions: ["v1beta1"], operations: ["CREATE", "UPDATE"], resources: [plural(kind)], scope: "Namespaced" }],
  };
}

/** Mutating and validating configurations for every kind, as JSON documents for kubectl apply. */
export function webhookConfigurations(port: number, caPem: string): Record<string, unknown>[] {
  const base = `https://127.0.0.1:${String(port)}`;
  const caBundle = Buffer.from(caPem).toString("base64");
  const labels = { "cluster.x-k8s.io/provider": "infrastructure-maas" };
  return [
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "MutatingWebhookConfiguration",
      metadata: { name: "capmaas-sandbox-mutating-webhook-configuration", labels },
      webhooks: WEBHOOK_KINDS.map((kind) => webhook("m", kind, `${base}${mutatePath(kind)}`, caBundle)),
    },
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name: "capmaas-sandbox-validating-webhook-configuration", labels },
      webhooks: WEBHOOK_KINDS.map((kind) => webhook("v", kind, `${base}${validatePath(kind)}`, caBundle)),
    },
  ];
}
