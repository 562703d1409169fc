// Reads the kubeadm config file a kubeadm init or join runs with (kubeadm.k8s.io/v1beta3
// and v1beta4: ClusterConfiguration, InitConfiguration, JoinConfiguration) into one
// KubeadmNode, with the defaults kubeadm applies. Sources, in k8s.io/kubernetes v1.34:
// cmd/kubeadm/app/apis/kubeadm/{v1beta3,v1beta4}/types.go and defaults.go (fields and
// static defaults), app/util/marshal.go SplitConfigDocuments (documents),
// app/util/config/{initconfiguration,joinconfiguration}.go (which documents count, the
// node-name and control-plane-taint defaults), apis/kubeadm/validation (what is refused).
// extraArgs are a map in v1beta3 and a list of {name, value} in v1beta4; both come out
// as the list, sorted by name as kubeadm's v1beta3 conversion sorts them.
import { isIP } from "node:net";
import { parseAllDocuments, YAMLParseError } from "yaml";
import { FieldReader, KubeadmConfigError, toYamlValue, type YamlValue } from "./kubeadm-yaml.ts";
import { readBootstrapTokens, readDiscovery, type BootstrapToken, type Discovery } from "./kubeadm-join.ts";

export { KubeadmConfigError } from "./kubeadm-yaml.ts";
export type { BootstrapToken, Discovery } from "./kubeadm-join.ts";

export type KubeadmApiVersion = "kubeadm.k8s.io/v1beta3" | "kubeadm.k8s.io/v1beta4";

export interface KubeadmArg {
  name: string;
  value: string;
}

export interface Taint {
  key: string;
  value: string;
  effect: string;
}

export interface NodeRegistration {
  /** As written, before defaulting: what nodeName was made from. */
  name: string;
  criSocket: string;
  /** undefined when the key is absent or null: kubeadm then adds node-role.kubernetes.io/control-plane:NoSchedule on control-plane nodes; [] means none. */
  taints: Taint[] | undefined;
  kubeletExtraArgs: KubeadmArg[];
  ignorePreflightErrors: string[];
  imagePullPolicy: string;
}

export interface ApiEndpoint {
  /** "" lets kubeadm pick the machine's address. */
  advertiseAddress: string;
  bindPort: number;
}

export type EtcdConfig =
  | { local: { dataDir: string; imageRepository: string; imageTag: string; extraArgs: KubeadmArg[]; serverCertSANs: string[]; peerCertSANs: string[] } }
  | { external: { endpoints: string[]; caFile: string; certFile: string; keyFile: string } };

export interface ClusterConfig {
  apiVersion: KubeadmApiVersion;
  controlPlaneEndpoint: string;
  clusterName: string;
  kubernetesVersion: string;
  networking: { serviceSubnet: string; podSubnet: string; dnsDomain: string };
  certificatesDir: string;
  imageRepository: string;
  /** v1beta4 only; v1beta3 clusters use RSA-2048. */
  encryptionAlgorithm: string;
  apiServer: { certSANs: string[]; extraArgs: KubeadmArg[] };
  controllerManager: { extraArgs: KubeadmArg[] };
  scheduler: { extraArgs: KubeadmArg[] };
  etcd: EtcdConfig;
  featureGates: Record<string, boolean>;
  /** The document exactly as written, for the kubeadm-config ConfigMap's ClusterConfiguration key. */
  documentYaml: string;
}

