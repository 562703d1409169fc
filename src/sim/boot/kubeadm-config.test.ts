import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { KubeadmConfigError, readKubeadmConfig, type KubeadmNode } from "./kubeadm-config.ts";
import { CA_HASH, clusterConfiguration, initConfiguration, joinConfiguration, TOKEN } from "./test-support.ts";

const SOURCE = "/run/kubeadm/kubeadm.yaml";
const init = (text: string): KubeadmNode => readKubeadmConfig(text, { phase: "init", source: SOURCE, hostname: "Brave-Otter" });
const join = (text: string): KubeadmNode => readKubeadmConfig(text, { phase: "join", source: SOURCE, hostname: "brave-otter" });
/** CABPK's init file: "---", ClusterConfiguration, "---", InitConfiguration. */
const initFile = (version: "v1beta3" | "v1beta4", nodeRegistration?: string, cluster = clusterConfiguration(version)): string =>
  `---\n${cluster}\n---\n${initConfiguration(version, nodeRegistration)}`;

describe("reading kubeadm's config file", () => {
  describe("for kubeadm init, as CABPK writes it", () => {
    for (const version of ["v1beta3", "v1beta4"] as const) {
      it(`reads a ${version} ClusterConfiguration and InitConfiguration with kubeadm's defaults`, () => {
        const node = init(initFile(version, "  name: brave-otter\n  taints: null\n"));
        assert.equal(node.role, "init");
        assert.equal(node.nodeName, "brave-otter");
        assert.equal(node.apiVersion, `kubeadm.k8s.io/${version}`);
        assert.deepEqual(node.localAPIEndpoint, { advertiseAddress: "", bindPort: 6443 });
        const { documentYaml, ...cluster } = node.cluster ?? assert.fail("no cluster");
        assert.deepEqual(cluster, {
          apiVersion: `kubeadm.k8s.io/${version}`,
          controlPlaneEndpoint: "kc.maas.test:6443",
          clusterName: "kc",
          kubernetesVersion: "v1.34.2",
          networking: { serviceSubnet: "10.128.0.0/12", podSubnet: "192.168.0.0/16", dnsDomain: "cluster.local" },
          certificatesDir: "/etc/kubernetes/pki",
          imageRepository: "registry.k8s.io",
          encryptionAlgorithm: "RSA-2048",
          apiServer: { certSANs: [], extraArgs: [] },
          controllerManager: { extraArgs: [] },
          scheduler: { extraArgs: [] },
          etcd: { local: { dataDir: "/var/lib/etcd", imageRepository: "", imageTag: "", extraArgs: [], serverCertSANs: [], peerCertSANs: [] } },
          featureGates: {},
        });
        assert.equal(documentYaml, `${clusterConfiguration(version)}\n`);
        assert.deepEqual(node.bootstrapTokens, [{ token: "", description: "", ttl: "24h0m0s", usages: ["signing", "authentication"], groups: ["system:bootstrappers:kubeadm:default-node-token"] }]);
      });
    }

    it("keeps the ClusterConfiguration document's text exactly, comments and all", () => {
      const cluster = "# from the Cluster\napiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: \"v1.34.2\"   # quoted\n";
      assert.equal(init(initFile("v1beta4", "  name: n\n", cluster)).cluster?.documentYaml, `${cluster}\n`);
    });

    it("defaults the ClusterConfiguration when the file has only an InitConfiguration", () => {
      const node = init(initConfiguration("v1beta4", "  name: n\n"));
      assert.equal(node.cluster?.clusterName, "kubernetes");
      assert.equal(node.cluster?.kubernetesVersion, "stable-1");
      assert.equal(node.cluster?.networking.serviceSubnet, "10.96.0.0/12");
      assert.equal(node.cluster?.documentYaml, "");
    });
  });

  describe("nodeRegistration", () => {
    const taints: Array<[string, string, KubeadmNode["nodeRegistration"]["taints"]]> = [
      ["null (kubeadm adds the control-plane taint)", "  taints: null\n", undefined],
      ["absent (kubeadm adds the control-plane taint)", "", undefined],
      ["an empty list (no taint at all)", "  taints: []\n", []],
      ["listed", "  taints:\n  - {key: a, value: b, effect: NoExecute}\n  - {key: c, effect: NoSchedule}\n", [{ key: "a", value: "b", effect: "NoExecute" }, { key: "c", value: "", effect: "NoSchedule" }]],
    ];
    for (const [name, yaml, expected] of taints) {
      it(`tells taints ${name}`, () => assert.deepEqual(init(initFile("v1beta4", `  name: n\n${yaml}`)).nodeRegistration.taints, expected));
    }

    const names: Array<[string, string, string]> = [
      ["the name written", "  name: Node-1 \n", "node-1"],
      ["the machine's hostname, lower-cased, when no name is written", "  criSocket: unix:///run/containerd/containerd.sock\n", "brave-otter"],
    ];
    for (const [name, yaml, expected] of names) {
      it(`names the node from ${name}`, () => assert.equal(init(initFile("v1beta4", yaml)).nodeName, expected));
    }

    it("reads kubeletExtraArgs as a v1beta3 map, sorted by name, keeping each scalar's text", () => {
      const node = init(initFile("v1beta3", "  name: n\n  kubeletExtraArgs:\n    v: 04\n    node-labels: a=b\n    fail-swap-on: false\n"));
      assert.deepEqual(node.nodeRegistration.kubeletExtraArgs, [{ name: "fail-swap-on", value: "false" }, { name: "node-labels", value: "a=b" }, { name: "v", value: "04" }]);
    });

    it("reads kubeletExtraArgs as a v1beta4 list in its order", () => {
      const node = init(initFile("v1beta4", "  name: n\n  kubeletExtraArgs:\n  - {name: v, value: '4'}\n  - {name: node-labels, value: a=b}\n"));
      assert.deepEqual(node.nodeRegistration.kubeletExtraArgs, [{ name: "v", value: "4" }, { name: "node-labels", value: "a=b" }]);
    });
  });

  describe("for kubeadm join, as CABPK writes it", () => {
    const cases: Array<[string, string, KubeadmNode["role"], KubeadmNode["localAPIEndpoint"]]> = [
      ["a worker", `---\n${joinConfiguration("v1beta4")}`, "worker-join", undefined],
      ["a worker (v1beta3)", `---\n${joinConfiguration("v1beta3")}`, "worker-join", undefined],
      ["a control-plane machine", joinConfiguration("v1beta4", { controlPlane: true }), "control-plane-join", { advertiseAddress: "", bindPort: 6443 }],
    ];
    for (const [name, text, role, endpoint] of cases) {
      it(`reads ${name}'s discovery and node registration`, () => {
        const node = join(text.replace("'{{ v1.local_hostname }}'", "brave-otter"));
        assert.equal(node.role, role);
        assert.equal(node.nodeName, "brave-otter");
        assert.deepEqual(node.localAPIEndpoint, endpoint);
        assert.deepEqual(node.discovery, { bootstrapToken: { token: TOKEN, apiServerEndpoint: "kc.maas.test:6443", caCertHashes: [CA_HASH], unsafeSkipCAVerification: false }, tlsBootstrapToken: TOKEN });
        assert.equal(node.caCertPath, "/etc/kubernetes/pki/ca.crt");
        assert.equal(node.cluster, undefined);
        assert.deepEqual(node.nodeRegistration.taints, role === "worker-join" ? [{ key: "node.cluster.x-k8s.io/uninitialized", value: "", effect: "NoSchedule" }] : undefined);
      });
    }

    it("reads file discovery without the file:// scheme", () => {
      const node = join("apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\ndiscovery:\n  file: {kubeConfigPath: 'file:///etc/kubernetes/discovery.conf'}\n");
      assert.deepEqual(node.discovery, { file: { kubeConfigPath: "/etc/kubernetes/discovery.conf" }, tlsBootstrapToken: "" });
    });
  });

  it("ignores documents kubeadm ignores: component configs, and the other command's kinds", () => {
    const text = `${initFile("v1beta4", "  name: n\n")}---\napiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n---\n${joinConfiguration("v1beta4")}`;
    assert.deepEqual(init(text).ignoredDocuments, ["kubelet.config.k8s.io/v1beta1/KubeletConfiguration", "kubeadm.k8s.io/v1beta4/JoinConfiguration"]);
  });

  describe("a config kubeadm refuses", () => {
    const v4 = "apiVersion: kubeadm.k8s.io/v1beta4\n";
    const cluster = `${v4}kind: ClusterConfiguration\n`;
    const joinDoc = (discovery: string): string => `${v4}kind: JoinConfiguration\ndiscovery:\n${discovery}`;
    const token = `    token: ${TOKEN}\n`;
    const cases: Array<[string, "init" | "join", string, RegExp]> = [
      ["no kubeadm document for init", "init", "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n", /no InitConfiguration or ClusterConfiguration document/],
      ["an apiVersion without a group", "init", "apiVersion: v1\nkind: ConfigMap\n", /document 1: apiVersion "v1" needs a group and a version/],
      ["no JoinConfiguration for join", "join", cluster, /no JoinConfiguration document/],
      ["a document without kind", "init", v4, /document 1: apiVersion and kind are both required/],
      ["a kind twice", "init", `${cluster}---\n${cluster}`, /document 2: kind ClusterConfiguration appears twice/],
      ["an old API", "init", "apiVersion: kubeadm.k8s.io/v1beta2\nkind: ClusterConfiguration\n", /v1beta2 is an old kubeadm API .*write kubeadm\.k8s\.io\/v1beta4/],
      ["an unknown API version", "init", "apiVersion: kubeadm.k8s.io/v1\nkind: ClusterConfiguration\n", /kubeadm\.k8s\.io\/v1 is not a kubeadm API the simulator reads/],
      ["broken YAML", "init", "apiVersion: [\n", /document 1 is not valid YAML \([A-Z_]+ at line \d+, column \d+\)/],
      ["v1beta4 extraArgs as a map", "init", `${cluster}apiServer:\n  extraArgs: {v: '4'}\n`, /ClusterConfiguration: apiServer\.extraArgs is a mapping, which is the v1beta3 form/],
      ["v1beta3 extraArgs as a list", "init", "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nscheduler:\n  extraArgs: [{name: v, value: '4'}]\n", /scheduler\.extraArgs is a list, which is the v1beta4 form/],
      ["local and external etcd", "init", `${cluster}etcd:\n  local: {}\n  external: {endpoints: [https://e:2379]}\n`, /etcd has both local and external/],
      ["external etcd without endpoints", "init", `${cluster}etcd:\n  external: {caFile: /ca}\n`, /etcd\.external\.endpoints must list at least one etcd URL/],
      ["text where a mapping belongs", "init", `${cluster}networking: 10.0.0.0/8\n`, /ClusterConfiguration: networking must be a mapping of fields/],
      ["a node name that is not a DNS name", "init", `${v4}kind: InitConfiguration\nnodeRegistration:\n  name: "{{ v1.local_hostname }}"\n`, /InitConfiguration: nodeRegistration\.name is "\{\{ v1\.local_hostname \}\}", not a DNS-1123 subdomain/],
      ["a taint without effect", "init", `${v4}kind: InitConfiguration\nnodeRegistration:\n  taints: [{key: a}]\n`, /nodeRegistration\.taints\[0\]\.effect must be NoSchedule/],
      ["a bindPort out of range", "init", `${v4}kind: InitConfiguration\nlocalAPIEndpoint: {bindPort: 70000}\n`, /localAPIEndpoint\.bindPort must be from 0 to 65535/],
      ["an advertiseAddress that is not an IP", "init", `${v4}kind: InitConfiguration\nlocalAPIEndpoint: {advertiseAddress: cp.example}\n`, /localAPIEndpoint\.advertiseAddress must be an IPv4 or IPv6 address/],
      ["a bootstrap token of the wrong form", "init", `${v4}kind: InitConfiguration\nbootstrapTokens: [{token: secret-token-value}]\n`, /bootstrapTokens\[0\]\.token is not a bootstrap token of the form/],
      ["discovery with neither token nor file", "join", `${v4}kind: JoinConfiguration\n`, /JoinConfiguration: discovery needs bootstrapToken or file/],
      ["a discovery token of the wrong form", "join", joinDoc("  bootstrapToken:\n    token: secret-token-value\n    apiServerEndpoint: cp:6443\n    unsafeSkipCAVerification: true\n"), /discovery\.bootstrapToken\.token is not a bootstrap token/],
      ["no API server endpoint", "join", joinDoc(`  bootstrapToken:\n${token}    unsafeSkipCAVerification: true\n`), /discovery\.bootstrapToken\.apiServerEndpoint is required/],
      ["an endpoint without a port", "join", joinDoc(`  bootstrapToken:\n${token}    apiServerEndpoint: cp\n    unsafeSkipCAVerification: true\n`), /apiServerEndpoint is "cp", not host:port/],
      ["no CA hash", "join", joinDoc(`  bootstrapToken:\n${token}    apiServerEndpoint: cp:6443\n`), /caCertHashes is empty; list the CA hash, or set unsafeSkipCAVerification: true/],
      ["a CA hash of the wrong form", "join", joinDoc(`  bootstrapToken:\n${token}    apiServerEndpoint: cp:6443\n    caCertHashes: [md5:abc]\n`), /caCertHashes\[0\] must be sha256: and 64 hex digits/],
    ];
    for (const [name, phase, text, message] of cases) {
      it(`refuses ${name}, naming the document and field`, () => {
        assert.throws(() => (phase === "init" ? init(text) : join(text)), (e: unknown) => {
          assert.ok(e instanceof KubeadmConfigError, String(e));
          assert.match(e.message, message);
          assert.ok(e.message.startsWith(SOURCE));
          assert.doesNotMatch(e.message, /secret-token-value|0123456789abcdef/);
          return true;
        });
      });
    }
  });
});
