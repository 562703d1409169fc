import assert from "node:assert/strict";
import { X509Certificate, createPublicKey } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from "node:fs/promises";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import tls from "node:tls";
import { mintNodeCertificates, PkiInputError, writeNodeCertificates, type CaPair, type KubeadmCertName, type NodeCertificates, type NodePkiInput } from "./pki.ts";
import { makeCa, rawNames } from "./pki-test-support.ts";

const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
const MINUTE = 60_000;
const YEAR = 365 * 24 * 60 * MINUTE;

interface Cas {
  cluster: CaPair;
  frontProxy: CaPair;
  etcd: CaPair;
}

const DAY = 24 * 60 * MINUTE;

/**
 * The three CAs. The cluster CA is days older than the node (the Cluster's, made before
 * its machines) and the etcd CA spells its name as openssl does (UTF8String), so a
 * certificate that re-encodes the issuer's name or dates from the wrong clock shows it.
 */
async function makeCas(algorithm: "RSA-2048" | "ECDSA-P256" = "RSA-2048"): Promise<Cas> {
  return {
    cluster: await makeCa({ algorithm, createdAt: new Date(Date.now() - 3 * DAY) }),
    frontProxy: await makeCa({ algorithm }),
    etcd: await makeCa({ algorithm, stringType: "utf8String" }),
  };
}

function input(cas: NodePkiInput["cas"], change: Partial<NodePkiInput> = {}): NodePkiInput {
  return {
    cas,
    nodeName: "cp-0",
    advertiseAddress: "127.10.0.5",
    serviceSubnet: "10.96.0.0/12",
    dnsDomain: "cluster.local",
    controlPlaneEndpoint: "127.10.0.1:6443",
    ...change,
  };
}

const cert = (pem: string): X509Certificate => new X509Certificate(pem);
const spki = (key: ReturnType<typeof createPublicKey>): Buffer => key.export({ type: "spki", format: "der" });

/** Node prints each RDN on a line; "O=a\nCN=b" is the subject O=a, CN=b in that order. */
const subject = (pem: string): string => cert(pem).subject.split("\n").join(", ");

/** Handshakes server and client over loopback; resolves with what each side saw. */
async function handshake(
  server: { ca: string; cert: string; key: string },
  client: { ca: string; cert: string; key: string; host: string; servername?: string },
): Promise<{ serverSawClient: string; clientAuthorized: boolean; error?: Error }> {
  const listener = tls.createServer({ ...server, requestCert: true, rejectUnauthorized: true });
  let serverSawClient = "";
  listener.on("secureConnection", (socket) => {
    serverSawClient = String(socket.getPeerCertificate().subject?.CN ?? "");
    socket.end("ok");
  });
  listener.on("tlsClientError", () => {});
  listener.listen(0, "127.0.0.1");
  await once(listener, "listening");
  try {
    const port = (listener.address() as AddressInfo).port;
    const socket = tls.connect({ port, ...client });
    try {
      const outcome = await new Promise<{ error?: Error }>((resolve) => {
        socket.once("data", () => resolve({}));
        socket.once("error", (error) => resolve({ error }));
        // With TLS 1.3 the server checks the client's certificate after the client's
        // handshake is done, so a refusal can arrive as a bare close.
        socket.once("close", () => resolve({ error: new Error("closed before any data") }));
      });
      return { serverSawClient, clientAuthorized: socket.authorized, ...outcome };
    } finally {
      socket.destroy();
    }
  } finally {
    listener.close();
  }
}

