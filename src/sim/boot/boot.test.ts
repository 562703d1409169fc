// The boot stage inside the simulator where it needs no process: what boots nothing,
// what fails before kubeadm starts anything (each failure naming the field or file to
// fix), and a shutdown that cuts a boot short. The binaries are empty stand-ins: none of
// these paths runs them (test/integration/boot runs the real ones).
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startSimulator } from "../simulator.ts";
import { startHarness, type Harness } from "../test-support.ts";
import type { BootPhase, BootState, MachineBootStatus } from "./boot.ts";
import { cabpkUserData, clusterConfiguration, initConfiguration, joinConfiguration, storedUserData } from "./test-support.ts";

async function until(h: Harness, systemId: string, phases: BootPhase[], step?: string): Promise<MachineBootStatus> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = h.sim.bootState()?.machines.find((m) => m.systemId === systemId);
    if (status !== undefined && phases.includes(status.phase) && (step === undefined || status.step === step || status.phase !== "booting")) return status;
    if (Date.now() > deadline) assert.fail(`machine ${systemId} never ${phases.join("/")}: ${JSON.stringify(status)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const KUBEADM_ONLY = `#cloud-config
write_files:
  - path: /run/kubeadm/kubeadm.yaml
    content: |
      apiVersion: kubeadm.k8s.io/v1beta4
      kind: ClusterConfiguration
      controlPlaneEndpoint: 127.10.255.1:6443
runcmd:
  - kubeadm init --config /run/kubeadm/kubeadm.yaml && echo success > /run/cluster-api/bootstrap-success.complete
`;

describe("the boot stage, before any process runs", () => {
  let binDir: string;
  let bootDir: string;
  let h: Harness;

  before(async () => {
    binDir = await mkdtemp(join(tmpdir(), "boot-bin-"));
    bootDir = await mkdtemp(join(tmpdir(), "boot-dir-"));
    for (const name of ["etcd", "kube-apiserver", "kubelet-stub"]) await writeFile(join(binDir, name), "", { mode: 0o755 });
    h = await startHarness({ machines: 10, deploySeconds: 1, releaseSeconds: 0, subnet: "127.10.0.0/16", boot: { binDir, dir: bootDir } });
  });

  after(async () => {
    await h?.sim.close();
    await rm(binDir, { recursive: true, force: true });
    await rm(bootDir, { recursive: true, force: true });
  });

  async function deploy(userData: string | null): Promise<string> {
    const allocated = await h.client.post("machines/", "allocate", {});
    const systemId = allocated.json<{ system_id: string }>().system_id;
    const deployed = await h.client.post(`machines/${systemId}/`, "deploy", userData === null ? {} : { user_data: storedUserData(userData) });
    assert.equal(deployed.status, 200, deployed.text);
    await h.clock.advance(1000);
    return systemId;
  }

  // [user data, what it is]
  const nothing: Array<[string | null, string]> = [
    [null, "no user data"],
    ["#!/bin/sh\necho hi\n", "a shell script"],
    ["#cloud-config\nruncmd: [echo hi]\n", "a cloud-config that runs no kubeadm"],
  ];
  for (const [userData, what] of nothing) {
    it(`boots nothing from ${what}, saying why`, async () => {
      const status = await until(h, await deploy(userData), ["nothing-to-boot", "failed", "booted"]);
      assert.equal(status.phase, "nothing-to-boot");
      assert.ok((status.message ?? "") !== "");
      assert.deepEqual(status.pids, {});
    });
  }

  // [user data, what is wrong, step it stops at (undefined: before kubeadm), what the message names]
  const failures: Array<[string, string, string | undefined, RegExp]> = [
    [KUBEADM_ONLY, "kubeadm init without the cluster's CA files", "certs", /\/etc\/kubernetes\/pki\/ca\.crt is not among the files cloud-init wrote/],
    [cabpkUserData({ kind: "init", documents: [clusterConfiguration("v1beta4"), initConfiguration("v1beta4")] }), "CA files that hold no certificate", "certs", /cas\.cluster\.certPem: is not a PEM certificate/],
    [
      cabpkUserData({ kind: "worker-join", documents: ["apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\ndiscovery:\n  file:\n    kubeConfigPath: /etc/kubernetes/discovery.conf\n"] }),
      "a join with file discovery",
      "discovery",
      /discovery\.file is not emulated/,
    ],
    [cabpkUserData({ kind: "init", documents: [clusterConfiguration("v1beta4"), "apiVersion: kubeadm.k8s.io/v1beta1\nkind: InitConfiguration\n"] }), "an old kubeadm API", undefined, /kubeadm\.k8s\.io\/v1beta1 is an old kubeadm API/],
  ];
  for (const [userData, what, step, message] of failures) {
    it(`fails ${what}, naming what to fix, and starts nothing`, async () => {
      const status = await until(h, await deploy(userData), ["nothing-to-boot", "failed", "booted"]);
      assert.equal(status.phase, "failed");
      assert.equal(status.step, step);
      assert.match(status.message ?? "", message);
      assert.deepEqual(status.pids, {});
    });
  }

  it("never puts the user data's keys in a status", async () => {
    const userData = cabpkUserData({ kind: "init", documents: [clusterConfiguration("v1beta4"), initConfiguration("v1beta4")] });
    await until(h, await deploy(userData), ["failed"]);
    const state = (await (await fetch(`${h.sim.adminUrl}/boot`)).json()) as BootState;
    assert.doesNotMatch(JSON.stringify(state), /placeholder for/);
  });

  describe("when a joining machine is released while it waits for its cluster", () => {
    it("stops waiting and forgets the machine's files", async () => {
      const systemId = await deploy(cabpkUserData({ kind: "worker-join", documents: [joinConfiguration("v1beta4")] }));
      const waiting = await until(h, systemId, ["booting", "failed"], "discovery");
      assert.equal(waiting.step, "discovery");
      assert.equal(existsSync(join(bootDir, "machines", systemId, "root/run/kubeadm/kubeadm-join-config.yaml")), true);
      await h.client.post(`machines/${systemId}/`, "release", {});
      const stopped = await until(h, systemId, ["stopped", "failed", "booted"]);
      assert.equal(stopped.phase, "stopped");
      assert.equal(existsSync(join(bootDir, "machines", systemId)), false);
    });
  });
});

describe("the simulator with booting", () => {
  it("off answers GET /_sim/boot with 404 naming --boot-binaries", async () => {
    const h = await startHarness();
    try {
      const answer = await fetch(`${h.sim.adminUrl}/boot`);
      assert.equal(answer.status, 404);
      assert.match(((await answer.json()) as { error: string }).error, /--boot-binaries/);
      assert.equal(h.sim.bootState(), null);
    } finally {
      await h.sim.close();
    }
  });

  it("refuses to start from a directory without the binaries, naming them", async () => {
    const empty = await mkdtemp(join(tmpdir(), "boot-empty-"));
    try {
      await assert.rejects(startSimulator({ port: 0, boot: { binDir: empty } }), /has no etcd, kube-apiserver, kubelet-stub/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
