import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { FakeClock } from "../clock/index.ts";
import { createLogger, type Logger } from "../observability/index.ts";
import { MaasClient, type MaasClientOptions } from "./client.ts";
import { MaasConfigError, MaasTlsVerificationError } from "./errors.ts";
import {
  API_KEY,
  RecordingClock,
  json,
  makeTestCertificates,
  scriptedServer,
  versionJson,
  withoutRetry,
  type KeyPair,
  type ScriptedServer,
  type TestCertificates,
} from "./test-support.ts";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

let certs: TestCertificates;
const cleanups: Array<() => Promise<void> | void> = [];

before(() => {
  certs = makeTestCertificates();
});
after(() => certs.remove());
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function maasServing(pair: KeyPair): Promise<ScriptedServer> {
  const server = await scriptedServer((_req, res) => json(res, 200, versionJson), { tls: pair });
  cleanups.push(() => server.close());
  return server;
}

function client(endpoint: string, options: Partial<MaasClientOptions> = {}): MaasClient {
  const maas = new MaasClient({ endpoint, apiKey: API_KEY, clock: new FakeClock(Date.now()), random: () => 0.5, ...options });
  cleanups.push(() => maas.close());
  return maas;
}

/** A debug logger whose JSON lines the test reads back (fields only, never message text). */
function capturingLogger(): { logger: Logger; records: () => Array<Record<string, unknown>> } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger({ level: "debug", destination }), records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const PINO_WARN = 40;

function warningsAbout(records: Array<Record<string, unknown>>, option: string): number {
  return records.filter((r) => r.level === PINO_WARN && r.option === option).length;
}

describe("TLS to MAAS", () => {
  describe("when MAAS's certificate is refused", () => {
    const cases: Array<{ situation: string; pair: () => KeyPair; trustCa: boolean; reason: string; tlsCode: string }> = [
      { situation: "it is self-signed", pair: () => certs.selfSigned, trustCa: false, reason: "self-signed", tlsCode: "DEPTH_ZERO_SELF_SIGNED_CERT" },
      { situation: "its CA is unknown", pair: () => certs.serverByOtherCa, trustCa: true, reason: "unknown-ca", tlsCode: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" },
      { situation: "it names another host", pair: () => certs.wrongHost, trustCa: true, reason: "hostname-mismatch", tlsCode: "ERR_TLS_CERT_ALTNAME_INVALID" },
      { situation: "it has expired", pair: () => certs.expired, trustCa: true, reason: "expired", tlsCode: "CERT_HAS_EXPIRED" },
    ];
    for (const { situation, pair, trustCa, reason, tlsCode } of cases) {
      it(`fails with TlsVerification when ${situation}, after one handshake and no retry`, async () => {
        const server = await maasServing(pair());
        const clock = new RecordingClock(Date.now());
        const maas = client(server.url, { clock, retry: { maxAttempts: 4 }, ...(trustCa ? { caCertificates: certs.ca.cert } : {}) });
        const error = await withoutRetry(maas.version.get(), clock);
        assert.ok(error instanceof MaasTlsVerificationError, `got ${String(error)}`);
        assert.equal(error.code, "TlsVerification");
        assert.equal(error.reason, reason);
        assert.equal(error.tlsCode, tlsCode);
        assert.equal(error.op, "GET version/");
        assert.ok(error.message.includes(tlsCode));
        assert.equal(server.connections, 1);
        assert.equal(server.requests.length, 0);
      });
    }
  });

  describe("when caCertificates holds MAAS's private CA", () => {
    it("verifies MAAS's certificate against it", async () => {
      const server = await maasServing(certs.server);
      assert.equal((await client(server.url, { caCertificates: certs.ca.cert }).version.get()).version, "3.6.0");
    });

    it("trusts several CAs given as one PEM bundle", async () => {
      const server = await maasServing(certs.serverByOtherCa);
      const bundle = `# private CAs\n${certs.ca.cert}\n${certs.otherCa.cert}`;
      assert.equal((await client(server.url, { caCertificates: bundle }).version.get()).version, "3.6.0");
    });

    it("keeps trusting Node's default store (here NODE_EXTRA_CA_CERTS) instead of replacing it", async () => {
      // NODE_EXTRA_CA_CERTS is read when Node starts, so the client runs in a child
      // process that trusts otherCa by default and is given ca through caCertificates.
      const server = await maasServing(certs.serverByOtherCa);
      const script = path.join(certs.dir, "child.mts");
      writeFileSync(
        script,
        [
          `import { readFileSync } from "node:fs";`,
          `import { MaasClient } from ${JSON.stringify(pathToFileURL(path.join(REPO_ROOT, "src/maas/index.ts")).href)};`,
          `const [endpoint, caFile] = process.argv.slice(2);`,
          `const maas = new MaasClient({ endpoint, apiKey: ${JSON.stringify(API_KEY)}, caCertificates: readFileSync(caFile, "utf8"), retry: { maxAttempts: 1 } });`,
          `const outcome = await maas.version.get().then((v) => ({ version: v.version }), (e: { code?: string; reason?: string }) => ({ code: e.code, reason: e.reason }));`,
          `maas.close();`,
          `console.log(JSON.stringify(outcome));`,
        ].join("\n"),
      );
      const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", script, server.url, path.join(certs.dir, "ca.pem")], {
        cwd: REPO_ROOT,
        env: { ...process.env, NODE_EXTRA_CA_CERTS: path.join(certs.dir, "other-ca.pem") },
      });
      assert.deepEqual(JSON.parse(stdout), { version: "3.6.0" });
    });
  });

  describe("when caCertificates is not PEM", () => {
    const invalid: Array<[string, string]> = [
      ["empty", ""],
      ["blank", " \n "],
      ["plain text", "/etc/ssl/certs/maas-ca.pem"],
      ["a private key", "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n"],
      ["a broken certificate block", "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"],
    ];
    for (const [what, value] of invalid) {
      it(`refuses ${what} at construction, naming the option`, () => {
        assert.throws(
          () => new MaasClient({ endpoint: "https://maas.example:5240/MAAS", apiKey: API_KEY, caCertificates: value }),
          (error: unknown) => error instanceof MaasConfigError && error.code === "InvalidConfig" && error.message.includes("caCertificates"),
        );
      });
    }
  });

  describe("when the endpoint is http:", () => {
    it("warns once that caCertificates is ignored, and still talks to MAAS", async () => {
      const server = await scriptedServer((_req, res) => json(res, 200, versionJson));
      cleanups.push(() => server.close());
      const { logger, records } = capturingLogger();
      const maas = client(server.url, { caCertificates: certs.ca.cert, logger });
      await maas.version.get();
      await maas.version.get();
      assert.equal(warningsAbout(records(), "caCertificates"), 1);
    });
  });

  describe("when insecureSkipTlsVerify is set", () => {
    it("talks to a self-signed MAAS and warns once, at construction", async () => {
      const server = await maasServing(certs.selfSigned);
      const { logger, records } = capturingLogger();
      const maas = client(server.url, { insecureSkipTlsVerify: true, logger });
      assert.equal(warningsAbout(records(), "insecureSkipTlsVerify"), 1);
      await maas.version.get();
      await maas.version.get();
      assert.equal(warningsAbout(records(), "insecureSkipTlsVerify"), 1);
    });

    it("refuses a value that is not a boolean", () => {
      const options = { endpoint: "https://maas.example:5240/MAAS", apiKey: API_KEY, insecureSkipTlsVerify: "yes" as unknown as boolean };
      assert.throws(() => new MaasClient(options), { code: "InvalidConfig" });
    });
  });
});
