// The secret-bearing parts of kubeadm's config: JoinConfiguration.discovery and
// InitConfiguration.bootstrapTokens (k8s.io/kubernetes v1.34 cmd/kubeadm/app/apis/kubeadm
// v1beta4 types.go Discovery, apis/bootstraptoken/v1 types.go and defaults.go; checks from
// apis/kubeadm/validation ValidateDiscovery and util/pubkeypin). Errors name the field
// and never quote a token.
import type { FieldReader, YamlValue } from "./kubeadm-yaml.ts";

export interface Discovery {
  bootstrapToken?: {
    token: string;
    /** host:port of the API server to discover the cluster from. */
    apiServerEndpoint: string;
    /** "sha256:<hex of the CA's SubjectPublicKeyInfo>", lower-cased. */
    caCertHashes: string[];
    unsafeSkipCAVerification: boolean;
  };
  file?: { kubeConfigPath: string };
  /** The token the kubelet's TLS bootstrap uses; defaults to bootstrapToken.token. */
  tlsBootstrapToken: string;
}

export interface BootstrapToken {
  /** "" when kubeadm is to make one up. */
  token: string;
  description: string;
  /** As written (a Go duration); default "24h0m0s". */
  ttl: string;
  usages: string[];
  groups: string[];
}

// k8s.io/cluster-bootstrap token/api BootstrapTokenPattern.
const TOKEN = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;
const CA_HASH = /^sha256:[0-9a-f]{64}$/i;

export function readDiscovery(r: FieldReader, v: YamlValue | undefined): Discovery {
  const d = r.object(v, "discovery");
  const bt = r.object(d?.get("bootstrapToken"), "discovery.bootstrapToken");
  const file = r.object(d?.get("file"), "discovery.file");
  if (bt === undefined && file === undefined) r.fail("discovery", "needs bootstrapToken or file (CABPK writes bootstrapToken with the cluster's endpoint, a token and the CA hash)");
  if (bt !== undefined && file !== undefined) r.fail("discovery", "has both bootstrapToken and file; kubeadm takes one of them");
  let tlsBootstrapToken = r.string(d?.get("tlsBootstrapToken"), "discovery.tlsBootstrapToken");
  const out: Discovery = { tlsBootstrapToken };
  if (bt !== undefined) {
    const token = r.string(bt.get("token"), "discovery.bootstrapToken.token");
    if (!TOKEN.test(token)) r.fail("discovery.bootstrapToken.token", "is not a bootstrap token of the form [a-z0-9]{6}.[a-z0-9]{16}");
    const apiServerEndpoint = r.string(bt.get("apiServerEndpoint"), "discovery.bootstrapToken.apiServerEndpoint");
    if (apiServerEndpoint === "") r.fail("discovery.bootstrapToken.apiServerEndpoint", "is required (host:port of the control plane)");
    if (!/^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):\d+$/.test(apiServerEndpoint)) {
      r.fail("discovery.bootstrapToken.apiServerEndpoint", `is "${apiServerEndpoint}", not host:port (IPv6 in brackets)`);
    }
    const caCertHashes = (r.strings(bt.get("caCertHashes"), "discovery.bootstrapToken.caCertHashes") ?? []).map((hash, i) => {
      if (!CA_HASH.test(hash)) r.fail(`discovery.bootstrapToken.caCertHashes[${i}]`, "must be sha256: and 64 hex digits (the SHA-256 of the CA's public key info)");
      return hash.toLowerCase();
    });
    const unsafeSkipCAVerification = r.bool(bt.get("unsafeSkipCAVerification"), "discovery.bootstrapToken.unsafeSkipCAVerification");
    if (caCertHashes.length === 0 && !unsafeSkipCAVerification) {
      r.fail("discovery.bootstrapToken.caCertHashes", "is empty; list the CA hash, or set unsafeSkipCAVerification: true as kubeadm demands");
    }
    // SetDefaults_Discovery, then ValidateToken on the result.
    if (tlsBootstrapToken === "") tlsBootstrapToken = token;
    else if (!TOKEN.test(tlsBootstrapToken)) r.fail("discovery.tlsBootstrapToken", "is not a bootstrap token of the form [a-z0-9]{6}.[a-z0-9]{16}");
    out.bootstrapToken = { token, apiServerEndpoint, caCertHashes, unsafeSkipCAVerification };
    out.tlsBootstrapToken = tlsBootstrapToken;
  }
  if (file !== undefined) {
    const path = r.string(file.get("kubeConfigPath"), "discovery.file.kubeConfigPath");
    if (path === "") r.fail("discovery.file.kubeConfigPath", "is required");
    out.file = { kubeConfigPath: path.startsWith("file://") ? path.slice("file://".length) : path };
  }
  return out;
}

/** SetDefaults_BootstrapTokens: none given means one with a generated token; each gets kubeadm's TTL, usages and groups. */
export function readBootstrapTokens(r: FieldReader, v: YamlValue | undefined): BootstrapToken[] {
  const list = r.objects(v, "bootstrapTokens") ?? [];
  const tokens = (list.length === 0 ? [new Map<string, YamlValue>()] : list).map((t, i) => {
    const at = `bootstrapTokens[${i}]`;
    const token = r.string(t.get("token"), `${at}.token`);
    if (token !== "" && !TOKEN.test(token)) r.fail(`${at}.token`, "is not a bootstrap token of the form [a-z0-9]{6}.[a-z0-9]{16}");
    const usages = r.strings(t.get("usages"), `${at}.usages`) ?? [];
    const groups = r.strings(t.get("groups"), `${at}.groups`) ?? [];
    const ttl = r.string(t.get("ttl"), `${at}.ttl`);
    return {
      token,
      description: r.string(t.get("description"), `${at}.description`),
      ttl: ttl === "" ? "24h0m0s" : ttl,
      usages: usages.length === 0 ? ["signing", "authentication"] : usages,
      groups: groups.length === 0 ? ["system:bootstrappers:kubeadm:default-node-token"] : groups,
    };
  });
  return tokens;
}
