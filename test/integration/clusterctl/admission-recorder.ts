// The test's own view of what the API server asks the provider's webhooks: an HTTPS
// proxy in front of the manager's webhook port that records every AdmissionReview it
// passes on (operation, dry-run, the topology dry-run annotation, whether the spec
// changed, the answer) and hands the manager's answer back unchanged. The manager's
// server stays as users run it; the record is what the assertions read. Webhook
// configurations pointing at the proxy select one namespace (its label), with
// failurePolicy Fail, so a refused or failed call really stops the writer. Configurations
// left behind by a killed run can only block writes in that run's own namespace.
import https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isDeepStrictEqual } from "node:util";
import { AdmissionregistrationV1Api, type KubeConfig } from "@kubernetes/client-node";
import { GROUP, VERSION } from "../../../src/api/v1beta1/index.ts";
import { TopologyDryRunAnnotation, WEBHOOK_KINDS, mutatePath, validatePath, type WebhookKind } from "../../../src/webhooks/index.ts";

const PLURALS: Record<WebhookKind, string> = {
  maascluster: "maasclusters",
  maasmachine: "maasmachines",
  maasmachinetemplate: "maasmachinetemplates",
  maasclustertemplate: "maasclustertemplates",
};

/** One AdmissionReview as the proxy saw it go to the manager and come back. */
export interface AdmissionRecord {
  path: string;
  kind: string;
  operation: string;
  namespace: string;
  name: string;
  dryRun: boolean;
  /** The object carries CAPI's topology.cluster.x-k8s.io/dry-run annotation. */
  topologyDryRun: boolean;
  /** UPDATE only: `spec` differs between oldObject and object. */
  specChanged: boolean;
  /** The manager's answer; false also when it could not be reached. */
  allowed: boolean;
  message: string;
}

export interface AdmissionRecorder {
  readonly port: number;
  readonly records: readonly AdmissionRecord[];
  close(): Promise<void>;
}

type Json = Record<string, unknown>;

function field(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Json)[key];
  }
  return current;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.once("end", () => resolve(Buffer.concat(chunks)));
    req.once("error", reject);
  });
}

function forward(target: { port: number; caPem: string }, req: IncomingMessage, body: Buffer): Promise<{ status: number; type: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const out = https.request(
      { host: "127.0.0.1", port: target.port, method: req.method, path: req.url, ca: target.caPem, headers: { "content-type": req.headers["content-type"] ?? "application/json", "content-length": body.length } },
      (res) => {
        readBody(res).then((answer) => resolve({ status: res.statusCode ?? 502, type: res.headers["content-type"] ?? "application/json", body: answer }), reject);
      },
    );
    out.once("error", reject);
    out.end(body);
  });
}

/** Serves `certPem`/`keyPem` on 127.0.0.1 (a free port) and forwards to the manager's webhook port, trusting `caPem`. */
export async function startAdmissionRecorder(options: { certPem: string; keyPem: string; caPem: string; targetPort: number }): Promise<AdmissionRecorder> {
  const records: AdmissionRecord[] = [];
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    let review: unknown;
    try {
      review = JSON.parse(body.toString("utf8"));
    } catch {
      review = undefined;
    }
    const request = field(review, "request");
    const object = field(request, "object");
    const oldObject = field(request, "oldObject");
    const record: AdmissionRecord = {
      path: new URL(req.url ?? "/", "https://proxy").pathname,
      kind: String(field(request, "kind", "kind") ?? ""),
      operation: String(field(request, "operation") ?? ""),
      namespace: String(field(request, "namespace") ?? ""),
      name: String(field(request, "name") ?? field(object, "metadata", "name") ?? ""),
      dryRun: field(request, "dryRun") === true,
      topologyDryRun: typeof field(object, "metadata", "annotations", TopologyDryRunAnnotation) === "string",
      specChanged: oldObject !== undefined && object !== undefined && !isDeepStrictEqual(field(oldObject, "spec"), field(object, "spec")),
      allowed: false,
      message: "",
    };
    try {
      const answer = await forward({ port: options.targetPort, caPem: options.caPem }, req, body);
      const response = field(JSON.parse(answer.body.toString("utf8") || "{}"), "response");
      record.allowed = field(response, "allowed") === true;
      record.message = String(field(response, "status", "message") ?? "");
      res.writeHead(answer.status, { "content-type": answer.type });
      res.end(answer.body);
    } catch (err) {
      // The manager is down or refused the connection: the API server sees a failed call.
      record.message = `proxy: ${String(err)}`;
      res.writeHead(502, { "content-type": "text/plain" });
      res.end(`${record.message}\n`);
    } finally {
      // Recorded once answered: a request still in flight would read as refused.
      records.push(record);
    }
  };
  const server = https.createServer({ cert: options.certPem, key: options.keyPem, minVersion: "TLSv1.2" }, (req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    records,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface InstalledConfigurations {
  remove(): Promise<void>;
}

/**
 * A MutatingWebhookConfiguration and a ValidatingWebhookConfiguration named `name`, one
 * webhook per kind at `https://127.0.0.1:<port><path>`, for namespaces labelled
 * `namespaceSelector`, failurePolicy Fail.
 */
export async function installFailClosedWebhooks(kubeConfig: KubeConfig, options: { name: string; port: number; caPem: string; namespaceSelector: Record<string, string> }): Promise<InstalledConfigurations> {
  const api = kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  const webhook = (kind: WebhookKind, path: string) => ({
    name: `${kind}.${options.name}.topology.capmaas.test`,
    clientConfig: { url: `https://127.0.0.1:${String(options.port)}${path}`, caBundle: Buffer.from(options.caPem).toString("base64") },
    rules: [{ apiGroups: [GROUP], apiVersions: [VERSION], operations: ["CREATE", "UPDATE"], resources: [PLURALS[kind]], scope: "Namespaced" }],
    namespaceSelector: { matchLabels: options.namespaceSelector },
    failurePolicy: "Fail",
    sideEffects: "None",
    admissionReviewVersions: ["v1"],
    timeoutSeconds: 10,
  });
  const metadata = { name: options.name };
  await api.createMutatingWebhookConfiguration({ body: { metadata, webhooks: WEBHOOK_KINDS.map((kind) => ({ ...webhook(kind, mutatePath(kind)), reinvocationPolicy: "Never" })) } });
  try {
    await api.createValidatingWebhookConfiguration({ body: { metadata, webhooks: WEBHOOK_KINDS.map((kind) => webhook(kind, validatePath(kind))) } });
  } catch (err) {
    await api.deleteMutatingWebhookConfiguration({ name: options.name }).catch(() => undefined);
    throw err;
  }
  return {
    remove: async () => {
      await api.deleteMutatingWebhookConfiguration({ name: options.name }).catch(() => undefined);
      await api.deleteValidatingWebhookConfiguration({ name: options.name }).catch(() => undefined);
    },
  };
}
