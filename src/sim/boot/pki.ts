// The certificates `kubeadm init phase certs` (and a control-plane `kubeadm join`) mints
// for one node from the CAs cloud-init carries, plus the two identities the boot
// emulation needs besides: a superuser client certificate and the kubelet's serving
// certificate. sa.key/sa.pub come from cloud-init as they are and are not touched here.
// Mirrors k8s.io/kubernetes v1.34.2 cmd/kubeadm/app/phases/certs/certlist.go
// (GetDefaultCertList, GetCertsWithoutEtcd, KubeadmCert.GetConfig), constants/constants.go
// (CertificateBackdate 5 min, CertificateValidityPeriod 1 year) and the kubeconfig phase
// (phases/kubeconfig/kubeconfig.go getKubeConfigSpecsBase).
import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { apiServerAltNames, checkNodeAddresses, etcdAltNames, parseIp, PkiInputError, type AltNames, type NodeAddresses } from "./pki-input.ts";
import {
  issueCertificate,
  KEY_ALGORITHMS,
  loadAuthority,
  newKeyPair,
  selfSignedAuthority,
  type Authority,
  type CaPair,
  type CertificateSpec,
  type IssuedCertificate,
  type KeyAlgorithm,
  type Usage,
} from "./x509.ts";

export { PkiInputError } from "./pki-input.ts";
export type { CaPair, IssuedCertificate, KeyAlgorithm } from "./x509.ts";

/** kubeadm's base names under certificatesDir: `<name>.crt` and `<name>.key`. */
export type KubeadmCertName =
  | "apiserver"
  | "apiserver-kubelet-client"
  | "front-proxy-client"
  | "etcd/server"
  | "etcd/peer"
  | "etcd/healthcheck-client"
  | "apiserver-etcd-client";

export interface NodePkiInput {
  /** ca.crt/ca.key, front-proxy-ca.*, and etcd/ca.* (leave etcd out with etcd.external: GetCertsWithoutEtcd). */
  cas: { cluster: CaPair; frontProxy: CaPair; etcd?: CaPair };
  /** nodeRegistration.name, rendered. */
  nodeName: string;
  /** localAPIEndpoint.advertiseAddress: the machine's address. */
  advertiseAddress: string;
  /** networking.serviceSubnet (kubeadm's default is "10.96.0.0/12"). */
  serviceSubnet: string;
  /** networking.dnsDomain; "" leaves kubernetes.default.svc.<domain> out, as kubeadm does. */
  dnsDomain: string;
  /** ClusterConfiguration controlPlaneEndpoint, "host[:port]"; "" when unset. */
  controlPlaneEndpoint: string;
  apiServerCertSANs?: readonly string[];
  etcdServerCertSANs?: readonly string[];
  etcdPeerCertSANs?: readonly string[];
  /** ClusterConfiguration.encryptionAlgorithm; the leaves' key type, whatever the CAs' ("RSA-2048"). */
  encryptionAlgorithm?: string;
  /** ClusterConfiguration.certificateValidityPeriod in ms (1 year). */
  certificateValidityPeriodMs?: number;
  /** The machine's host name, the kubelet's serving certificate's name, lowercased as the kubelet does (nodeName). */
  hostname?: string;
  /** kubeadm's start time (now). */
  now?: Date;
}

export interface NodeCertificates {
  /** The etcd entries are absent with an external etcd. */
  pki: Partial<Record<KubeadmCertName, IssuedCertificate>>;
  /**
   * CN kubernetes-super-admin, O system:masters: super-admin.conf's identity. kubeadm
   * 1.34's admin.conf user (O kubeadm:cluster-admins) has no rights until the
   * ClusterRoleBinding kubeadm:cluster-admins exists, and kubeadm creates that binding
   * with this one; system:masters is the API server's built-in superuser group, so
   * the emulation can create everything, that binding included, from the first call.
   */
  superAdmin: IssuedCertificate;
  /**
   * /var/lib/kubelet/pki/kubelet.crt: without serverTLSBootstrap the kubelet signs its
   * own serving certificate with a throwaway CA (cmd/kubelet/app/server.go
   * InitializeTLS); certPem is the leaf then that CA, as the kubelet writes it.
   */
  kubeletServing: IssuedCertificate;
  /** SANs left out (kubeadm warns and goes on) and a CA outside its validity period. */
  warnings: string[];
}

const MINUTE = 60_000;
const CERTIFICATE_BACKDATE_MS = 5 * MINUTE;
const YEAR_MS = 365 * 24 * 60 * MINUTE;

