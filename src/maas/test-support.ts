// Test helpers for the MAAS client's own tests: real HTTP and HTTPS servers on port 0
// that answer from a script and count connections, certificates made with openssl in
// a temporary directory, and a FakeClock that records the client's backoff sleeps.
// Not exported from index.ts; not part of the build.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { FakeClock } from "../clock/index.ts";

export const API_KEY = "consumerKEY1:tokenKEY22:tokenSECRET333";

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type Handler = (request: Recorded, res: http.ServerResponse, index: number) => void;

export interface ScriptedServer {
  /** The MAAS endpoint, e.g. `http://127.0.0.1:1234/MAAS`. */
  url: string;
  port: number;
  requests: Recorded[];
  /** TCP connections accepted (for https, before any handshake). */
  connections: number;
  /** Requests whose connection closed before an answer was written. */
  abandoned: number;
  close(): Promise<void>;
}

/** A real server on port 0 that answers each request with `handler`; https when `tls` is given. */
export async function scriptedServer(handler: Handler, options: { tls?: { key: string; cert: string }; port?: number } = {}): Promise<ScriptedServer> {
  const requests: Recorded[] = [];
  const listener: http.RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const recorded = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString() };
      requests.push(recorded);
      res.on("close", () => {
        if (!res.writableFinished) result.abandoned++;
      });
      handler(recorded, res, requests.length - 1);
    });
  };
  const server = options.tls === undefined ? http.createServer(listener) : https.createServer(options.tls, listener);
  // A refused handshake is the client's business; the server only counts it.
  server.on("tlsClientError", () => undefined);
  const result: ScriptedServer = {
    url: "",
    port: 0,
    requests,
    connections: 0,
    abandoned: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server.on("connection", () => result.connections++);
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  result.port = (server.address() as AddressInfo).port;
  result.url = `${options.tls === undefined ? "http" : "https"}://127.0.0.1:${result.port}/MAAS`;
  return result;
}

export function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function text(res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "Content-Type": "text/plain", "Content-Length": Buffer.byteLength(body), ...headers });
  res.end(body);
}

export const versionJson = { version: "3.6.0", subversion: "", capabilities: ["authenticate-api"] };

/** A FakeClock that also remembers every sleep it was asked for (the client's backoff). */
export class RecordingClock extends FakeClock {
  readonly sleeps: number[] = [];
  override sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(delayMs);
    return super.sleep(delayMs, signal);
  }
}

/** Waits (polling real time) until `condition` holds; for I/O the test does not control. */
export async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/**
 * The outcome (value or error) of a call that must not be retried: fails as soon as the
 * client starts a backoff sleep instead (on a FakeClock that sleep would never end).
 */
export async function withoutRetry(promise: Promise<unknown>, clock: RecordingClock): Promise<unknown> {
  let settled = false;
  const outcome = promise.then(
    (value) => ((settled = true), value),
    (error: unknown) => ((settled = true), error),
  );
  await waitFor(() => settled || clock.sleeps.length > 0, "the call to finish or back off");
  if (clock.sleeps.length > 0) throw new Error(`the client backed off (${clock.sleeps.join(", ")} ms) to retry a call it must not repeat`);
  return outcome;
}

/** A key and certificate in PEM. */
export interface KeyPair {
  key: string;
  cert: string;
}

export interface TestCertificates {
  /** A private CA (not in Node's roots). */
  ca: KeyPair;
  /** A second private CA, trusted by nobody unless a test says so. */
  otherCa: KeyPair;
  /** Issued by `ca` for IP 127.0.0.1. */
  server: KeyPair;
  /** Issued by `otherCa` for IP 127.0.0.1. */
  serverByOtherCa: KeyPair;
  /** Issued by `ca`, but for the name other.example only. */
  wrongHost: KeyPair;
  /** Issued by `ca` for 127.0.0.1; its notAfter is in the past. */
  expired: KeyPair;
  /** Self-signed for 127.0.0.1. */
  selfSigned: KeyPair;
  /** The directory holding them as files (`ca.pem`, `other-ca.pem`, ...). */
  dir: string;
  remove(): void;
}

/** Makes every certificate the TLS tests need with openssl (EC P-256, so it is quick). */
export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(path.join(tmpdir(), "maas-tls-"));
  const file = (name: string): string => path.join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const read = (name: string): KeyPair => ({ key: readFileSync(file(`${name}.key`), "utf8"), cert: readFileSync(file(`${name}.pem`), "utf8") });
  const selfSigned = (name: string, subject: string, extension: string): void =>
    openssl("req", "-x509", ...ec, "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", "2", "-subj", subject, "-addext", extension);
  const issued = (name: string, caName: string, san: string, days: string): void => {
    openssl("req", "-new", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
    writeFileSync(file(`${name}.ext`), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\n`);
    // A negative -days puts notAfter before now: the certificate has expired.
    openssl("x509", "-req", "-in", `${name}.csr`, "-CA", `${caName}.pem`, "-CAkey", `${caName}.key`, "-CAcreateserial",
      "-out", `${name}.pem`, "-days", days, "-extfile", `${name}.ext`);
  };
  selfSigned("ca", "/CN=maas-test-ca", "basicConstraints=critical,CA:TRUE");
  selfSigned("other-ca", "/CN=maas-other-ca", "basicConstraints=critical,CA:TRUE");
  selfSigned("self-signed", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1");
  issued("server", "ca", "IP:127.0.0.1", "2");
  issued("server-by-other-ca", "other-ca", "IP:127.0.0.1", "2");
  issued("wrong-host", "ca", "DNS:other.example", "2");
  issued("expired", "ca", "IP:127.0.0.1", "-1");
  return {
    ca: read("ca"),
    otherCa: read("other-ca"),
    server: read("server"),
    serverByOtherCa: read("server-by-other-ca"),
    wrongHost: read("wrong-host"),
    expired: read("expired"),
    selfSigned: read("self-signed"),
    dir,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
