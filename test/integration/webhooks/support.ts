// What the webhook tests share: a CA and a 127.0.0.1 serving certificate made with openssl,
// the provider's webhook server in-process, webhook configurations that send the real
// kube-apiserver to it, and kubectl for the `Warning:` lines the API server relays.
//
// The configurations are cluster-scoped and the control plane is shared with other test
// files, so each test file's webhooks only see one namespace: the namespace carries a
// label with a random value and every webhook selects on it. failurePolicy is Ignore, so
// even a configuration left behind by a crashed run can never block a request; every
// assertion therefore checks the webhook's effect (a default read back, a refusal's text),
// which an ignored call would not produce.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { AdmissionregistrationV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig, type V1MutatingWebhook, type V1ValidatingWebhook } from "@kubernetes/client-node";
import { GROUP, VERSION } from "../../../src/api/v1beta1/index.ts";
import { createLogger } from "../../../src/observability/index.ts";
import { WEBHOOK_KINDS, mutatePath, startProviderWebhooks, validatePath, type WebhookKind, type WebhookServer } from "../../../src/webhooks/index.ts";
import type { TestEnvHandle } from "../../testenv/index.ts";
import { waitFor } from "../controllers/provider-harness.ts";

const execFileAsync = promisify(execFile);

const PLURALS: Record<WebhookKind, string> = {
  maascluster: "maasclusters",
  maasmachine: "maasmachines",
  maasmachinetemplate: "maasmachinetemplates",
  maasclustertemplate: "maasclustertemplates",
};

const OPENSSL_CONFIG = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = webhook-test
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[serving]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1
`;

/**
 * Issues a new CA and a serving certificate for 127.0.0.1 and puts them in `certDir` as
 * tls.crt / tls.key, each written beside and renamed into place (as a Secret volume
 * update swaps files). Returns the CA's PEM for the caBundle.
 */
export async function issueServingCertificate(certDir: string): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), "webhook-ca-"));
  try {
    const config = join(work, "openssl.cnf");
    await writeFile(config, OPENSSL_CONFIG);
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    const ca = randomBytes(4).toString("hex");
    await execFileAsync("openssl", ["req", "-x509", ...ec, "-config", config, "-extensions", "ca", "-days", "2", "-subj", `/CN=webhook-test-ca-${ca}`, "-keyout", join(work, "ca.key"), "-out", join(work, "ca.crt")]);
    await execFileAsync("openssl", ["req", "-x509", ...ec, "-config", config, "-extensions", "serving", "-days", "2", "-subj", "/CN=127.0.0.1", "-CA", join(work, "ca.crt"), "-CAkey", join(work, "ca.key"), "-keyout", join(work, "tls.key"), "-out", join(work, "tls.crt")]);
    await mkdir(certDir, { recursive: true });
    for (const name of ["tls.key", "tls.crt"]) await rename(join(work, name), join(certDir, name));
    return await readFile(join(work, "ca.crt"), "utf8");
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** A namespace that only this test file's webhooks select. */
export async function createWebhookNamespace(kubeConfig: KubeConfig, prefix: string): Promise<{ name: string; selector: Record<string, string> }> {
  const name = `${prefix}-${randomBytes(3).toString("hex")}`;
  const selector = { "webhooks.capmaas.test/scope": name };
  await kubeConfig.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name, labels: selector } } });
  return { name, selector };
}

export async function deleteNamespace(kubeConfig: KubeConfig, name: string): Promise<void> {
  await kubeConfig.makeApiClient(CoreV1Api).deleteNamespace({ name }).catch(() => undefined);
}

export interface InstalledWebhooks {
  name: string;
  /** Points every webhook at a new caBundle (after a certificate rotation). */
  setCaBundle(caPem: string): Promise<void>;
  remove(): Promise<void>;
}

/**
 * One MutatingWebhookConfiguration and one ValidatingWebhookConfiguration named `name`,
 * with a webhook per kind at `https://127.0.0.1:<port><path>`; the validating ones see
 * deletes too, so a refused delete would show.
 */
