// Test helpers for the boot PKI: CAs as Cluster API makes them, and the raw DER names of
// a certificate (what Go compares when it builds a chain).
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { X509Certificate, webcrypto } from "node:crypto";
import { newKeyPair, type CaPair, type KeyAlgorithm } from "./x509.ts";

export interface CaOptions {
  algorithm?: KeyAlgorithm;
  commonName?: string;
  /** Go writes a PrintableString where it can; openssl writes UTF8String by default. */
  stringType?: "printableString" | "utf8String";
  /** When the CA was made (now): a cluster's CA is older than the machines that join it. */
  createdAt?: Date;
}

/**
 * A CA like cluster-api util/secret/certificates.go newSelfSignedCACert: CN "kubernetes"
 * (for the etcd and front-proxy CAs too), 5 minutes back-dated, CA:TRUE with path
 * length 0, a subject key id (Go adds one to every CA), and the key in PKCS#1 or SEC1 PEM.
 */
export async function makeCa(options: CaOptions = {}): Promise<CaPair> {
  const { algorithm = "RSA-2048", commonName = "kubernetes", stringType = "printableString" } = options;
  const keys = await newKeyPair(algorithm);
  const signingAlgorithm = algorithm.startsWith("RSA-")
    ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }
    : { name: "ECDSA", hash: algorithm === "ECDSA-P256" ? "SHA-256" : "SHA-384", namedCurve: algorithm === "ECDSA-P256" ? "P-256" : "P-384" };
  const signingKey = await webcrypto.subtle.importKey("pkcs8", keys.privateKey.export({ type: "pkcs8", format: "der" }), signingAlgorithm, false, ["sign"]);
  const now = (options.createdAt ?? new Date()).getTime();
  const name = new x509.Name([{ "2.5.4.3": [{ [stringType]: commonName }] }]);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: "00",
    subject: name,
    issuer: name,
    notBefore: new Date(now - 5 * 60_000),
    notAfter: new Date(now + 10 * 365 * 24 * 3_600_000),
    publicKey: keys.publicKeyDer,
    signingKey,
    signingAlgorithm,
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign, true),
      new x509.BasicConstraintsExtension(true, 0, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKeyDer),
    ],
  });
  return { certPem: `${cert.toString("pem")}\n`, keyPem: keys.privateKeyPem };
}

interface Element {
  start: number;
  body: number;
  end: number;
}

function element(der: Buffer, start: number): Element {
  const first = der[start + 1] ?? 0;
  let length = first;
  let body = start + 2;
  if (first & 0x80) {
    length = 0;
    for (let i = 0; i < (first & 0x7f); i++) length = length * 256 + (der[body++] ?? 0);
  }
  return { start, body, end: body + length };
}

function children(der: Buffer, parent: Element): Element[] {
  const out: Element[] = [];
  for (let at = parent.body; at < parent.end; ) {
    const child = element(der, at);
    out.push(child);
    at = child.end;
  }
  return out;
}

/** The issuer and subject Names of a certificate, as the DER bytes signed in its TBSCertificate. */
export function rawNames(certPem: string): { issuer: Buffer; subject: Buffer } {
  const der = new X509Certificate(certPem).raw;
  const tbs = children(der, element(der, 0))[0] as Element;
  const fields = children(der, tbs);
  // version [0] is there for v3, then serial, signature, issuer, validity, subject.
  const skip = der[tbs.body] === 0xa0 ? 1 : 0;
  const slice = (i: number): Buffer => {
    const field = fields[skip + i] as Element;
    return der.subarray(field.start, field.end);
  };
  return { issuer: slice(2), subject: slice(4) };
}
