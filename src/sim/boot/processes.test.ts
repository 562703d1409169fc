import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { apiServerArgs, etcdArgs, kubeadmArgs, kubeletStubArgs, MachineProcesses, type Arg } from "./processes.ts";

const flag = (args: string[], name: string): string[] => args.filter((a) => a.startsWith(`--${name}=`)).map((a) => a.slice(name.length + 3));

describe("kubeadmArgs (kubeadmutil.ArgumentsToCommand)", () => {
  // [situation, base, overrides, expected]
  const cases: [string, Arg[], Arg[], string[]][] = [
    ["no overrides: sorted by name", [{ name: "b", value: "1" }, { name: "a", value: "2" }], [], ["--a=2", "--b=1"]],
    ["an override replaces the base argument of its name", [{ name: "a", value: "base" }, { name: "b", value: "1" }], [{ name: "a", value: "mine" }], ["--a=mine", "--b=1"]],
    [
      "a repeated override replaces every base one, and repeats sort by value",
      [{ name: "x", value: "base1" }, { name: "x", value: "base2" }],
      [{ name: "x", value: "z" }, { name: "x", value: "y" }],
      ["--x=y", "--x=z"],
    ],
    ["a new name is added", [{ name: "a", value: "1" }], [{ name: "c", value: "3" }], ["--a=1", "--c=3"]],
  ];
  for (const [situation, base, overrides, expected] of cases) {
    it(situation, () => assert.deepEqual(kubeadmArgs(base, overrides), expected));
  }
});

describe("etcdArgs (getEtcdCommand)", () => {
  const spec = { name: "cp-1", address: "127.10.3.2", dataDir: "/data", certificatesDir: "/pki" };

  it("serves clients and peers on the machine's address over mutual TLS with kubeadm's files", () => {
    const args = etcdArgs(spec);
    assert.deepEqual(flag(args, "listen-client-urls"), ["https://127.10.3.2:2379"]);
    assert.deepEqual(flag(args, "advertise-client-urls"), ["https://127.10.3.2:2379"]);
    assert.deepEqual(flag(args, "listen-peer-urls"), ["https://127.10.3.2:2380"]);
    assert.deepEqual(flag(args, "initial-advertise-peer-urls"), ["https://127.10.3.2:2380"]);
    assert.deepEqual(flag(args, "client-cert-auth"), ["true"]);
    assert.deepEqual(flag(args, "peer-client-cert-auth"), ["true"]);
    assert.deepEqual(flag(args, "trusted-ca-file"), ["/pki/etcd/ca.crt"]);
    assert.deepEqual(flag(args, "peer-cert-file"), ["/pki/etcd/peer.crt"]);
  });

  // [situation, initialCluster, expected --initial-cluster, expected --initial-cluster-state]
  const clusters: [string, { name: string; peerUrl: string }[] | undefined, string, string[]][] = [
    ["kubeadm init: a new cluster of this member alone", undefined, "cp-1=https://127.10.3.2:2380", []],
    [
      "kubeadm join: every member, state existing",
      [{ name: "cp-0", peerUrl: "https://127.10.3.1:2380" }, { name: "cp-1", peerUrl: "https://127.10.3.2:2380" }],
      "cp-0=https://127.10.3.1:2380,cp-1=https://127.10.3.2:2380",
      ["existing"],
    ],
  ];
  for (const [situation, initialCluster, expected, state] of clusters) {
    it(situation, () => {
      const args = etcdArgs({ ...spec, initialCluster });
      assert.deepEqual(flag(args, "initial-cluster"), [expected]);
      assert.deepEqual(flag(args, "initial-cluster-state"), state);
    });
  }

  it("takes etcd.local.extraArgs over its own", () => {
    assert.deepEqual(flag(etcdArgs({ ...spec, extraArgs: [{ name: "snapshot-count", value: "5" }] }), "snapshot-count"), ["5"]);
  });
});

describe("apiServerArgs (getAPIServerCommand)", () => {
  const spec = {
    address: "127.10.3.2", certificatesDir: "/pki", serviceSubnet: "10.96.0.0/12", dnsDomain: "cluster.local",
    probeClient: { certFile: "/admin.crt", keyFile: "/admin.key" },
  };

  it("advertises and binds the machine's address and uses its local etcd member", () => {
    const args = apiServerArgs(spec);
    assert.deepEqual(flag(args, "advertise-address"), ["127.10.3.2"]);
    assert.deepEqual(flag(args, "bind-address"), ["127.10.3.2"]);
    assert.deepEqual(flag(args, "secure-port"), ["6443"]);
    assert.deepEqual(flag(args, "etcd-servers"), ["https://127.10.3.2:2379"]);
    assert.deepEqual(flag(args, "etcd-certfile"), ["/pki/apiserver-etcd-client.crt"]);
    assert.deepEqual(flag(args, "service-account-issuer"), ["https://kubernetes.default.svc.cluster.local"]);
    assert.deepEqual(flag(args, "kubelet-preferred-address-types"), ["InternalIP,ExternalIP,Hostname"]);
  });

  it("uses external etcd's endpoints and files when given", () => {
    const args = apiServerArgs({ ...spec, externalEtcd: { endpoints: ["https://e1:2379", "https://e2:2379"], caFile: "/ext/ca.crt", certFile: "/ext/c.crt", keyFile: "/ext/c.key" } });
    assert.deepEqual(flag(args, "etcd-servers"), ["https://e1:2379,https://e2:2379"]);
    assert.deepEqual(flag(args, "etcd-cafile"), ["/ext/ca.crt"]);
    assert.deepEqual(flag(args, "etcd-keyfile"), ["/ext/c.key"]);
  });

  // [situation, extraArgs, expected --authorization-mode]
  const authz: [string, Arg[], string[]][] = [
    ["Node,RBAC by default", [], ["Node,RBAC"]],
    ["the modes extraArgs choose", [{ name: "authorization-mode", value: "RBAC" }], ["RBAC"]],
    ["none with a structured authorization config", [{ name: "authorization-config", value: "/authz.yaml" }], []],
  ];
  for (const [situation, extraArgs, expected] of authz) {
    it(`authorizes with ${situation}`, () => assert.deepEqual(flag(apiServerArgs({ ...spec, extraArgs }), "authorization-mode"), expected));
  }
});

describe("kubeletStubArgs", () => {
  it("serves on the machine's address and forwards to it", () => {
    const args = kubeletStubArgs({ address: "127.10.3.2", certFile: "/k.crt", keyFile: "/k.key" });
    assert.deepEqual([flag(args, "address"), flag(args, "port"), flag(args, "target-host")], [["127.10.3.2"], ["10250"], ["127.10.3.2"]]);
  });
});

describe("MachineProcesses", () => {
  it("refuses a binary directory without the binary, naming the process, the machine and the fix", async () => {
    const dir = await mkdtemp(join(tmpdir(), "boot-processes-"));
    try {
      const processes = new MachineProcesses({ machine: "cp-1", binDir: dir, logDir: dir });
      await assert.rejects(
        processes.startKubeletStub({ address: "127.10.3.2", certFile: "/k.crt", keyFile: "/k.key" }),
        /^Error: kubelet-stub of machine cp-1: .*kubelet-stub does not exist; .*build\.sh core/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
