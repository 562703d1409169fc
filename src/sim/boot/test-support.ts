// Test helpers for src/sim/boot: user data laid out exactly as the kubeadm bootstrap
// provider's Go templates write it (cluster-api v1.14.2 bootstrap/kubeadm/pkg/cloudinit:
// cloudinit.go header, files.go, commands.go, controlplane_init.go, controlplane_join.go,
// node.go), and kubeadm documents as its pkg/types marshals them. Certificate and key
// files hold placeholder text, never key material.
import { gzipSync } from "node:zlib";

export interface CabpkFile {
  path: string;
  content: string;
  owner?: string;
  permissions?: string;
  encoding?: "base64" | "gzip" | "gzip+base64";
  append?: boolean;
}

export interface CabpkInput {
  kind: "init" | "control-plane-join" | "worker-join";
  /** The kubeadm documents, each ending with a newline. */
  documents: string[];
  files?: CabpkFile[];
  preKubeadmCommands?: string[];
  postKubeadmCommands?: string[];
  bootCommands?: string[];
  /** e.g. "--v 5"; "" by default, which leaves CABPK's double space. */
  verbosity?: string;
  certificatesDir?: string;
}

export const CA_FILES = ["ca.crt", "ca.key", "etcd/ca.crt", "etcd/ca.key", "front-proxy-ca.crt", "front-proxy-ca.key", "sa.pub", "sa.key"];

/** What secret.Certificates.AsFiles writes: each pair's crt (0640) then key (0600). */
export function certificateFiles(dir = "/etc/kubernetes/pki"): CabpkFile[] {
  return ["ca", "sa", "front-proxy-ca", "etcd/ca"].flatMap((name) => {
    const [crt, key] = name === "sa" ? ["sa.pub", "sa.key"] : [`${name}.crt`, `${name}.key`];
    return [
      { path: `${dir}/${crt}`, owner: "root:root", permissions: "0640", content: `placeholder for ${crt}\nsecond line\n` },
      { path: `${dir}/${key}`, owner: "root:root", permissions: "0600", content: `placeholder for ${key}\nsecond line\n` },
    ];
  });
}

const indent = (n: number, text: string): string => " ".repeat(n) + text.split("\n").join(`\n${" ".repeat(n)}`);
const quoteGo = (s: string): string => JSON.stringify(s);

/** files.go "files" template. */
function filesBlock(files: CabpkFile[]): string {
  let out = "write_files:";
  for (const f of files) {
    out += `\n-   path: ${f.path}\n    `;
    if (f.encoding !== undefined) out += `encoding: "${f.encoding}"\n    `;
    if (f.owner !== undefined) out += `owner: ${f.owner}\n    `;
    if (f.permissions !== undefined) out += `permissions: '${f.permissions}'\n    `;
    if (f.append === true) out += "append: true\n    ";
    out += `content: |\n${indent(6, f.content)}`;
  }
  return out;
}

const commands = (list: string[] = []): string => list.map((c) => `\n  - ${quoteGo(c)}`).join("");
const PLACEHOLDER = `-   path: /run/cluster-api/placeholder
    owner: root:root
    permissions: '0640'
    content: "This placeholder file is used to create the /run/cluster-api sub directory in a way that is compatible with both Linux and Windows (mkdir -p /run/cluster-api does not work with Windows)"`;
const SENTINEL = "echo success > /run/cluster-api/bootstrap-success.complete";

