// The node's PKI inputs read the way kubeadm v1.34 reads them, and the subject
// alternative names it derives from them. Sources (k8s.io/kubernetes v1.34.2,
// cmd/kubeadm/app/): util/pkiutil/pki_helpers.go GetAPIServerAltNames, getAltNames
// (GetEtcdAltNames, GetEtcdPeerAltNames), appendSANsToAltNames, RemoveDuplicateAltNames;
// constants/constants.go GetAPIServerVirtualIP, GetKubernetesServiceCIDR;
// util/endpoint.go ParseHostPort; apis/kubeadm/validation ValidateNodeRegistrationOptions.

/** Bad input to the PKI: `field` names the input, the message says what to pass instead. */
export class PkiInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

export interface AltNames {
  /** Sorted and unique, as RemoveDuplicateAltNames leaves them (sets.List sorts). */
  dnsNames: string[];
  /** Canonical text, unique, in the order kubeadm adds them. */
  ips: string[];
}

const LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_SUBDOMAIN = new RegExp(`^${LABEL}(\\.${LABEL})*$`);
const WILDCARD_DNS1123_SUBDOMAIN = new RegExp(`^\\*\\.${LABEL}(\\.${LABEL})*$`);
const DNS1123_SUBDOMAIN_MAX = 253;

/** k8s.io/apimachinery validation.IsDNS1123Subdomain. */
export function isDns1123Subdomain(name: string): boolean {
  return name.length <= DNS1123_SUBDOMAIN_MAX && DNS1123_SUBDOMAIN.test(name);
}

function isWildcardDns1123Subdomain(name: string): boolean {
  return name.length <= DNS1123_SUBDOMAIN_MAX && WILDCARD_DNS1123_SUBDOMAIN.test(name);
}

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)) return undefined;
  return Uint8Array.from(parts.map(Number));
}

function parseIpv6(text: string): Uint8Array | undefined {
  // An IPv4 tail ("::ffff:10.0.0.1") stands for the last two groups.
  const lastColon = text.lastIndexOf(":");
  const v4 = text.slice(lastColon + 1).includes(".") ? parseIpv4(text.slice(lastColon + 1)) : undefined;
  if (text.slice(lastColon + 1).includes(".") && !v4) return undefined;
  const body = v4 ? `${text.slice(0, lastColon + 1)}0:0` : text;
  const halves = body.split("::");
  if (halves.length > 2) return undefined;
  const groups = (half: string): string[] => (half === "" ? [] : half.split(":"));
  const head = groups(halves[0] ?? "");
  const tail = groups(halves[1] ?? "");
  const count = head.length + tail.length;
  if (![...head, ...tail].every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  if (halves.length === 1 ? count !== 8 : count > 7) return undefined;
  const words = [...head, ...new Array<string>(8 - count).fill("0"), ...tail].map((g) => parseInt(g, 16));
  const bytes = new Uint8Array(16);
  words.forEach((w, i) => {
    bytes[2 * i] = w >> 8;
    bytes[2 * i + 1] = w & 0xff;
  });
  if (v4) bytes.set(v4, 12);
  return bytes;
}

/**
 * An IP address as bytes: 4 for IPv4 and for IPv4-mapped IPv6 (Go's net.IP.To4, which
 * x509 uses to encode an IP SAN), else 16. Undefined when the text is no IP address.
 */
export function parseIp(text: string): Uint8Array | undefined {
  const bytes = text.includes(":") ? parseIpv6(text) : parseIpv4(text);
  if (bytes?.length === 16 && bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return bytes.slice(12);
  }
  return bytes;
}

/** Canonical text (RFC 5952, as Go's net.IP.String): lowercase, longest zero run of 2+ groups as "::". */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join(".");
  const words = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0));
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > best.length && j - i >= 2) best = { start: i, length: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(":");
  if (best.start < 0) return hex(words);
  return `${hex(words.slice(0, best.start))}::${hex(words.slice(best.start + best.length))}`;
}

/**
 * The first address of the first service CIDR (the `kubernetes` Service's ClusterIP):
 * GetAPIServerVirtualIP takes the first entry of the comma-separated list and
 * netutils.GetIndexedIP(subnet, 1), which must still be inside the subnet.
 */
export function firstServiceIp(serviceSubnet: string): string {
  const fix = 'pass the ClusterConfiguration networking.serviceSubnet, a CIDR such as "10.96.0.0/12" (or a comma-separated dual-stack list)';
  const cidrs = serviceSubnet.split(",").map((entry) => {
    const match = /^([^/]+)\/([0-9]{1,3})$/.exec(entry);
    const ip = match?.[1] === undefined ? undefined : parseIp(match[1]);
    const prefix = Number(match?.[2]);
    if (!ip || match?.[1]?.includes(":") !== (ip.length === 16) || prefix > ip.length * 8) {
      throw new PkiInputError("serviceSubnet", `"${entry}" is not a CIDR; ${fix}`);
    }
    return { ip, prefix };
  });
  const { ip, prefix } = cidrs[0] as { ip: Uint8Array; prefix: number };
  const bits = BigInt(ip.length * 8);
  const value = ip.reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
  const mask = ((1n << bits) - 1n) ^ ((1n << (bits - BigInt(prefix))) - 1n);
  const base = value & mask;
  const first = base + 1n;
  if ((first & mask) !== base) {
    throw new PkiInputError("serviceSubnet", `"${serviceSubnet.split(",")[0]}" has no first address to give the kubernetes Service; ${fix}`);
  }
  return formatIp(Uint8Array.from({ length: ip.length }, (_, i) => Number((first >> BigInt(8 * (ip.length - 1 - i))) & 0xffn)));
}

