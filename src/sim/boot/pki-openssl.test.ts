// A second verifier, independent of the library that issues the certificates and of
// Node's own checks: the openssl CLI verifies every leaf against its CA for its TLS
// purpose, and issues a CA of its own encoding that the node's leaves must chain to.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { mintNodeCertificates, type CaPair, type KubeadmCertName, type NodeCertificates } from "./pki.ts";
import { makeCa, rawNames } from "./pki-test-support.ts";

const execFileAsync = promisify(execFile);

// Our own config, so the system's openssl.cnf cannot change the CA.
const OPENSSL_CONFIG = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = kubernetes
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, digitalSignature, keyEncipherment
subjectKeyIdentifier = hash
`;

async function opensslVerify(caFile: string, leafFile: string, purpose: "sslserver" | "sslclient"): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await execFileAsync("openssl", ["verify", "-x509_strict", "-purpose", purpose, "-CAfile", caFile, leafFile]);
    return { ok: stdout.trim() === `${leafFile}: OK`, output: stdout + stderr };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}

describe("the node's certificates, checked by openssl", () => {
  let dir: string;
  let cas: { cluster: CaPair; frontProxy: CaPair; etcd: CaPair };
  let minted: NodeCertificates;
  const file = async (name: string, pem: string): Promise<string> => {
    const path = join(dir, name.replaceAll("/", "-"));
    await writeFile(path, pem, { mode: 0o600 });
    return path;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "pki-openssl-"));
    // The cluster CA as openssl makes one (UTF8String name, PKCS#8 key); the others as Cluster API does.
    const config = await file("openssl.cnf", OPENSSL_CONFIG);
    await execFileAsync("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-config", config, "-extensions", "ca", "-days", "3650",
      "-keyout", join(dir, "ca.key"), "-out", join(dir, "ca.crt"),
    ]);
    const cluster = { certPem: await readFile(join(dir, "ca.crt"), "utf8"), keyPem: await readFile(join(dir, "ca.key"), "utf8") };
    cas = { cluster, frontProxy: await makeCa(), etcd: await makeCa({ algorithm: "ECDSA-P256" }) };
    minted = await mintNodeCertificates({
      cas,
      nodeName: "cp-0",
      advertiseAddress: "127.10.0.5",
      serviceSubnet: "10.96.0.0/12",
      dnsDomain: "cluster.local",
      controlPlaneEndpoint: "127.10.0.1:6443",
    });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const table: Array<{ name: KubeadmCertName; ca: "cluster" | "frontProxy" | "etcd"; purposes: Array<"sslserver" | "sslclient"> }> = [
    { name: "apiserver", ca: "cluster", purposes: ["sslserver"] },
    { name: "apiserver-kubelet-client", ca: "cluster", purposes: ["sslclient"] },
    { name: "front-proxy-client", ca: "frontProxy", purposes: ["sslclient"] },
    { name: "etcd/server", ca: "etcd", purposes: ["sslserver", "sslclient"] },
    { name: "etcd/peer", ca: "etcd", purposes: ["sslserver", "sslclient"] },
    { name: "etcd/healthcheck-client", ca: "etcd", purposes: ["sslclient"] },
    { name: "apiserver-etcd-client", ca: "etcd", purposes: ["sslclient"] },
  ];
  for (const row of table) {
    it(`verifies ${row.name} against the ${row.ca} CA for ${row.purposes.join(" and ")}`, async () => {
      const pair = minted.pki[row.name] ?? assert.fail(`${row.name} was not minted`);
      const caFile = await file(`${row.ca}-ca.crt`, cas[row.ca].certPem);
      const leafFile = await file(`${row.name}.crt`, pair.certPem);
      for (const purpose of row.purposes) {
        const result = await opensslVerify(caFile, leafFile, purpose);
        assert.ok(result.ok, `${purpose}: ${result.output}`);
      }
    });
  }

  it("refuses a server certificate for a client's purpose, and a leaf against another CA", async () => {
    const apiserver = await file("apiserver-only.crt", minted.pki.apiserver?.certPem ?? "");
    assert.ok(!(await opensslVerify(await file("cluster-ca.crt", cas.cluster.certPem), apiserver, "sslclient")).ok);
    assert.ok(!(await opensslVerify(await file("etcd-ca.crt", cas.etcd.certPem), apiserver, "sslserver")).ok);
  });

  it("verifies the super-admin client certificate against the cluster CA", async () => {
    const result = await opensslVerify(await file("cluster-ca.crt", cas.cluster.certPem), await file("super-admin.crt", minted.superAdmin.certPem), "sslclient");
    assert.ok(result.ok, result.output);
  });

  it("verifies the kubelet's serving leaf against the CA bundled after it", async () => {
    const [leaf, ca] = minted.kubeletServing.certPem.split(/(?<=-----END CERTIFICATE-----\n)/);
    const result = await opensslVerify(await file("kubelet-ca.crt", ca ?? ""), await file("kubelet.crt", leaf ?? ""), "sslserver");
    assert.ok(result.ok, result.output);
  });

  it("names openssl's CA by the very bytes openssl wrote", () => {
    assert.ok(rawNames(minted.pki.apiserver?.certPem ?? "").issuer.equals(rawNames(cas.cluster.certPem).subject));
  });
});
