// Issues X.509 certificates the way Go's crypto/x509 CreateCertificate lays them out for
// kubeadm's templates (util/pkiutil/pki_helpers.go NewSignedCert) and for the kubelet's
// self-signed serving pair (client-go util/cert GenerateSelfSignedCertKeyWithOptions).
// Node's crypto can make keys and sign but not build certificates, so @peculiar/x509 (pure
// JS, on Node's WebCrypto) encodes them; it needs a Reflect metadata polyfill loaded first.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { X509Certificate, createPrivateKey, createPublicKey, generateKeyPair, randomBytes, webcrypto, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import { PkiInputError, type AltNames } from "./pki-input.ts";

x509.cryptoProvider.set(webcrypto);

const generateKeyPairAsync = promisify(generateKeyPair);

/** A CA as cloud-init carries it: the PEM certificate and its PEM private key. */
export interface CaPair {
  certPem: string;
  keyPem: string;
}

/** A minted certificate and its new key, both PEM; keyPem is secret and never logged. */
export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
}

/** ClusterConfiguration.encryptionAlgorithm (v1beta4; "RSA-2048" by default). */
export const KEY_ALGORITHMS = ["RSA-2048", "RSA-3072", "RSA-4096", "ECDSA-P256", "ECDSA-P384"] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

/** A loaded CA, ready to sign. */
export interface Authority {
  readonly certificate: x509.X509Certificate;
  readonly signingKey: webcrypto.CryptoKey;
  readonly signingAlgorithm: webcrypto.RsaHashedImportParams | webcrypto.EcdsaParams;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export type Usage = "serverAuth" | "clientAuth";

export interface CertificateSpec {
  commonName: string;
  organizations?: readonly string[];
  usages: readonly Usage[];
  altNames?: AltNames;
  notBefore: Date;
  notAfter: Date;
}

// Go's signingParamsForKey: SHA-256 with RSA, and the curve's own hash with ECDSA.
const CURVES: Record<string, { namedCurve: string; hash: string }> = {
  prime256v1: { namedCurve: "P-256", hash: "SHA-256" },
  secp384r1: { namedCurve: "P-384", hash: "SHA-384" },
  secp521r1: { namedCurve: "P-521", hash: "SHA-512" },
};

function readCaCertificate(pem: string, field: string): X509Certificate {
  try {
    if (!pem.includes("-----BEGIN CERTIFICATE-----")) throw new Error("no PEM block");
    return new X509Certificate(pem);
  } catch {
    throw new PkiInputError(`${field}.certPem`, "is not a PEM certificate; pass the CA certificate file (e.g. ca.crt) from the cloud-init write_files");
  }
}

function readCaKey(pem: string, field: string): KeyObject {
  try {
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) throw new Error("no PEM block");
    return createPrivateKey(pem);
  } catch {
    // Never echo the input: it is meant to be a private key.
    throw new PkiInputError(`${field}.keyPem`, "is not an unencrypted PEM private key (PKCS#1, SEC1 or PKCS#8); pass the CA key file (e.g. ca.key)");
  }
}

/**
 * Loads a CA pair the way kubeadm's CreateTree accepts one from disk: the certificate
 * must be a CA ("certificate is not a CA") and the key must be its key.
 */
export async function loadAuthority(pair: CaPair, field: string): Promise<Authority> {
  const cert = readCaCertificate(pair.certPem, field);
  if (!cert.ca) throw new PkiInputError(`${field}.certPem`, "is not a CA certificate (basicConstraints CA:TRUE); pass the CA, not a leaf");
  const key = readCaKey(pair.keyPem, field);
  const spki = (k: KeyObject): Buffer => k.export({ type: "spki", format: "der" });
  if (!spki(createPublicKey(key)).equals(spki(cert.publicKey))) {
    throw new PkiInputError(`${field}.keyPem`, `does not belong to ${field}.certPem (another public key); pass the key of that CA`);
  }
  let signingAlgorithm: webcrypto.RsaHashedImportParams | webcrypto.EcdsaParams;
  let importAlgorithm: webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams;
  const curve = CURVES[key.asymmetricKeyDetails?.namedCurve ?? ""];
  if (key.asymmetricKeyType === "rsa") {
    signingAlgorithm = importAlgorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  } else if (key.asymmetricKeyType === "ec" && curve) {
    signingAlgorithm = { name: "ECDSA", hash: curve.hash };
    importAlgorithm = { name: "ECDSA", namedCurve: curve.namedCurve };
  } else {
    const type = key.asymmetricKeyType === "ec" ? `ec ${key.asymmetricKeyDetails?.namedCurve}` : key.asymmetricKeyType;
    throw new PkiInputError(`${field}.keyPem`, `is a ${type} key; the CA key must be RSA or ECDSA P-256/P-384/P-521`);
  }
  const der = key.export({ type: "pkcs8", format: "der" });
  const signingKey = await webcrypto.subtle.importKey("pkcs8", der, importAlgorithm, false, ["sign"]);
  const certificate = new x509.X509Certificate(cert.raw);
  return { certificate, signingKey, signingAlgorithm, notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo) };
}

export interface KeyPair {
  publicKeyDer: Buffer;
  /** PKCS#1 for RSA, SEC1 for ECDSA, as keyutil.MarshalPrivateKeyToPEM writes them. */
  privateKeyPem: string;
  privateKey: KeyObject;
}

