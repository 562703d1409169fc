import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bootstrapTokenSecrets, componentsOf, kubeadmRbac, mirrorPod, parseGoDuration, runningStatus, type StaticPodFacts } from "./control-plane-objects.ts";

const NOW = new Date("2026-12-07T10:00:00.500Z");
const facts = (over: Partial<StaticPodFacts> = {}): StaticPodFacts => ({
  nodeName: "cp-1",
  nodeUid: "uid-1",
  address: "127.10.0.12",
  bindPort: 6443,
  imageRepository: "registry.k8s.io",
  kubernetesVersion: "v1.34.2",
  etcdImage: { repository: "", tag: "" },
  now: NOW,
  ...over,
});

describe("a control-plane machine's mirror Pods", () => {
  it("are the four components with a local etcd, three with an external one", () => {
    assert.deepEqual(componentsOf(facts()), ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"]);
    assert.deepEqual(componentsOf(facts({ etcdImage: undefined })), ["kube-apiserver", "kube-controller-manager", "kube-scheduler"]);
  });

  it("are named <component>-<node> in kube-system with the labels and annotations KubeadmControlPlane and drain read, owned by the Node", () => {
    const pod = mirrorPod(facts(), "kube-apiserver");
    assert.equal(pod.metadata?.name, "kube-apiserver-cp-1");
    assert.equal(pod.metadata?.namespace, "kube-system");
    assert.deepEqual(pod.metadata?.labels, { component: "kube-apiserver", tier: "control-plane" });
    const annotations = pod.metadata?.annotations as Record<string, string>;
    assert.ok(annotations["kubernetes.io/config.mirror"]);
    assert.equal(annotations["kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint"], "127.10.0.12:6443");
    assert.deepEqual(pod.metadata?.ownerReferences, [{ apiVersion: "v1", kind: "Node", name: "cp-1", uid: "uid-1", controller: true }]);
    assert.equal((pod.spec as { nodeName: string }).nodeName, "cp-1");
  });

  // [kubernetesVersion, etcd.local image fields, expected etcd image]
  const images: Array<[string, { repository: string; tag: string }, string]> = [
    ["v1.34.2", { repository: "", tag: "" }, "registry.k8s.io/etcd:3.6.5-0"],
    ["v1.33.1", { repository: "", tag: "" }, "registry.k8s.io/etcd:3.5.24-0"],
    ["v1.34.2", { repository: "mirror.example/k8s", tag: "3.6.6-0" }, "mirror.example/k8s/etcd:3.6.6-0"],
  ];
  for (const [version, etcdImage, expected] of images) {
    it(`run ${expected} for Kubernetes ${version}${etcdImage.tag === "" ? "" : " with etcd.local's image"}`, () => {
      const pod = mirrorPod(facts({ kubernetesVersion: version, etcdImage }), "etcd");
      assert.equal((pod.spec as { containers: Array<{ image: string }> }).containers[0]?.image, expected);
    });
  }

  it("are posted Running with every Pod condition True and their containers running", () => {
    const pod = runningStatus(mirrorPod(facts(), "etcd"), facts());
    const status = pod.status as { phase: string; conditions: Array<{ type: string; status: string }>; containerStatuses: Array<{ ready: boolean }>; podIP: string };
    assert.equal(status.phase, "Running");
    assert.deepEqual(status.conditions.filter((c) => c.status !== "True"), []);
    assert.ok(status.conditions.some((c) => c.type === "Ready"));
    assert.deepEqual(status.containerStatuses.map((c) => c.ready), [true]);
    assert.equal(status.podIP, "127.10.0.12");
  });
});

describe("Go durations (bootstrap token TTLs)", () => {
  const cases: Array<[string, number | undefined]> = [
    ["24h0m0s", 86_400_000],
    ["15m", 900_000],
    ["1.5h", 5_400_000],
    ["1h30m", 5_400_000],
    ["300ms", 300],
    ["0s", 0],
    ["0", 0],
    ["", undefined],
    ["15", undefined],
    ["1d", undefined],
  ];
  for (const [text, ms] of cases) {
    it(`"${text}" is ${ms === undefined ? "not a duration" : `${ms} ms`}`, () => assert.equal(parseGoDuration(text), ms));
  }
});

describe("bootstrap token Secrets", () => {
  const decode = (data: unknown): Record<string, string> => Object.fromEntries(Object.entries(data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, "base64").toString()]));

  it("hold the token, its usages, groups and an expiration TTL from now, as BootstrapTokenToSecret writes them", () => {
    const [placed] = bootstrapTokenSecrets([{ token: "abcdef.0123456789abcdef", description: "d", ttl: "24h0m0s", usages: ["signing", "authentication"], groups: ["system:bootstrappers:kubeadm:default-node-token"] }], NOW);
    assert.equal(placed?.object.metadata?.name, "bootstrap-token-abcdef");
    assert.equal(placed?.object.type, "bootstrap.kubernetes.io/token");
    assert.deepEqual(decode(placed?.object.data), {
      "token-id": "abcdef",
      "token-secret": "0123456789abcdef",
      description: "d",
      expiration: "2026-12-08T10:00:00Z",
      "usage-bootstrap-signing": "true",
      "usage-bootstrap-authentication": "true",
      "auth-extra-groups": "system:bootstrappers:kubeadm:default-node-token",
    });
  });

  it("make up a token when none is given, and never expire with a TTL of 0", () => {
    const [placed] = bootstrapTokenSecrets([{ token: "", description: "", ttl: "0s", usages: ["authentication"], groups: [] }], NOW);
    const data = decode(placed?.object.data);
    assert.match(`${data["token-id"]}.${data["token-secret"]}`, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    assert.equal(data.expiration, undefined);
    assert.equal(data["auth-extra-groups"], undefined);
  });
});

describe("kubeadm init's RBAC", () => {
  it("binds what bootstrap tokens and nodes need, and kubeadm:cluster-admins to cluster-admin", () => {
    const names = kubeadmRbac().map((p) => `${String(p.object.kind)} ${p.object.metadata?.name ?? ""}`);
    for (const expected of [
      "ClusterRoleBinding kubeadm:cluster-admins",
      "ClusterRole kubeadm:get-nodes",
      "ClusterRoleBinding kubeadm:get-nodes",
      "ClusterRoleBinding kubeadm:kubelet-bootstrap",
      "ClusterRoleBinding kubeadm:node-autoapprove-bootstrap",
      "ClusterRoleBinding kubeadm:node-autoapprove-certificate-rotation",
      "Role kubeadm:nodes-kubeadm-config",
      "RoleBinding kubeadm:nodes-kubeadm-config",
    ]) {
      assert.ok(names.includes(expected), expected);
    }
  });
});
