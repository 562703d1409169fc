// The serving certificate rotated under a running webhook server, as cert-manager does:
// new files from a new CA appear in the directory, the server serves them without a
// restart, and once the webhook configurations carry the new caBundle the API server's
// calls succeed again. A pair that does not match is never served.
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { connect } from "node:tls";
import { after, before, describe, it } from "node:test";
import { API_VERSION, type MaasClusterSpec } from "../../../src/api/v1beta1/index.ts";
import { useSharedTestEnv, type TestEnvHandle } from "../../testenv/index.ts";
import { MaasApi, type Stored } from "../api/api-client.ts";
import { waitFor } from "../controllers/provider-harness.ts";
import { issueServingCertificate, startWebhookFixture, waitUntilServed, type WebhookFixture } from "./support.ts";

type StoredCluster = Stored<MaasClusterSpec>;

/** The sha256 fingerprint of the certificate the server presents now (no verification: we only look). */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      const fingerprint = socket.getPeerX509Certificate()?.fingerprint256 ?? "";
      socket.end();
      resolve(fingerprint);
    });
    socket.once("error", reject);
  });
}

async function fileFingerprint(certDir: string): Promise<string> {
  return new X509Certificate(await readFile(join(certDir, "tls.crt"))).fingerprint256;
}

describe("webhook serving certificate reload", () => {
  let env: TestEnvHandle;
  let fixture: WebhookFixture;
  let api: MaasApi;
  let counter = 0;

  /** Creates a MaasCluster with a host-only endpoint; the port is there only if the mutating webhook ran. */
  const defaultedPort = async (): Promise<number | undefined> => {
    const name = `r${(counter += 1)}`;
    await api.create("maasclusters", { apiVersion: API_VERSION, kind: "MaasCluster", metadata: { name }, spec: { dnsDomain: "maas.test", controlPlaneEndpoint: { host: "10.1.1.1" } } });
    return (await api.get<StoredCluster>("maasclusters", name)).spec.controlPlaneEndpoint?.port;
  };

  before(async () => {
    env = await useSharedTestEnv();
    // A long poll: the directory watch alone must notice the new files.
    fixture = await startWebhookFixture(env, "webhook-reload", { certPollIntervalMs: 600_000 });
    api = new MaasApi(env.kubeConfig(), fixture.namespace);
  });

  after(async () => {
    await fixture?.stop();
    await env?.stop();
  });

  it("serves a certificate from a new CA once its files replace the old ones, and the API server's calls succeed with the new caBundle", async () => {
    assert.equal(await defaultedPort(), 6443, "the webhook answers with the first certificate");
    const before = await servedFingerprint(fixture.server.port);

    const newCa = await issueServingCertificate(fixture.certDir);
    const expected = await fileFingerprint(fixture.certDir);
    assert.notEqual(expected, before);
    await waitFor("the server to present the new certificate", async () => (await servedFingerprint(fixture.server.port)) === expected, 15_000);

    // The API server still trusts only the old CA: its call fails the handshake, and
    // failurePolicy Ignore lets the object through undefaulted.
    assert.equal(await defaultedPort(), undefined, "a caller with the old caBundle can no longer reach the webhook");

    await fixture.webhooks.setCaBundle(newCa);
    await waitUntilServed(env.kubeConfig(), fixture.namespace);
    assert.equal(await defaultedPort(), 6443, "the webhook answers with the new certificate");
  });

  it("keeps serving the current certificate when the files change to a pair that does not match", async () => {
    const served = await servedFingerprint(fixture.server.port);
    // A certificate of another key pair beside the current key: what a half-done copy looks like.
    // (Made inside the certificate directory, which the fixture removes.)
    const otherDir = join(fixture.certDir, "other");
    await issueServingCertificate(otherDir);
    await writeFile(join(fixture.certDir, "tls.crt"), await readFile(join(otherDir, "tls.crt")));
    await fixture.server.reloadCertificate();
    assert.equal(await servedFingerprint(fixture.server.port), served);
    assert.equal(await defaultedPort(), 6443, "calls still succeed");
  });
});