describe("mintNodeCertificates", () => {
  describe("from RSA-2048 CAs as Cluster API makes them", () => {
    let cas: Cas;
    let minted: NodeCertificates;
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    before(async () => {
      cas = await makeCas();
      minted = await mintNodeCertificates(input(cas, { now, apiServerCertSANs: ["api.example"] }));
    });

    const table: Array<{ name: KubeadmCertName; ca: keyof Cas; subject: string; eku: string[]; sans?: string }> = [
      {
        name: "apiserver",
        ca: "cluster",
        subject: "CN=kube-apiserver",
        eku: [SERVER_AUTH],
        sans:
          "DNS:api.example, DNS:cp-0, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local, " +
          "IP Address:10.96.0.1, IP Address:127.10.0.5, IP Address:127.10.0.1",
      },
      { name: "apiserver-kubelet-client", ca: "cluster", subject: "O=kubeadm:cluster-admins, CN=kube-apiserver-kubelet-client", eku: [CLIENT_AUTH] },
      { name: "front-proxy-client", ca: "frontProxy", subject: "CN=front-proxy-client", eku: [CLIENT_AUTH] },
      {
        name: "etcd/server",
        ca: "etcd",
        subject: "CN=cp-0",
        eku: [SERVER_AUTH, CLIENT_AUTH],
        sans: "DNS:cp-0, DNS:localhost, IP Address:127.10.0.5, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1",
      },
      {
        name: "etcd/peer",
        ca: "etcd",
        subject: "CN=cp-0",
        eku: [SERVER_AUTH, CLIENT_AUTH],
        sans: "DNS:cp-0, DNS:localhost, IP Address:127.10.0.5, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1",
      },
      { name: "etcd/healthcheck-client", ca: "etcd", subject: "CN=kube-etcd-healthcheck-client", eku: [CLIENT_AUTH] },
      { name: "apiserver-etcd-client", ca: "etcd", subject: "CN=kube-apiserver-etcd-client", eku: [CLIENT_AUTH] },
    ];

    it("mints exactly kubeadm's seven leaves", () => {
      assert.deepEqual(Object.keys(minted.pki).sort(), table.map((row) => row.name).sort());
    });

    for (const row of table) {
      describe(row.name, () => {
        const pair = () => minted.pki[row.name] ?? assert.fail(`${row.name} was not minted`);

        it(`is issued and signed by the ${row.ca} CA, not by another`, () => {
          const leaf = cert(pair().certPem);
          const ca = cert(cas[row.ca].certPem);
          assert.ok(leaf.checkIssued(ca));
          assert.ok(leaf.verify(ca.publicKey));
          for (const other of (["cluster", "frontProxy", "etcd"] as const).filter((name) => name !== row.ca)) {
            assert.ok(!leaf.verify(cert(cas[other].certPem).publicKey), `also verifies with the ${other} CA`);
          }
        });

        it("names its issuer with the CA's subject bytes (Go builds chains by them)", () => {
          assert.ok(rawNames(pair().certPem).issuer.equals(rawNames(cas[row.ca].certPem).subject));
        });

        it(`is ${row.subject} with EKU ${row.eku.join(", ")} and ${row.sans ? "kubeadm's SANs" : "no SANs"}`, () => {
          const leaf = cert(pair().certPem);
          assert.equal(subject(pair().certPem), row.subject);
          assert.deepEqual(leaf.keyUsage, row.eku);
          assert.equal(leaf.subjectAltName, row.sans);
          assert.equal(leaf.ca, false);
        });

        it("runs from 5 minutes before kubeadm's start for a year", () => {
          const leaf = cert(pair().certPem);
          assert.equal(new Date(leaf.validFrom).getTime(), now.getTime() - 5 * MINUTE);
          assert.equal(new Date(leaf.validTo).getTime(), now.getTime() + YEAR);
        });

        it("has a fresh RSA-2048 key of its own, in PKCS#1 PEM", () => {
          const key = createPublicKey(pair().keyPem);
          assert.ok(spki(key).equals(spki(cert(pair().certPem).publicKey)));
          assert.equal(key.asymmetricKeyDetails?.modulusLength, 2048);
          assert.match(pair().keyPem, /^-----BEGIN RSA PRIVATE KEY-----\n/);
        });
      });
    }

    it("gives every certificate a different key", () => {
      const keys = [...Object.values(minted.pki), minted.superAdmin, minted.kubeletServing].map((pair) => pair.keyPem);
      assert.equal(new Set(keys).size, keys.length);
    });

    it("mints the superuser client certificate super-admin.conf carries, from the CA's NotBefore", () => {
      const admin = cert(minted.superAdmin.certPem);
      assert.equal(subject(minted.superAdmin.certPem), "O=system:masters, CN=kubernetes-super-admin");
      assert.deepEqual(admin.keyUsage, [CLIENT_AUTH]);
      assert.ok(admin.verify(cert(cas.cluster.certPem).publicKey));
      assert.equal(admin.validFrom, cert(cas.cluster.certPem).validFrom);
      assert.equal(new Date(admin.validTo).getTime(), now.getTime() + YEAR);
    });

    it("mints the kubelet's self-signed serving pair: the leaf for the host, then its own CA", () => {
      const [leafPem, caPem, ...rest] = minted.kubeletServing.certPem.split(/(?<=-----END CERTIFICATE-----\n)/);
      assert.equal(rest.length, 0);
      const leaf = cert(leafPem ?? "");
      const ca = cert(caPem ?? "");
      const unix = Math.floor(now.getTime() / 1000);
      assert.equal(leaf.subject, `CN=cp-0@${unix}`);
      assert.equal(ca.subject, `CN=cp-0-ca@${unix}`);
      assert.equal(leaf.subjectAltName, "DNS:cp-0");
      assert.deepEqual(leaf.keyUsage, [SERVER_AUTH]);
      assert.ok(leaf.verify(ca.publicKey));
      assert.ok(ca.ca);
      assert.ok(!leaf.verify(cert(cas.cluster.certPem).publicKey));
      assert.ok(spki(createPublicKey(minted.kubeletServing.keyPem)).equals(spki(leaf.publicKey)));
    });

    it("serves the API to the super-admin over TLS, each side verifying the other against the cluster CA", async () => {
      const result = await handshake(
        { ca: cas.cluster.certPem, cert: minted.pki.apiserver?.certPem ?? "", key: minted.pki.apiserver?.keyPem ?? "" },
        { ca: cas.cluster.certPem, cert: minted.superAdmin.certPem, key: minted.superAdmin.keyPem, host: "127.0.0.1", servername: "kubernetes.default.svc" },
      );
      assert.equal(result.error, undefined);
      assert.ok(result.clientAuthorized);
      assert.equal(result.serverSawClient, "kubernetes-super-admin");
    });

    it("refuses a client certificate from another CA at the API server", async () => {
      const result = await handshake(
        { ca: cas.cluster.certPem, cert: minted.pki.apiserver?.certPem ?? "", key: minted.pki.apiserver?.keyPem ?? "" },
        { ca: cas.cluster.certPem, cert: minted.pki["front-proxy-client"]?.certPem ?? "", key: minted.pki["front-proxy-client"]?.keyPem ?? "", host: "127.0.0.1", servername: "kubernetes" },
      );
      assert.ok(result.error, "the handshake went through");
      assert.equal(result.serverSawClient, "");
    });

    it("serves etcd on 127.0.0.1 to the API server's etcd client, and names the machine address too", async () => {
      const server = minted.pki["etcd/server"] ?? assert.fail("no etcd/server");
      const client = minted.pki["apiserver-etcd-client"] ?? assert.fail("no apiserver-etcd-client");
      const result = await handshake(
        { ca: cas.etcd.certPem, cert: server.certPem, key: server.keyPem },
        { ca: cas.etcd.certPem, cert: client.certPem, key: client.keyPem, host: "127.0.0.1" },
      );
      assert.equal(result.error, undefined);
      assert.equal(result.serverSawClient, "kube-apiserver-etcd-client");
      const peerCert = { subjectaltname: cert(server.certPem).subjectAltName ?? "", subject: { CN: "cp-0" } } as tls.PeerCertificate;
      for (const host of ["127.10.0.5", "127.0.0.1", "::1", "localhost", "cp-0"]) assert.equal(tls.checkServerIdentity(host, peerCert), undefined, host);
      assert.ok(tls.checkServerIdentity("127.10.0.6", peerCert) instanceof Error);
    });

    it("warns of nothing for good input", () => {
      assert.deepEqual(minted.warnings, []);
    });
  });

  describe("from ECDSA P-256 CAs", () => {
    let cas: Cas;
    before(async () => {
      cas = await makeCas("ECDSA-P256");
    });

    it("signs with the CA's ECDSA key but gives the leaves RSA-2048 keys, as encryptionAlgorithm (not the CA) decides", async () => {
      const minted = await mintNodeCertificates(input(cas));
      const apiserver = minted.pki.apiserver ?? assert.fail("no apiserver");
      assert.ok(cert(apiserver.certPem).verify(cert(cas.cluster.certPem).publicKey));
      assert.equal(createPublicKey(apiserver.keyPem).asymmetricKeyType, "rsa");
    });

    it("gives the leaves P-256 keys in SEC1 PEM with encryptionAlgorithm ECDSA-P256", async () => {
      const minted = await mintNodeCertificates(input(cas, { encryptionAlgorithm: "ECDSA-P256" }));
      for (const [name, pair] of Object.entries(minted.pki)) {
        assert.equal(createPublicKey(pair.keyPem).asymmetricKeyDetails?.namedCurve, "prime256v1", name);
        assert.match(pair.keyPem, /^-----BEGIN EC PRIVATE KEY-----\n/, name);
        assert.ok(cert(pair.certPem).verify(cert(cas[name.startsWith("etcd/") || name === "apiserver-etcd-client" ? "etcd" : name === "front-proxy-client" ? "frontProxy" : "cluster"].certPem).publicKey), name);
      }
    });
  });

  describe("with an external etcd (no etcd CA)", () => {
    it("mints no etcd certificates, as GetCertsWithoutEtcd", async () => {
      const cas = await makeCas();
      const minted = await mintNodeCertificates(input({ cluster: cas.cluster, frontProxy: cas.frontProxy }));
      assert.deepEqual(Object.keys(minted.pki).sort(), ["apiserver", "apiserver-kubelet-client", "front-proxy-client"]);
    });
  });

  describe("with a host name apart from the node name", () => {
    it("names the kubelet's serving certificate for the host, trimmed and lowercased as the kubelet does", async () => {
      const minted = await mintNodeCertificates(input(await makeCas(), { hostname: " Machine-7.MAAS\n" }));
      const leaf = cert(minted.kubeletServing.certPem);
      assert.match(leaf.subject, /^CN=machine-7\.maas@[0-9]+$/);
      assert.equal(leaf.subjectAltName, "DNS:machine-7.maas");
    });
  });

  describe("from an expired CA", () => {
    it("still mints, warning which CA has expired, as kubeadm's CheckCertificatePeriodValidity does", async () => {
      const cas = await makeCas();
      const expired = await makeCa({ createdAt: new Date(Date.now() - 11 * 365 * DAY) });
      const minted = await mintNodeCertificates(input({ ...cas, frontProxy: expired }));
      assert.ok(minted.pki["front-proxy-client"]);
      assert.equal(minted.warnings.length, 1);
      assert.match(minted.warnings[0] ?? "", /^cas\.frontProxy: the CA has expired/);
    });
  });

  describe("given bad input", () => {
    let cas: Cas;
    let stray: CaPair;
    before(async () => {
      cas = await makeCas();
      stray = await makeCa();
    });

    const cases: Array<{ name: string; field: string; change: (cas: Cas, stray: CaPair) => Partial<NodePkiInput> }> = [
      { name: "a CA key that is not the CA certificate's", field: "cas.cluster.keyPem", change: (c, s) => ({ cas: { ...c, cluster: { certPem: c.cluster.certPem, keyPem: s.keyPem } } }) },
      { name: "a CA certificate that is no PEM", field: "cas.frontProxy.certPem", change: (c) => ({ cas: { ...c, frontProxy: { certPem: "front-proxy-ca.crt", keyPem: c.frontProxy.keyPem } } }) },
      { name: "a CA key that is no PEM", field: "cas.etcd.keyPem", change: (c) => ({ cas: { ...c, etcd: { certPem: c.etcd.certPem, keyPem: c.etcd.certPem } } }) },
      { name: "a service subnet that is no CIDR", field: "serviceSubnet", change: () => ({ serviceSubnet: "10.96.0.0" }) },
      { name: "an advertise address that is no IP", field: "advertiseAddress", change: () => ({ advertiseAddress: "cp-0.maas" }) },
      { name: "an unknown encryption algorithm", field: "encryptionAlgorithm", change: () => ({ encryptionAlgorithm: "RSA-1024" }) },
      { name: "a validity period that is not positive", field: "certificateValidityPeriodMs", change: () => ({ certificateValidityPeriodMs: 0 }) },
    ];
    for (const c of cases) {
      it(`refuses ${c.name}, naming ${c.field} and showing no key`, async () => {
        await assert.rejects(mintNodeCertificates(input(cas, c.change(cas, stray))), (error: unknown) => {
          assert.ok(error instanceof PkiInputError);
          assert.equal(error.field, c.field);
          assert.ok(error.message.startsWith(`${c.field}: `), error.message);
          assert.doesNotMatch(error.message, /PRIVATE KEY|BEGIN/);
          return true;
        });
      });
    }

    it("refuses a leaf certificate given as a CA, naming it", async () => {
      const leaf = await mintNodeCertificates(input(cas));
      const apiserver = leaf.pki.apiserver ?? assert.fail("no apiserver");
      await assert.rejects(
        mintNodeCertificates(input({ ...cas, cluster: apiserver })),
        (error: unknown) => error instanceof PkiInputError && error.field === "cas.cluster.certPem" && /not a CA/.test(error.message),
      );
    });
  });
});