export interface KubeadmNode {
  role: "init" | "control-plane-join" | "worker-join";
  /** The Node's name: nodeRegistration.name, else the machine's hostname, trimmed and lower-cased (GetHostname). */
  nodeName: string;
  /** Of the InitConfiguration or JoinConfiguration. */
  apiVersion: KubeadmApiVersion;
  nodeRegistration: NodeRegistration;
  /** init: InitConfiguration.localAPIEndpoint; control-plane join: controlPlane.localAPIEndpoint. */
  localAPIEndpoint?: ApiEndpoint;
  /** init only; a joining node reads it from the cluster. */
  cluster?: ClusterConfig;
  /** init only; kubeadm makes one with a random token when none is given. */
  bootstrapTokens?: BootstrapToken[];
  /** join only. */
  discovery?: Discovery;
  /** join only; default /etc/kubernetes/pki/ca.crt. */
  caCertPath?: string;
  skipPhases: string[];
  /** apiVersion/kind of documents kubeadm ignores here (component configs, the other command's kinds). */
  ignoredDocuments: string[];
}

export interface ReadOptions {
  phase: "init" | "join";
  /** The file's path, for messages. */
  source: string;
  /** The machine's hostname, kubeadm's node name when nodeRegistration.name is empty. */
  hostname: string;
}

const GROUP = "kubeadm.k8s.io";
const VERSIONS = new Set(["v1beta3", "v1beta4"]);
const OLD_VERSIONS = new Set(["v1alpha1", "v1alpha2", "v1alpha3", "v1beta1", "v1beta2"]);
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

interface Doc {
  apiVersion: KubeadmApiVersion;
  kind: string;
  fields: Map<string, YamlValue>;
  text: string;
  r: FieldReader;
}

export function readKubeadmConfig(text: string, options: ReadOptions): KubeadmNode {
  const { docs, ignored } = splitDocuments(text, options.source);
  const find = (kind: string): Doc | undefined => docs.find((d) => d.kind === kind);
  const nodeKind = options.phase === "init" ? "InitConfiguration" : "JoinConfiguration";
  const nodeDoc = find(nodeKind);
  const clusterDoc = options.phase === "init" ? find("ClusterConfiguration") : undefined;
  for (const d of docs) if (d !== nodeDoc && d !== clusterDoc) ignored.push(`${d.apiVersion}/${d.kind}`);
  if (options.phase === "join") {
    if (nodeDoc === undefined) throw new KubeadmConfigError(`${options.source}: no JoinConfiguration document; kubeadm join --config needs one`);
    return readJoin(nodeDoc, options, ignored);
  }
  if (nodeDoc === undefined && clusterDoc === undefined) {
    throw new KubeadmConfigError(`${options.source}: no InitConfiguration or ClusterConfiguration document; kubeadm init --config needs one`);
  }
  // kubeadm init defaults a missing InitConfiguration (documentMapToInitConfiguration), and a missing ClusterConfiguration.
  const init = nodeDoc ?? { apiVersion: clusterDoc?.apiVersion ?? "kubeadm.k8s.io/v1beta4", kind: nodeKind, fields: new Map(), text: "", r: new FieldReader(`${options.source} InitConfiguration`) };
  const cluster = readCluster(clusterDoc ?? { apiVersion: init.apiVersion, kind: "ClusterConfiguration", fields: new Map(), text: "", r: new FieldReader(`${options.source} ClusterConfiguration`) });
  const registration = readNodeRegistration(init);
  return {
    role: "init",
    nodeName: nodeName(init, registration.name, options.hostname),
    apiVersion: init.apiVersion,
    nodeRegistration: registration,
    localAPIEndpoint: readEndpoint(init.r, init.fields.get("localAPIEndpoint"), "localAPIEndpoint"),
    cluster,
    bootstrapTokens: readBootstrapTokens(init.r, init.fields.get("bootstrapTokens")),
    skipPhases: init.r.strings(init.fields.get("skipPhases"), "skipPhases") ?? [],
    ignoredDocuments: ignored,
  };
}