/** pkiutil.GeneratePrivateKey: a fresh key of the cluster's encryption algorithm. */
export async function newKeyPair(algorithm: KeyAlgorithm): Promise<KeyPair> {
  const { publicKey, privateKey } = algorithm.startsWith("RSA-")
    ? await generateKeyPairAsync("rsa", { modulusLength: Number(algorithm.slice(4)) })
    : await generateKeyPairAsync("ec", { namedCurve: algorithm === "ECDSA-P256" ? "P-256" : "P-384" });
  const type = algorithm.startsWith("RSA-") ? "pkcs1" : "sec1";
  return {
    publicKeyDer: publicKey.export({ type: "spki", format: "der" }),
    privateKeyPem: privateKey.export({ type, format: "pem" }).toString(),
    privateKey,
  };
}

/** PEM ending in a newline, as Go's pem.Encode writes it, so files and bundles concatenate. */
function pem(cert: x509.X509Certificate): string {
  return `${cert.toString("pem").trimEnd()}\n`;
}

/** A random serial in [1, 2^63-1], as NewSignedCert draws it. */
function serialNumber(): string {
  const bytes = randomBytes(8);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  const hex = bytes.toString("hex").replace(/^(00)+/, "");
  return hex === "" ? "01" : hex;
}

// Go's asn1 marshals a string as PrintableString when every character allows it, else
// UTF8String; chain building in Go compares issuer and subject bytes, so this matters.
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;
function nameValue(text: string): { printableString: string } | { utf8String: string } {
  return PRINTABLE.test(text) ? { printableString: text } : { utf8String: text };
}

/** pkix.Name.ToRDNSequence order: each O in its own RDN, then CN. */
function subjectName(commonName: string, organizations: readonly string[]): x509.Name {
  return new x509.Name([
    ...organizations.map((o) => ({ "2.5.4.10": [nameValue(o)] })),
    { "2.5.4.3": [nameValue(commonName)] },
  ]);
}

const EKU: Record<Usage, string> = { serverAuth: x509.ExtendedKeyUsage.serverAuth, clientAuth: x509.ExtendedKeyUsage.clientAuth };

/**
 * Extensions in the order crypto/x509 buildCertExtensions writes them: key usage
 * (critical), extended key usage, basic constraints (critical), subject key id (CAs
 * only), authority key id (the issuer's subject key id, when it has one), SANs.
 */
async function extensionsFor(spec: CertificateSpec, isCA: boolean, publicKeyDer: Buffer, issuer: x509.X509Certificate | undefined): Promise<x509.Extension[]> {
  const usage = x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.digitalSignature | (isCA ? x509.KeyUsageFlags.keyCertSign : 0);
  const extensions: x509.Extension[] = [new x509.KeyUsagesExtension(usage, true)];
  if (spec.usages.length > 0) extensions.push(new x509.ExtendedKeyUsageExtension(spec.usages.map((u) => EKU[u]), false));
  extensions.push(new x509.BasicConstraintsExtension(isCA, undefined, true));
  if (isCA) extensions.push(await x509.SubjectKeyIdentifierExtension.create(publicKeyDer, false));
  const issuerKeyId = issuer?.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  if (issuerKeyId) extensions.push(new x509.AuthorityKeyIdentifierExtension(issuerKeyId, false));
  const sans = [
    ...(spec.altNames?.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
    ...(spec.altNames?.ips ?? []).map((value) => ({ type: "ip" as const, value })),
  ];
  if (sans.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(sans, false));
  return extensions;
}

/** NewSignedCert: a leaf (isCA false) signed by the authority, for the given public key. */
export async function issueCertificate(authority: Authority, spec: CertificateSpec, publicKeyDer: Buffer): Promise<string> {
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: subjectName(spec.commonName, spec.organizations ?? []),
    // The CA's own encoded subject, so the issuer bytes match it exactly.
    issuer: authority.certificate.subjectName,
    notBefore: spec.notBefore,
    notAfter: spec.notAfter,
    publicKey: publicKeyDer,
    signingKey: authority.signingKey,
    signingAlgorithm: authority.signingAlgorithm,
    extensions: await extensionsFor(spec, false, publicKeyDer, authority.certificate),
  });
  return pem(cert);
}

/** A self-signed RSA CA as client-go's GenerateSelfSignedCertKey makes one (no SANs, no EKU). */
export async function selfSignedAuthority(commonName: string, notBefore: Date, notAfter: Date): Promise<{ authority: Authority; certPem: string }> {
  const keys = await newKeyPair("RSA-2048");
  const signingAlgorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  const signingKey = await webcrypto.subtle.importKey("pkcs8", keys.privateKey.export({ type: "pkcs8", format: "der" }), signingAlgorithm, false, ["sign"]);
  const spec: CertificateSpec = { commonName, usages: [], notBefore, notAfter };
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: subjectName(commonName, []),
    issuer: subjectName(commonName, []),
    notBefore,
    notAfter,
    publicKey: keys.publicKeyDer,
    signingKey,
    signingAlgorithm,
    extensions: await extensionsFor(spec, true, keys.publicKeyDer, undefined),
  });
  return { authority: { certificate, signingKey, signingAlgorithm, notBefore, notAfter }, certPem: pem(certificate) };
}
