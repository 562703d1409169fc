import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  apiServerAltNames,
  checkNodeAddresses,
  controlPlaneEndpointHost,
  etcdAltNames,
  firstServiceIp,
  formatIp,
  parseIp,
  PkiInputError,
  type NodeAddresses,
} from "./pki-input.ts";

const node: NodeAddresses = {
  nodeName: "cp-0",
  advertiseAddress: "127.10.0.5",
  serviceSubnet: "10.96.0.0/12",
  dnsDomain: "cluster.local",
  controlPlaneEndpoint: "",
};

describe("IP addresses", () => {
  const canonical: Array<[string, string | undefined]> = [
    ["10.0.0.1", "10.0.0.1"],
    ["::1", "::1"],
    ["FD00:0:0:0:0:0:0:1", "fd00::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["::", "::"],
    ["::ffff:10.1.2.3", "10.1.2.3"],
    ["64:ff9b::10.1.2.3", "64:ff9b::a01:203"],
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"],
    ["256.0.0.1", undefined],
    ["10.0.0", undefined],
    ["010.0.0.1", undefined],
    ["1::2::3", undefined],
    ["1:2:3:4:5:6:7:8:9", undefined],
    ["fe80::1%eth0", undefined],
    ["cp-0", undefined],
    ["", undefined],
  ];
  for (const [text, want] of canonical) {
    it(`reads "${text}" as ${want ?? "no address"}`, () => {
      const bytes = parseIp(text);
      assert.equal(bytes && formatIp(bytes), want);
    });
  }
});

describe("the kubernetes Service address (first IP of the service subnet)", () => {
  const cases: Array<[string, string]> = [
    ["10.96.0.0/12", "10.96.0.1"],
    ["10.96.5.7/12", "10.96.0.1"],
    ["172.20.0.0/16", "172.20.0.1"],
    ["10.0.0.0/31", "10.0.0.1"],
    ["fd00:10:96::/108", "fd00:10:96::1"],
    ["10.96.0.0/12,fd00:10:96::/108", "10.96.0.1"],
    ["fd00:10:96::/108,10.96.0.0/12", "fd00:10:96::1"],
  ];
  for (const [subnet, want] of cases) {
    it(`is ${want} for ${subnet}`, () => assert.equal(firstServiceIp(subnet), want));
  }

  const bad = ["10.96.0.0", "10.96.0.0/33", "fd00::/129", "10.96.0.0/12, fd00::/108", "", "cluster.local/12", "10.96.0.1/32"];
  for (const subnet of bad) {
    it(`refuses "${subnet}", naming serviceSubnet`, () => {
      assert.throws(() => firstServiceIp(subnet), (error: unknown) => error instanceof PkiInputError && error.field === "serviceSubnet");
    });
  }
});

describe("the controlPlaneEndpoint host", () => {
  const cases: Array<[string, string | undefined]> = [
    ["127.10.0.1:6443", "127.10.0.1"],
    ["127.10.0.1", "127.10.0.1"],
    ["cluster-a.maas:6443", "cluster-a.maas"],
    ["cluster-a.maas", "cluster-a.maas"],
    ["[fd00::10]:6443", "fd00::10"],
    ["fd00::10", "fd00::10"],
    ["cluster-a.maas:0", undefined],
    ["cluster-a.maas:70000", undefined],
    ["Cluster_A:6443", undefined],
    ["[fd00::10]", undefined],
    ["https://cluster-a.maas:6443", undefined],
  ];
  for (const [endpoint, want] of cases) {
    it(`of "${endpoint}" is ${want ?? "an error naming controlPlaneEndpoint"}`, () => {
      if (want !== undefined) assert.equal(controlPlaneEndpointHost(endpoint), want);
      else assert.throws(() => controlPlaneEndpointHost(endpoint), (e: unknown) => e instanceof PkiInputError && e.field === "controlPlaneEndpoint");
    });
  }
});

describe("the node's addresses", () => {
  const bad: Array<[string, Partial<NodeAddresses>]> = [
    ["nodeName", { nodeName: "CP_0" }],
    ["nodeName", { nodeName: "" }],
    ["advertiseAddress", { advertiseAddress: "cp-0.maas" }],
    ["dnsDomain", { dnsDomain: "Cluster.Local" }],
    ["serviceSubnet", { serviceSubnet: "10.96.0.0" }],
    ["controlPlaneEndpoint", { controlPlaneEndpoint: "cp:port" }],
  ];
  for (const [field, change] of bad) {
    it(`are refused with an error naming ${field} when it is ${JSON.stringify(change[field as keyof NodeAddresses])}`, () => {
      assert.throws(
        () => checkNodeAddresses({ ...node, ...change }),
        (error: unknown) => error instanceof PkiInputError && error.field === field && error.message.startsWith(`${field}: `),
      );
    });
  }

  it("are accepted as kubeadm's defaults give them", () => {
    assert.doesNotThrow(() => checkNodeAddresses(node));
  });
});

describe("apiserver SANs (GetAPIServerAltNames)", () => {
  const cases: Array<{ name: string; change: Partial<NodeAddresses>; certSANs?: string[]; dns: string[]; ips: string[] }> = [
    {
      name: "kubeadm's defaults and no endpoint",
      change: {},
      dns: ["cp-0", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"],
      ips: ["10.96.0.1", "127.10.0.5"],
    },
    {
      name: "an IP endpoint (the simulator's VIP)",
      change: { controlPlaneEndpoint: "127.10.0.1:6443" },
      dns: ["cp-0", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"],
      ips: ["10.96.0.1", "127.10.0.5", "127.10.0.1"],
    },
    {
      name: "a DNS endpoint, sorted in with the rest",
      change: { controlPlaneEndpoint: "cluster-a.maas:6443" },
      dns: ["cluster-a.maas", "cp-0", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"],
      ips: ["10.96.0.1", "127.10.0.5"],
    },
    {
      name: "no dnsDomain",
      change: { dnsDomain: "" },
      dns: ["cp-0", "kubernetes", "kubernetes.default", "kubernetes.default.svc"],
      ips: ["10.96.0.1", "127.10.0.5"],
    },
    {
      name: "certSANs, duplicates dropped and IPs written canonically",
      change: { controlPlaneEndpoint: "127.10.0.1" },
      certSANs: ["127.10.0.1", "FD00:0::1", "*.apps.example", "kubernetes", "api.example"],
      dns: ["*.apps.example", "api.example", "cp-0", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"],
      ips: ["10.96.0.1", "127.10.0.5", "127.10.0.1", "fd00::1"],
    },
    {
      name: "an IPv6 machine and service subnet",
      change: { advertiseAddress: "fd00:1::5", serviceSubnet: "fd00:10:96::/108,10.96.0.0/12" },
      dns: ["cp-0", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"],
      ips: ["fd00:10:96::1", "fd00:1::5"],
    },
  ];
  for (const c of cases) {
    it(`with ${c.name}`, () => {
      const warnings: string[] = [];
      const names = apiServerAltNames({ ...node, ...c.change }, c.certSANs ?? [], warnings);
      assert.deepEqual(names, { dnsNames: c.dns, ips: c.ips });
      assert.deepEqual(warnings, []);
    });
  }

  it("leaves out a certSAN that is neither an IP nor a DNS name, with a warning naming it", () => {
    const warnings: string[] = [];
    const names = apiServerAltNames(node, ["Bad_Name", "ok.example"], warnings);
    assert.ok(names.dnsNames.includes("ok.example"));
    assert.ok(!names.dnsNames.includes("Bad_Name"));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? "", /"Bad_Name".*apiserver/);
  });
});

describe("etcd SANs (getAltNames)", () => {
  it("hold the node name, localhost, the machine address and both loopbacks", () => {
    assert.deepEqual(etcdAltNames(node, [], "etcd/server", []), {
      dnsNames: ["cp-0", "localhost"],
      ips: ["127.10.0.5", "127.0.0.1", "::1"],
    });
  });

  it("add serverCertSANs / peerCertSANs after them", () => {
    assert.deepEqual(etcdAltNames(node, ["etcd.example", "10.0.0.9", "127.0.0.1"], "etcd/peer", []), {
      dnsNames: ["cp-0", "etcd.example", "localhost"],
      ips: ["127.10.0.5", "127.0.0.1", "::1", "10.0.0.9"],
    });
  });
});
