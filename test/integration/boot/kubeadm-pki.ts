// A kubeadm-shaped PKI directory for one control-plane machine, minted with the
// openssl CLI as test/testenv/certs.ts does (Node cannot issue X.509): the
// CAs, the certificates `kubeadm init phase certs` writes, with kubeadm's
// names, subjects and SANs (cmd/kubeadm/app/phases/certs/certlist.go,
// util/pkiutil getAltNames), plus an admin client certificate (admin.conf's)
// and a kubelet serving certificate. EC P-256 keys keep it fast.
import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

export interface MachinePki {
  /** kubeadm's certificatesDir. */
  dir: string;
  /** CN kubernetes-admin, O system:masters, signed by ca.crt. */
  admin: { certFile: string; keyFile: string };
  /** The kubelet's serving certificate (self-signed, as the kubelet's own). */
  kubelet: { certFile: string; keyFile: string };
}

interface CertRequest {
  name: string;
  subject: string;
  signer: string;
  usage: "server" | "client" | "peer";
  dns?: string[];
  ips?: string[];
}

const CA_NAMES = ["ca", "etcd/ca", "front-proxy-ca"];

/**
 * The PKI of one machine. With shareFrom (another machine's certificatesDir),
 * its CAs and service-account keys are copied, as a control-plane join
 * receives them in cloud-init; otherwise new ones are minted.
 */
export async function mintMachinePki(dir: string, node: { name: string; address: string }, shareFrom?: string): Promise<MachinePki> {
  await mkdir(join(dir, "etcd"), { recursive: true, mode: 0o700 });
  if (shareFrom !== undefined) {
    const shared = [...CA_NAMES.flatMap((ca) => [`${ca}.crt`, `${ca}.key`]), "sa.key", "sa.pub"];
    for (const file of shared) await copyFile(join(shareFrom, file), join(dir, file));
  } else {
    for (const ca of CA_NAMES) await mintCa(dir, ca);
  }
  // GetEtcdAltNames / GetEtcdPeerAltNames: node name, localhost, the advertise address, 127.0.0.1, ::1.
  const etcdNames = { dns: [node.name, "localhost"], ips: [node.address, "127.0.0.1", "::1"] };
  const requests: CertRequest[] = [
    {
      name: "apiserver", subject: "/CN=kube-apiserver", signer: "ca", usage: "server",
      dns: [node.name, "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"],
      ips: ["10.96.0.1", node.address],
    },
    { name: "apiserver-kubelet-client", subject: "/O=kubeadm:cluster-admins/CN=kube-apiserver-kubelet-client", signer: "ca", usage: "client" },
    { name: "apiserver-etcd-client", subject: "/CN=kube-apiserver-etcd-client", signer: "etcd/ca", usage: "client" },
    { name: "front-proxy-client", subject: "/CN=front-proxy-client", signer: "front-proxy-ca", usage: "client" },
    { name: "etcd/server", subject: `/CN=${node.name}`, signer: "etcd/ca", usage: "peer", ...etcdNames },
    { name: "etcd/peer", subject: `/CN=${node.name}`, signer: "etcd/ca", usage: "peer", ...etcdNames },
    { name: "admin", subject: "/O=system:masters/CN=kubernetes-admin", signer: "ca", usage: "client" },
  ];
  await Promise.all(requests.map((request) => mintSigned(dir, request)));
  await mintSelfSigned(dir, "kubelet", `/CN=${node.name}@kubelet`, [node.name], [node.address]);

  if (shareFrom === undefined) {
    const sa = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    await writeFile(join(dir, "sa.key"), sa.privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    await writeFile(join(dir, "sa.pub"), sa.publicKey.export({ type: "spki", format: "pem" }));
  }
  return {
    dir,
    admin: { certFile: join(dir, "admin.crt"), keyFile: join(dir, "admin.key") },
    kubelet: { certFile: join(dir, "kubelet.crt"), keyFile: join(dir, "kubelet.key") },
  };
}

/** A CA of its own (ca.crt/ca.key under dir), unrelated to any machine's. */
export async function mintCa(dir: string, name: string): Promise<void> {
  const config = await writeConfig(dir, name, "basicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign, digitalSignature, keyEncipherment");
  await openssl(["req", "-x509", ...EC, "-config", config, "-extensions", "ext", "-days", "2",
    "-subj", `/CN=${name.replace("/", "-")}`, "-keyout", join(dir, `${name}.key`), "-out", join(dir, `${name}.crt`)]);
}

/** A client certificate signed by dir/<signer>.crt, written to dir/<name>.{crt,key}. */
export async function mintClient(dir: string, name: string, subject: string, signer: string): Promise<void> {
  await mintSigned(dir, { name, subject, signer, usage: "client" });
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
const USAGE = { server: "serverAuth", client: "clientAuth", peer: "serverAuth, clientAuth" };

async function mintSigned(dir: string, request: CertRequest): Promise<void> {
  const config = await writeConfig(dir, request.name, extensions(USAGE[request.usage], request.dns, request.ips));
  // OpenSSL 3's `req -CA` signs with the CA directly: no CSR file, no serial file.
  await openssl(["req", "-x509", ...EC, "-config", config, "-extensions", "ext", "-days", "2",
    "-subj", request.subject, "-CA", join(dir, `${request.signer}.crt`), "-CAkey", join(dir, `${request.signer}.key`),
    "-keyout", join(dir, `${request.name}.key`), "-out", join(dir, `${request.name}.crt`)]);
}

async function mintSelfSigned(dir: string, name: string, subject: string, dns: string[], ips: string[]): Promise<void> {
  const config = await writeConfig(dir, name, extensions("serverAuth", dns, ips));
  await openssl(["req", "-x509", ...EC, "-config", config, "-extensions", "ext", "-days", "2",
    "-subj", subject, "-keyout", join(dir, `${name}.key`), "-out", join(dir, `${name}.crt`)]);
}

function extensions(usage: string, dns: string[] = [], ips: string[] = []): string {
  const lines = ["basicConstraints = critical, CA:FALSE", "keyUsage = critical, digitalSignature, keyEncipherment", `extendedKeyUsage = ${usage}`];
  const alt = [...dns.map((name, i) => `DNS.${String(i + 1)} = ${name}`), ...ips.map((ip, i) => `IP.${String(i + 1)} = ${ip}`)];
  if (alt.length > 0) lines.push("subjectAltName = @alt", "[alt]", ...alt);
  return lines.join("\n");
}

// A config of our own per certificate, so the system's openssl.cnf cannot change the result.
async function writeConfig(dir: string, name: string, ext: string): Promise<string> {
  const path = join(dir, `${name.replace("/", "-")}.openssl.cnf`);
  await writeFile(path, `[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = unused\n[ext]\n${ext}\n`, { mode: 0o600 });
  return path;
}

async function openssl(args: string[]): Promise<void> {
  try {
    await execFileAsync("openssl", args);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? "";
    throw new Error(`openssl ${args[0] ?? ""} failed: ${stderr || String(err)}`, { cause: err });
  }
}