function readJoin(doc: Doc, options: ReadOptions, ignored: string[]): KubeadmNode {
  const { r, fields } = doc;
  const controlPlane = r.object(fields.get("controlPlane"), "controlPlane");
  const registration = readNodeRegistration(doc);
  const caCertPath = r.string(fields.get("caCertPath"), "caCertPath");
  return {
    role: controlPlane === undefined ? "worker-join" : "control-plane-join",
    nodeName: nodeName(doc, registration.name, options.hostname),
    apiVersion: doc.apiVersion,
    nodeRegistration: registration,
    ...(controlPlane === undefined ? {} : { localAPIEndpoint: readEndpoint(r, controlPlane.get("localAPIEndpoint"), "controlPlane.localAPIEndpoint") }),
    discovery: readDiscovery(r, fields.get("discovery")),
    caCertPath: caCertPath === "" ? "/etc/kubernetes/pki/ca.crt" : caCertPath,
    skipPhases: r.strings(fields.get("skipPhases"), "skipPhases") ?? [],
    ignoredDocuments: ignored,
  };
}

/** SplitConfigDocuments: each document needs apiVersion (with a group) and kind; a kind may appear once. */
function splitDocuments(text: string, source: string): { docs: Doc[]; ignored: string[] } {
  const docs: Doc[] = [];
  const ignored: string[] = [];
  const parsed = parseAllDocuments(text, { version: "1.1", uniqueKeys: true });
  if (!Array.isArray(parsed)) return { docs, ignored };
  parsed.forEach((yamlDoc, i) => {
    const problem = yamlDoc.errors[0];
    if (problem !== undefined) {
      const at = problem instanceof YAMLParseError ? problem.linePos?.[0] : undefined;
      throw new KubeadmConfigError(`${source}: document ${i + 1} is not valid YAML (${problem.code}${at === undefined ? "" : ` at line ${at.line}, column ${at.col}`})`);
    }
    if (yamlDoc.contents === null) return;
    const value = toYamlValue(yamlDoc.contents, yamlDoc);
    const top = new FieldReader(`${source} document ${i + 1}`);
    const fields = top.object(value, "(the document)") ?? new Map<string, YamlValue>();
    const apiVersion = top.string(fields.get("apiVersion"), "apiVersion");
    const kind = top.string(fields.get("kind"), "kind");
    const [group, version] = apiVersion.includes("/") ? apiVersion.split("/", 2) : ["", apiVersion];
    if (apiVersion === "" || kind === "") top.fail("apiVersion and kind", "are both required, e.g. apiVersion: kubeadm.k8s.io/v1beta4 and kind: InitConfiguration");
    if (group === "" || version === "") top.fail("apiVersion", `"${apiVersion}" needs a group and a version, e.g. kubeadm.k8s.io/v1beta4`);
    if (docs.some((d) => d.kind === kind)) top.fail("kind", `${kind} appears twice; kubeadm takes each kind once`);
    if (group !== GROUP) {
      ignored.push(`${apiVersion}/${kind}`);
      return;
    }
    if (OLD_VERSIONS.has(version ?? "")) top.fail("apiVersion", `${apiVersion} is an old kubeadm API that kubeadm 1.34 refuses; write kubeadm.k8s.io/v1beta4 (or v1beta3)`);
    if (!VERSIONS.has(version ?? "")) top.fail("apiVersion", `${apiVersion} is not a kubeadm API the simulator reads; write kubeadm.k8s.io/v1beta4 or v1beta3`);
    // The document's own text, without the "---" line that separates it from the one before.
    const own = text.slice(yamlDoc.range[0], yamlDoc.range[2]).replace(/^---[ \t]*(#[^\n]*)?(\r?\n|$)/, "");
    docs.push({ apiVersion: apiVersion as KubeadmApiVersion, kind, fields, text: own, r: new FieldReader(`${source} ${kind}`) });
  });
  return { docs, ignored };
}

function readCluster(doc: Doc): ClusterConfig {
  const { r, fields } = doc;
  const networking = r.object(fields.get("networking"), "networking");
  const apiServer = r.object(fields.get("apiServer"), "apiServer");
  const or = (value: string, fallback: string): string => (value === "" ? fallback : value);
  return {
    apiVersion: doc.apiVersion,
    controlPlaneEndpoint: r.string(fields.get("controlPlaneEndpoint"), "controlPlaneEndpoint"),
    clusterName: or(r.string(fields.get("clusterName"), "clusterName"), "kubernetes"),
    kubernetesVersion: or(r.string(fields.get("kubernetesVersion"), "kubernetesVersion"), "stable-1"),
    networking: {
      serviceSubnet: or(r.string(networking?.get("serviceSubnet"), "networking.serviceSubnet"), "10.96.0.0/12"),
      podSubnet: r.string(networking?.get("podSubnet"), "networking.podSubnet"),
      dnsDomain: or(r.string(networking?.get("dnsDomain"), "networking.dnsDomain"), "cluster.local"),
    },
    certificatesDir: or(r.string(fields.get("certificatesDir"), "certificatesDir"), "/etc/kubernetes/pki"),
    imageRepository: or(r.string(fields.get("imageRepository"), "imageRepository"), "registry.k8s.io"),
    encryptionAlgorithm: doc.apiVersion.endsWith("v1beta4") ? or(r.string(fields.get("encryptionAlgorithm"), "encryptionAlgorithm"), "RSA-2048") : "RSA-2048",
    apiServer: {
      certSANs: r.strings(apiServer?.get("certSANs"), "apiServer.certSANs") ?? [],
      extraArgs: readArgs(doc, apiServer?.get("extraArgs"), "apiServer.extraArgs"),
    },
    controllerManager: { extraArgs: readArgs(doc, r.object(fields.get("controllerManager"), "controllerManager")?.get("extraArgs"), "controllerManager.extraArgs") },
    scheduler: { extraArgs: readArgs(doc, r.object(fields.get("scheduler"), "scheduler")?.get("extraArgs"), "scheduler.extraArgs") },
    etcd: readEtcd(doc),
    featureGates: r.boolMap(fields.get("featureGates"), "featureGates"),
    documentYaml: doc.text,
  };
}

/** SetDefaults_Etcd: neither local nor external means local etcd in /var/lib/etcd. */
function readEtcd(doc: Doc): EtcdConfig {
  const { r } = doc;
  const etcd = r.object(doc.fields.get("etcd"), "etcd");
  const local = r.object(etcd?.get("local"), "etcd.local");
  const external = r.object(etcd?.get("external"), "etcd.external");
  if (local !== undefined && external !== undefined) r.fail("etcd", "has both local and external; kubeadm takes one of them");
  if (external !== undefined) {
    const endpoints = r.strings(external.get("endpoints"), "etcd.external.endpoints") ?? [];
    if (endpoints.length === 0) r.fail("etcd.external.endpoints", "must list at least one etcd URL, e.g. [https://10.0.0.5:2379]");
    const file = (name: string): string => r.string(external.get(name), `etcd.external.${name}`);
    return { external: { endpoints, caFile: file("caFile"), certFile: file("certFile"), keyFile: file("keyFile") } };
  }
  const dataDir = r.string(local?.get("dataDir"), "etcd.local.dataDir");
  return {
    local: {
      dataDir: dataDir === "" ? "/var/lib/etcd" : dataDir,
      imageRepository: r.string(local?.get("imageRepository"), "etcd.local.imageRepository"),
      imageTag: r.string(local?.get("imageTag"), "etcd.local.imageTag"),
      extraArgs: readArgs(doc, local?.get("extraArgs"), "etcd.local.extraArgs"),
      serverCertSANs: r.strings(local?.get("serverCertSANs"), "etcd.local.serverCertSANs") ?? [],
      peerCertSANs: r.strings(local?.get("peerCertSANs"), "etcd.local.peerCertSANs") ?? [],
    },
  };
}

function readNodeRegistration(doc: Doc): NodeRegistration {
  const { r } = doc;
  const nr = r.object(doc.fields.get("nodeRegistration"), "nodeRegistration");
  const taints = r.objects(nr?.get("taints"), "nodeRegistration.taints")?.map((t, i) => {
    const at = `nodeRegistration.taints[${i}]`;
    const taint = { key: r.string(t.get("key"), `${at}.key`), value: r.string(t.get("value"), `${at}.value`), effect: r.string(t.get("effect"), `${at}.effect`) };
    if (taint.key === "") r.fail(`${at}.key`, "is required");
    if (!["NoSchedule", "PreferNoSchedule", "NoExecute"].includes(taint.effect)) r.fail(`${at}.effect`, "must be NoSchedule, PreferNoSchedule or NoExecute");
    return taint;
  });
  const policy = r.string(nr?.get("imagePullPolicy"), "nodeRegistration.imagePullPolicy");
  if (policy !== "" && !["Always", "IfNotPresent", "Never"].includes(policy)) r.fail("nodeRegistration.imagePullPolicy", "must be Always, IfNotPresent or Never");
  return {
    name: r.string(nr?.get("name"), "nodeRegistration.name"),
    criSocket: r.string(nr?.get("criSocket"), "nodeRegistration.criSocket"),
    taints,
    kubeletExtraArgs: readArgs(doc, nr?.get("kubeletExtraArgs"), "nodeRegistration.kubeletExtraArgs"),
    ignorePreflightErrors: r.strings(nr?.get("ignorePreflightErrors"), "nodeRegistration.ignorePreflightErrors") ?? [],
    imagePullPolicy: policy === "" ? "IfNotPresent" : policy,
  };
}

/** SetNodeRegistrationDynamicDefaults → GetHostname, then ValidateNodeRegistrationOptions (a DNS-1123 subdomain). */
function nodeName(doc: Doc, written: string, hostname: string): string {
  const name = (written === "" ? hostname : written).trim().toLowerCase();
  if (name === "") doc.r.fail("nodeRegistration.name", "is empty and the machine has no hostname; set it, e.g. name: \"{{ v1.local_hostname }}\"");
  if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    doc.r.fail("nodeRegistration.name", `is "${name}", not a DNS-1123 subdomain (lower-case letters, digits, '-' and '.'); a Jinja variable left unrendered shows this way`);
  }
  return name;
}

function readEndpoint(r: FieldReader, v: YamlValue | undefined, path: string): ApiEndpoint {
  const fields = r.object(v, path);
  const bindPort = r.int(fields?.get("bindPort"), `${path}.bindPort`, 0, 65535);
  const advertiseAddress = r.string(fields?.get("advertiseAddress"), `${path}.advertiseAddress`);
  if (advertiseAddress !== "" && isIP(advertiseAddress) === 0) r.fail(`${path}.advertiseAddress`, "must be an IPv4 or IPv6 address");
  return { advertiseAddress, bindPort: bindPort === 0 ? 6443 : bindPort };
}

/** v1beta3: map[string]string, sorted by name (conversion.go convertToArgs); v1beta4: []Arg as written. */
function readArgs(doc: Doc, v: YamlValue | undefined, path: string): KubeadmArg[] {
  const { r } = doc;
  if (doc.apiVersion.endsWith("v1beta3")) {
    if (v !== undefined && v.kind === "seq") r.fail(path, "is a list, which is the v1beta4 form; in kubeadm.k8s.io/v1beta3 write a mapping (name: value)");
    const fields = r.object(v, path);
    return [...(fields ?? [])].map(([name, value]) => ({ name, value: r.string(value, `${path}.${name}`) })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
  if (v !== undefined && v.kind === "map") r.fail(path, "is a mapping, which is the v1beta3 form; in kubeadm.k8s.io/v1beta4 write a list of {name, value}");
  return (r.objects(v, path) ?? []).map((arg, i) => ({ name: r.string(arg.get("name"), `${path}[${i}].name`), value: r.string(arg.get("value"), `${path}[${i}].value`) }));
}