export async function installWebhooks(kubeConfig: KubeConfig, options: { name: string; port: number; caPem: string; namespaceSelector: Record<string, string> }): Promise<InstalledWebhooks> {
  const api = kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  const common = (kind: WebhookKind, path: string, caPem: string, operations: string[]) => ({
    name: `${kind}.${options.name}.webhooks.capmaas.test`,
    clientConfig: { url: `https://127.0.0.1:${options.port}${path}`, caBundle: Buffer.from(caPem).toString("base64") },
    rules: [{ apiGroups: [GROUP], apiVersions: [VERSION], operations, resources: [PLURALS[kind]], scope: "Namespaced" }],
    namespaceSelector: { matchLabels: options.namespaceSelector },
    failurePolicy: "Ignore",
    sideEffects: "None",
    admissionReviewVersions: ["v1"],
    timeoutSeconds: 10,
  });
  const mutating = (caPem: string): V1MutatingWebhook[] => WEBHOOK_KINDS.map((kind) => ({ ...common(kind, mutatePath(kind), caPem, ["CREATE", "UPDATE"]), reinvocationPolicy: "Never" }));
  const validating = (caPem: string): V1ValidatingWebhook[] => WEBHOOK_KINDS.map((kind) => common(kind, validatePath(kind), caPem, ["CREATE", "UPDATE", "DELETE"]));
  const metadata = { name: options.name, labels: { "webhooks.capmaas.test/test": "true" } };
  await api.createMutatingWebhookConfiguration({ body: { metadata, webhooks: mutating(options.caPem) } });
  await api.createValidatingWebhookConfiguration({ body: { metadata, webhooks: validating(options.caPem) } });
  return {
    name: options.name,
    setCaBundle: async (caPem) => {
      const m = await api.readMutatingWebhookConfiguration({ name: options.name });
      await api.replaceMutatingWebhookConfiguration({ name: options.name, body: { ...m, webhooks: mutating(caPem) } });
      const v = await api.readValidatingWebhookConfiguration({ name: options.name });
      await api.replaceValidatingWebhookConfiguration({ name: options.name, body: { ...v, webhooks: validating(caPem) } });
    },
    remove: async () => {
      await api.deleteMutatingWebhookConfiguration({ name: options.name }).catch(() => undefined);
      await api.deleteValidatingWebhookConfiguration({ name: options.name }).catch(() => undefined);
    },
  };
}

export interface WebhookFixture {
  env: TestEnvHandle;
  namespace: string;
  certDir: string;
  server: WebhookServer;
  webhooks: InstalledWebhooks;
  stop(): Promise<void>;
}

/** A namespace, a certificate, the in-process server and its configurations; stop() undoes all of it. */
export async function startWebhookFixture(env: TestEnvHandle, prefix: string, options: { ephemeralMinMemoryMiB?: number; certPollIntervalMs?: number } = {}): Promise<WebhookFixture> {
  const kubeConfig = env.kubeConfig();
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const certDir = await mkdtemp(join(tmpdir(), "webhook-certs-"));
    cleanups.push(() => rm(certDir, { recursive: true, force: true }));
    const caPem = await issueServingCertificate(certDir);
    const server = await startProviderWebhooks({
      port: 0,
      host: "127.0.0.1",
      certDir,
      logger: createLogger({ level: "silent" }),
      ephemeralMinMemoryMiB: options.ephemeralMinMemoryMiB ?? 16_384,
      ...(options.certPollIntervalMs === undefined ? {} : { certPollIntervalMs: options.certPollIntervalMs }),
    });
    cleanups.push(() => server.close());
    const namespace = await createWebhookNamespace(kubeConfig, prefix);
    cleanups.push(() => deleteNamespace(kubeConfig, namespace.name));
    const webhooks = await installWebhooks(kubeConfig, { name: namespace.name, port: server.port, caPem, namespaceSelector: namespace.selector });
    cleanups.push(() => webhooks.remove());
    await waitUntilServed(kubeConfig, namespace.name);
    return { env, namespace: namespace.name, certDir, server, webhooks, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** `kubectl <args>` with `manifest` on stdin; resolves with the result whatever the exit code. */
export async function kubectl(env: TestEnvHandle, args: string[], manifest?: object): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return env.kubectl(args, manifest === undefined ? {} : { input: JSON.stringify(manifest) });
}

/** The `Warning:` lines kubectl printed (the API server's Warning headers). */
export function warningsOf(stderr: string): string[] {
  return stderr.split("\n").filter((line) => line.startsWith("Warning: ")).map((line) => line.slice("Warning: ".length));
}

/**
 * Waits until the API server calls our webhooks in `namespace`: its view of webhook
 * configurations follows a watch, so the first requests after an install (or a caBundle
 * change) can still go without them. A dry-run create runs the mutating webhooks and
 * stores nothing; the default port in its answer shows the webhook ran.
 */
export async function waitUntilServed(kubeConfig: KubeConfig, namespace: string, timeoutMs = 30_000): Promise<void> {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const probe = { apiVersion: `${GROUP}/${VERSION}`, kind: "MaasCluster", metadata: { name: "probe" }, spec: { dnsDomain: "maas", controlPlaneEndpoint: { host: "10.0.0.1" } } };
  await waitFor(`the webhooks of ${namespace} to be called`, async () => {
    const answer = (await api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: "maasclusters", body: probe, dryRun: "All" })) as { spec?: { controlPlaneEndpoint?: { port?: number } } };
    return answer.spec?.controlPlaneEndpoint?.port === 6443;
  }, timeoutMs);
}