/** The user data text CABPK stores in the bootstrap Secret. */
export function cabpkUserData(input: CabpkInput): string {
  const certs = input.kind === "worker-join" ? [] : certificateFiles(input.certificatesDir);
  const header = "## template: jinja\n#cloud-config\n";
  const files = filesBlock([...certs, ...(input.files ?? [])]);
  const verbosity = input.verbosity ?? "";
  const boot = input.bootCommands === undefined || input.bootCommands.length === 0 ? "" : `\nbootcmd:${commands(input.bootCommands)}`;
  let config: string;
  let command: string;
  if (input.kind === "init") {
    const [cluster = "", init = ""] = input.documents;
    config = `-   path: /run/kubeadm/kubeadm.yaml\n    owner: root:root\n    permissions: '0640'\n    content: |\n      ---\n${indent(6, cluster)}\n      ---\n${indent(6, init)}`;
    command = `'kubeadm init --config /run/kubeadm/kubeadm.yaml ${verbosity} && ${SENTINEL}'`;
  } else {
    const lead = input.kind === "worker-join" ? "      ---\n" : "";
    config = `-   path: /run/kubeadm/kubeadm-join-config.yaml\n    owner: root:root\n    permissions: '0640'\n    content: |\n${lead}${indent(6, input.documents[0] ?? "")}`;
    command = `kubeadm join --config /run/kubeadm/kubeadm-join-config.yaml ${verbosity} && ${SENTINEL}`;
  }
  return `${header}\n${files}\n${config}\n${PLACEHOLDER}${boot}\nruncmd:${commands(input.preKubeadmCommands)}\n  - ${command}${commands(input.postKubeadmCommands)}\n`;
}

/** How the provider hands it to MAAS and the simulator stores it: base64. */
export function storedUserData(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

export const gzipBase64 = (text: string): string => gzipSync(Buffer.from(text)).toString("base64");

/** ClusterConfiguration as CABPK's pkg/types marshals it (keys sorted, empty structs as {}). */
export function clusterConfiguration(version: "v1beta3" | "v1beta4", o: { endpoint?: string; name?: string; kubernetesVersion?: string } = {}): string {
  return [
    version === "v1beta3" ? "apiServer:\n  timeoutForControlPlane: 20m0s" : "apiServer: {}",
    `apiVersion: kubeadm.k8s.io/${version}`,
    `clusterName: ${o.name ?? "kc"}`,
    `controlPlaneEndpoint: ${o.endpoint ?? "kc.maas.test:6443"}`,
    "controllerManager: {}",
    "dns: {}",
    "etcd: {}",
    "kind: ClusterConfiguration",
    `kubernetesVersion: ${o.kubernetesVersion ?? "v1.34.2"}`,
    "networking:\n  dnsDomain: cluster.local\n  podSubnet: 192.168.0.0/16\n  serviceSubnet: 10.128.0.0/12",
    ...(version === "v1beta4" ? ["proxy: {}"] : []),
    "scheduler: {}",
    "",
  ].join("\n");
}

export function initConfiguration(version: "v1beta3" | "v1beta4", nodeRegistration = "  name: '{{ v1.local_hostname }}'\n  taints: null\n"): string {
  return `apiVersion: kubeadm.k8s.io/${version}\nkind: InitConfiguration\nlocalAPIEndpoint: {}\nnodeRegistration:\n${nodeRegistration}`;
}

export const TOKEN = "abcdef.0123456789abcdef";
export const CA_HASH = `sha256:${"0123456789abcdef".repeat(4)}`;

export function joinConfiguration(version: "v1beta3" | "v1beta4", o: { controlPlane?: boolean; taints?: string } = {}): string {
  return [
    `apiVersion: kubeadm.k8s.io/${version}`,
    ...(o.controlPlane === true ? ["controlPlane:\n  localAPIEndpoint: {}"] : []),
    `discovery:\n  bootstrapToken:\n    apiServerEndpoint: kc.maas.test:6443\n    caCertHashes:\n    - ${CA_HASH}\n    token: ${TOKEN}`,
    "kind: JoinConfiguration",
    `nodeRegistration:\n  name: '{{ v1.local_hostname }}'\n${o.taints ?? (o.controlPlane === true ? "  taints: null" : "  taints:\n  - effect: NoSchedule\n    key: node.cluster.x-k8s.io/uninitialized")}`,
    "",
  ].join("\n");
}