interface LeafDefinition {
  name: KubeadmCertName;
  ca: "cluster" | "frontProxy" | "etcd";
  commonName: string;
  organizations?: string[];
  usages: Usage[];
  altNames?: AltNames;
}

/** certlist.go, leaf by leaf; the etcd ones only with a local etcd. */
function leafDefinitions(input: NodePkiInput, addresses: NodeAddresses, warnings: string[]): LeafDefinition[] {
  const leaves: LeafDefinition[] = [
    { name: "apiserver", ca: "cluster", commonName: "kube-apiserver", usages: ["serverAuth"], altNames: apiServerAltNames(addresses, input.apiServerCertSANs ?? [], warnings) },
    // O is constants.ClusterAdminsGroupAndClusterRoleBinding in v1.34.
    { name: "apiserver-kubelet-client", ca: "cluster", commonName: "kube-apiserver-kubelet-client", organizations: ["kubeadm:cluster-admins"], usages: ["clientAuth"] },
    { name: "front-proxy-client", ca: "frontProxy", commonName: "front-proxy-client", usages: ["clientAuth"] },
  ];
  if (!input.cas.etcd) return leaves;
  return [
    ...leaves,
    // etcd/server and etcd/peer are named for the node and serve and dial alike
    // (KubeadmCertEtcdServer's note on etcd wanting ClientAuth on its server certificate).
    { name: "etcd/server", ca: "etcd", commonName: input.nodeName, usages: ["serverAuth", "clientAuth"], altNames: etcdAltNames(addresses, input.etcdServerCertSANs ?? [], "etcd/server", warnings) },
    { name: "etcd/peer", ca: "etcd", commonName: input.nodeName, usages: ["serverAuth", "clientAuth"], altNames: etcdAltNames(addresses, input.etcdPeerCertSANs ?? [], "etcd/peer", warnings) },
    { name: "etcd/healthcheck-client", ca: "etcd", commonName: "kube-etcd-healthcheck-client", usages: ["clientAuth"] },
    { name: "apiserver-etcd-client", ca: "etcd", commonName: "kube-apiserver-etcd-client", usages: ["clientAuth"] },
  ];
}

function keyAlgorithm(value: string | undefined): KeyAlgorithm {
  const algorithm = value ?? "RSA-2048";
  if ((KEY_ALGORITHMS as readonly string[]).includes(algorithm)) return algorithm as KeyAlgorithm;
  throw new PkiInputError("encryptionAlgorithm", `"${algorithm}" is not one kubeadm knows; use one of ${KEY_ALGORITHMS.join(", ")}`);
}

function validityPeriod(value: number | undefined): number {
  const period = value ?? YEAR_MS;
  if (Number.isFinite(period) && period > 0) return period;
  throw new PkiInputError("certificateValidityPeriodMs", `${value} is not a positive duration in milliseconds; leave it out for kubeadm's 1 year`);
}

function periodWarning(authority: Authority, field: string, now: Date): string[] {
  if (now < authority.notBefore) return [`${field}: the CA is not valid yet (notBefore ${authority.notBefore.toISOString()})`];
  if (now > authority.notAfter) return [`${field}: the CA has expired (notAfter ${authority.notAfter.toISOString()})`];
  return [];
}

async function issueWithNewKey(authority: Authority, algorithm: KeyAlgorithm, spec: CertificateSpec): Promise<IssuedCertificate> {
  const keys = await newKeyPair(algorithm);
  return { certPem: await issueCertificate(authority, spec, keys.publicKeyDer), keyPem: keys.privateKeyPem };
}

/** client-go GenerateSelfSignedCertKey(hostname): CN "<host>@<unix>", CA "<host>-ca@<unix>", RSA-2048, 1 year from an hour ago. */
async function kubeletServingCertificate(hostname: string, now: Date): Promise<IssuedCertificate> {
  const notBefore = new Date(now.getTime() - 60 * MINUTE);
  const notAfter = new Date(notBefore.getTime() + YEAR_MS);
  const unix = Math.floor(now.getTime() / 1000);
  const { authority, certPem: caPem } = await selfSignedAuthority(`${hostname}-ca@${unix}`, notBefore, notAfter);
  const altNames: AltNames = parseIp(hostname) ? { dnsNames: [], ips: [hostname] } : { dnsNames: [hostname], ips: [] };
  const leaf = await issueWithNewKey(authority, "RSA-2048", { commonName: `${hostname}@${unix}`, usages: ["serverAuth"], altNames, notBefore, notAfter });
  return { certPem: leaf.certPem + caPem, keyPem: leaf.keyPem };
}

