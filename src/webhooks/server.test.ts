// The webhook server's plumbing over real HTTPS on port 0: what a caller that is not the
// API server gets (400 for a body that is no AdmissionReview, 404, 405, 415), the shape
// of the AdmissionReview it answers (uid echoed, base64 JSONPatch that turns the object
// into the defaulted one, warnings), and the readiness answer. What each kind defaults
// and refuses is tested through the real kube-apiserver in test/integration/webhooks.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { createLogger } from "../observability/index.ts";
import { applyJsonPatch } from "./json-patch.ts";
import { MUTATE_MAASMACHINE_PATH, VALIDATE_MAASCLUSTER_PATH } from "./paths.ts";
import { startProviderWebhooks } from "./setup.ts";
import type { WebhookServer } from "./server.ts";

const execFileAsync = promisify(execFile);

interface Answer {
  status: number;
  body: string;
}

function post(port: number, path: string, body: string, options: { method?: string; type?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path, method: options.method ?? "POST", rejectUnauthorized: false, headers: { "content-type": options.type ?? "application/json" } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      },
    );
    req.once("error", reject);
    req.end(options.method === "GET" ? undefined : body);
  });
}

function review(request: Record<string, unknown>): string {
  return JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request });
}

describe("the webhook server", () => {
  let dir: string;
  let server: WebhookServer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "webhook-server-test-"));
    await execFileAsync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-keyout", join(dir, "tls.key"), "-out", join(dir, "tls.crt")]);
    server = await startProviderWebhooks({ port: 0, host: "127.0.0.1", certDir: dir, logger: createLogger({ level: "silent" }), ephemeralMinMemoryMiB: 16_384 });
  });

  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe("a mutating request", () => {
    const object = { apiVersion: "infrastructure.cluster.x-k8s.io/v1beta1", kind: "MaasMachine", metadata: { name: "m" }, spec: { minCPU: 1, minMemory: 1024, image: "jammy", ephemeral: false, deployInMemory: true } };

    it("answers an AdmissionReview with the uid, a base64 JSONPatch to the defaulted object and the warning", async () => {
      const answer = await post(server.port, MUTATE_MAASMACHINE_PATH, review({ uid: "u-1", operation: "CREATE", kind: { group: "infrastructure.cluster.x-k8s.io", version: "v1beta1", kind: "MaasMachine" }, object }));
      assert.equal(answer.status, 200);
      const body = JSON.parse(answer.body) as { apiVersion: string; kind: string; response: { uid: string; allowed: boolean; patchType: string; patch: string; warnings: string[] } };
      assert.deepEqual([body.apiVersion, body.kind, body.response.uid, body.response.allowed, body.response.patchType], ["admission.k8s.io/v1", "AdmissionReview", "u-1", true, "JSONPatch"]);
      const patch = JSON.parse(Buffer.from(body.response.patch, "base64").toString("utf8")) as Parameters<typeof applyJsonPatch>[1];
      const patched = applyJsonPatch(object, patch) as typeof object;
      assert.deepEqual(patched.spec, { minCPU: 1, minMemory: 1024, image: "jammy", ephemeral: true });
      assert.equal(body.response.warnings.length, 1);
    });

    it("sends no patch when nothing needs defaulting", async () => {
      const plain = { ...object, spec: { minCPU: 1, minMemory: 1024, image: "jammy", ephemeral: false } };
      const answer = await post(server.port, MUTATE_MAASMACHINE_PATH, review({ uid: "u-2", operation: "UPDATE", object: plain, oldObject: plain }));
      const response = (JSON.parse(answer.body) as { response: Record<string, unknown> }).response;
      assert.deepEqual(response, { uid: "u-2", allowed: true });
    });
  });

  describe("a refusal", () => {
    it("is a 422 Invalid status naming the kind, the object and the field, with a cause per field", async () => {
      const cluster = (dnsDomain: string) => ({ metadata: { name: "c1" }, spec: { dnsDomain } });
      const answer = await post(server.port, VALIDATE_MAASCLUSTER_PATH, review({ uid: "u-3", operation: "UPDATE", name: "c1", object: cluster("b.test"), oldObject: cluster("a.test") }));
      const response = (JSON.parse(answer.body) as { response: { allowed: boolean; status: { code: number; reason: string; message: string; details: { causes: { field: string }[] } } } }).response;
      assert.equal(response.allowed, false);
      assert.deepEqual([response.status.code, response.status.reason], [422, "Invalid"]);
      assert.match(response.status.message, /^MaasCluster\.infrastructure\.cluster\.x-k8s\.io "c1" is invalid: spec\.dnsDomain: Forbidden: cannot change/);
      assert.deepEqual(response.status.details.causes.map((cause) => cause.field), ["spec.dnsDomain"]);
    });
  });

  describe("what is not an admission request", () => {
    for (const [label, path, body, options, status, text] of [
      ["a body that is not JSON", MUTATE_MAASMACHINE_PATH, "{", {}, 400, /not JSON/],
      ["an AdmissionReview of another version", MUTATE_MAASMACHINE_PATH, JSON.stringify({ apiVersion: "admission.k8s.io/v1beta1", kind: "AdmissionReview", request: { uid: "x" } }), {}, 400, /admissionReviewVersions: \["v1"\]/],
      ["a request without a uid", MUTATE_MAASMACHINE_PATH, review({ operation: "CREATE", object: {} }), {}, 400, /request\.uid is missing/],
      ["an UPDATE without its old object", MUTATE_MAASMACHINE_PATH, review({ uid: "x", operation: "UPDATE", object: {} }), {}, 400, /oldObject is missing for UPDATE/],
      ["a path with no webhook", "/mutate-nothing", review({ uid: "x" }), {}, 404, /no webhook at \/mutate-nothing/],
      ["a GET of a webhook path", MUTATE_MAASMACHINE_PATH, "", { method: "GET" }, 405, /take POST/],
      ["a body that is not JSON by its content type", MUTATE_MAASMACHINE_PATH, "x", { type: "text/plain" }, 415, /expected application\/json/],
    ] as const) {
      it(`answers ${label} with ${status}`, async () => {
        const answer = await post(server.port, path, body, options);
        assert.equal(answer.status, status);
        assert.match(answer.body, text);
      });
    }
  });

  it("answers /readyz and /healthz with ok while it serves", async () => {
    for (const path of ["/readyz", "/healthz"]) {
      const answer = await post(server.port, path, "", { method: "GET" });
      assert.deepEqual([answer.status, answer.body], [200, "ok\n"]);
    }
    assert.equal(server.readyReason(), undefined);
  });

  it("refuses to start on a directory whose certificate is unusable, naming the file", async () => {
    const bad = await mkdtemp(join(tmpdir(), "webhook-server-bad-"));
    try {
      await writeFile(join(bad, "tls.crt"), "not a certificate");
      await writeFile(join(bad, "tls.key"), "not a key");
      await assert.rejects(
        startProviderWebhooks({ port: 0, certDir: bad, logger: createLogger({ level: "silent" }), ephemeralMinMemoryMiB: 1 }),
        new RegExp(`${bad}/tls\\.crt and tls\\.key are not a usable pair`),
      );
    } finally {
      await rm(bad, { recursive: true, force: true });
    }
  });
});