describe("writeNodeCertificates", () => {
  let dir: string;
  let minted: NodeCertificates;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "pki-"));
    minted = await mintNodeCertificates(input(await makeCas()));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("lays the files out as kubeadm and the kubelet do, keys 0600 and certificates 0644", async () => {
    const dirs = { certificatesDir: join(dir, "etc/kubernetes/pki"), kubeletPkiDir: join(dir, "var/lib/kubelet/pki") };
    const written = await writeNodeCertificates(minted, dirs);
    const relative = written.map((path) => path.slice(dir.length + 1)).sort();
    const bases = ["apiserver", "apiserver-etcd-client", "apiserver-kubelet-client", "etcd/healthcheck-client", "etcd/peer", "etcd/server", "front-proxy-client"];
    const want = [...bases.flatMap((b) => [`etc/kubernetes/pki/${b}.crt`, `etc/kubernetes/pki/${b}.key`]), "var/lib/kubelet/pki/kubelet.crt", "var/lib/kubelet/pki/kubelet.key"];
    assert.deepEqual(relative, want.sort());
    for (const path of written) assert.equal((await stat(path)).mode & 0o777, path.endsWith(".key") ? 0o600 : 0o644, path);
    assert.equal(await readFile(join(dirs.certificatesDir, "etcd/server.crt"), "utf8"), minted.pki["etcd/server"]?.certPem);
    assert.equal(await readFile(join(dirs.kubeletPkiDir, "kubelet.key"), "utf8"), minted.kubeletServing.keyPem);
  });

  it("rewrites a key left world-readable by an earlier boot as 0600", async () => {
    const dirs = { certificatesDir: join(dir, "again/pki"), kubeletPkiDir: join(dir, "again/kubelet") };
    await mkdir(dirs.certificatesDir, { recursive: true });
    await writeFile(join(dirs.certificatesDir, "apiserver.key"), "old", { mode: 0o644 });
    await writeNodeCertificates(minted, dirs);
    assert.equal((await stat(join(dirs.certificatesDir, "apiserver.key"))).mode & 0o777, 0o600);
    assert.equal(await readFile(join(dirs.certificatesDir, "apiserver.key"), "utf8"), minted.pki.apiserver?.keyPem);
  });
});