/**
 * Mints the node's certificate set. Each certificate gets a key of its own; the keys
 * are in the result only, never in an error or a warning.
 */
export async function mintNodeCertificates(input: NodePkiInput): Promise<NodeCertificates> {
  const addresses: NodeAddresses = {
    nodeName: input.nodeName,
    advertiseAddress: input.advertiseAddress,
    serviceSubnet: input.serviceSubnet,
    dnsDomain: input.dnsDomain,
    controlPlaneEndpoint: input.controlPlaneEndpoint,
  };
  checkNodeAddresses(addresses);
  const algorithm = keyAlgorithm(input.encryptionAlgorithm);
  const period = validityPeriod(input.certificateValidityPeriodMs);
  const now = input.now ?? new Date();
  const authorities = {
    cluster: await loadAuthority(input.cas.cluster, "cas.cluster"),
    frontProxy: await loadAuthority(input.cas.frontProxy, "cas.frontProxy"),
    etcd: input.cas.etcd ? await loadAuthority(input.cas.etcd, "cas.etcd") : undefined,
  };
  const warnings = [
    ...periodWarning(authorities.cluster, "cas.cluster", now),
    ...periodWarning(authorities.frontProxy, "cas.frontProxy", now),
    ...(authorities.etcd ? periodWarning(authorities.etcd, "cas.etcd", now) : []),
  ];
  const notBefore = new Date(now.getTime() - CERTIFICATE_BACKDATE_MS);
  const notAfter = new Date(now.getTime() + period);
  const leaves = leafDefinitions(input, addresses, warnings);
  // Key generation dominates; Node runs it on the libuv pool, so all keys at once.
  const [issued, superAdmin, kubeletServing] = await Promise.all([
    Promise.all(leaves.map((leaf) => issueWithNewKey(authorities[leaf.ca] as Authority, algorithm, { ...leaf, notBefore, notAfter }))),
    // Kubeconfig client certificates carry no NotBefore of their own, so NewSignedCert
    // starts them at the CA's NotBefore.
    issueWithNewKey(authorities.cluster, algorithm, {
      commonName: "kubernetes-super-admin",
      organizations: ["system:masters"],
      usages: ["clientAuth"],
      notBefore: authorities.cluster.notBefore,
      notAfter,
    }),
    kubeletServingCertificate((input.hostname ?? input.nodeName).trim().toLowerCase(), now),
  ]);
  const pki: NodeCertificates["pki"] = {};
  leaves.forEach((leaf, i) => (pki[leaf.name] = issued[i]));
  return { pki, superAdmin, kubeletServing, warnings };
}

export interface NodePkiDirs {
  /** ClusterConfiguration certificatesDir under the machine's root (/etc/kubernetes/pki). */
  certificatesDir: string;
  /** The kubelet's --cert-dir under the machine's root (/var/lib/kubelet/pki). */
  kubeletPkiDir: string;
}

/**
 * Writes the set in kubeadm's layout: `<certificatesDir>/<name>.crt` 0644 and `.key`
 * 0600 (certutil.WriteCert, keyutil.WriteKey, directories 0755), and the kubelet's
 * kubelet.crt/kubelet.key. superAdmin is not written: kubeadm keeps it inside
 * super-admin.conf, which is the boot stage's to write. Returns the paths written.
 */
export async function writeNodeCertificates(certs: NodeCertificates, dirs: NodePkiDirs): Promise<string[]> {
  const files: Array<{ path: string; pem: string; mode: number }> = [];
  const add = (dir: string, base: string, pair: IssuedCertificate): void => {
    files.push({ path: join(dir, `${base}.crt`), pem: pair.certPem, mode: 0o644 }, { path: join(dir, `${base}.key`), pem: pair.keyPem, mode: 0o600 });
  };
  for (const [name, pair] of Object.entries(certs.pki)) add(dirs.certificatesDir, name, pair);
  add(dirs.kubeletPkiDir, "kubelet", certs.kubeletServing);
  for (const file of files) {
    await mkdir(dirname(file.path), { recursive: true, mode: 0o755 });
    // writeFile's mode applies only to a new file, so an old one (a re-boot) goes first:
    // a key must never sit, even briefly, in a file others can read. chmod undoes the umask.
    await rm(file.path, { force: true });
    await writeFile(file.path, file.pem, { mode: file.mode });
    await chmod(file.path, file.mode);
  }
  return files.map((file) => file.path);
}