/** Go's net.SplitHostPort, enough of it for ParseHostPort: undefined when it would fail. */
function splitHostPort(hostport: string): { host: string; port: string } | undefined {
  const bracketed = /^\[([^\]]*)\]:([^:]*)$/.exec(hostport);
  if (bracketed) return { host: bracketed[1] ?? "", port: bracketed[2] ?? "" };
  const colon = hostport.lastIndexOf(":");
  if (colon < 0 || hostport.includes("[") || hostport.includes("]")) return undefined;
  const host = hostport.slice(0, colon);
  if (host.includes(":")) return undefined;
  return { host, port: hostport.slice(colon + 1) };
}

/**
 * The host of controlPlaneEndpoint as ParseHostPort reads it: "host", "host:port" or
 * "[v6]:port"; the host must be an IP or a DNS-1123 subdomain, the port 1-65535.
 */
export function controlPlaneEndpointHost(endpoint: string): string {
  const split = splitHostPort(endpoint);
  const host = split?.host ?? endpoint;
  const port = split?.port ?? "";
  const portOk = port === "" || (/^[0-9]+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535);
  if (portOk && (parseIp(host) || isDns1123Subdomain(host))) return host;
  throw new PkiInputError(
    "controlPlaneEndpoint",
    `"${endpoint}" is not host[:port] with an IP or a lowercase DNS name as host and a port 1-65535; pass the ClusterConfiguration controlPlaneEndpoint`,
  );
}

/** The address fields every certificate of the node shares, checked once. */
export interface NodeAddresses {
  nodeName: string;
  advertiseAddress: string;
  serviceSubnet: string;
  dnsDomain: string;
  controlPlaneEndpoint: string;
}

export function checkNodeAddresses(input: NodeAddresses): void {
  if (!isDns1123Subdomain(input.nodeName)) {
    throw new PkiInputError("nodeName", `"${input.nodeName}" is not a lowercase DNS-1123 subdomain; pass the rendered nodeRegistration.name`);
  }
  if (!parseIp(input.advertiseAddress)) {
    throw new PkiInputError("advertiseAddress", `"${input.advertiseAddress}" is not an IP address; pass the machine's address (localAPIEndpoint.advertiseAddress)`);
  }
  if (input.dnsDomain !== "" && !isDns1123Subdomain(input.dnsDomain)) {
    throw new PkiInputError("dnsDomain", `"${input.dnsDomain}" is not a lowercase DNS-1123 subdomain; pass networking.dnsDomain, "cluster.local" by default`);
  }
  firstServiceIp(input.serviceSubnet);
  if (input.controlPlaneEndpoint !== "") controlPlaneEndpointHost(input.controlPlaneEndpoint);
}

class AltNamesBuilder {
  private readonly dns = new Set<string>();
  private readonly ipSet = new Map<string, true>();

  dnsName(name: string): this {
    this.dns.add(name);
    return this;
  }

  ip(text: string): this {
    const bytes = parseIp(text);
    if (bytes) this.ipSet.set(formatIp(bytes), true);
    return this;
  }

  /**
   * appendSANsToAltNames: an IP, a DNS-1123 subdomain or a wildcard one is added; anything
   * else is left out with a warning, as kubeadm prints one and goes on.
   */
  extraSans(sans: readonly string[], certName: string, warnings: string[]): this {
    for (const san of sans) {
      if (parseIp(san)) this.ip(san);
      else if (isDns1123Subdomain(san) || isWildcardDns1123Subdomain(san)) this.dnsName(san);
      else warnings.push(`"${san}" was not added to the ${certName} SANs: it is not a valid IP or RFC-1123 DNS name`);
    }
    return this;
  }

  build(): AltNames {
    return { dnsNames: [...this.dns].sort(), ips: [...this.ipSet.keys()] };
  }
}

/** GetAPIServerAltNames. */
export function apiServerAltNames(input: NodeAddresses, certSANs: readonly string[], warnings: string[]): AltNames {
  const names = new AltNamesBuilder()
    .dnsName(input.nodeName)
    .dnsName("kubernetes")
    .dnsName("kubernetes.default")
    .dnsName("kubernetes.default.svc");
  if (input.dnsDomain !== "") names.dnsName(`kubernetes.default.svc.${input.dnsDomain}`);
  names.ip(firstServiceIp(input.serviceSubnet)).ip(input.advertiseAddress);
  if (input.controlPlaneEndpoint !== "") {
    const host = controlPlaneEndpointHost(input.controlPlaneEndpoint);
    if (parseIp(host)) names.ip(host);
    else names.dnsName(host);
  }
  return names.extraSans(certSANs, "apiserver", warnings).build();
}

/**
 * getAltNames for etcd/server and etcd/peer: the node name, localhost, the advertise
 * address, 127.0.0.1 and ::1, plus etcd.local.serverCertSANs / peerCertSANs.
 */
export function etcdAltNames(input: NodeAddresses, certSANs: readonly string[], certName: string, warnings: string[]): AltNames {
  return new AltNamesBuilder()
    .dnsName(input.nodeName)
    .dnsName("localhost")
    .ip(input.advertiseAddress)
    .ip("127.0.0.1")
    .ip("::1")
    .extraSans(certSANs, certName, warnings)
    .build();
}
