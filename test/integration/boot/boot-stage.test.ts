// The boot stage end to end: maas-sim with --boot-binaries on a loopback subnet, machines
// allocated and deployed through the MAAS API with the kubeadm bootstrap provider's user
// data (real CAs), and the workload cluster they form checked from the management side
// the way Cluster API reaches it: the API on the controlPlaneEndpoint VIP, the objects
// KubeadmControlPlane and the Machine controller read, etcd through kubectl port-forward.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { after, before, describe, it } from "node:test";
import { CoreV1Api, type KubeConfig, type V1Node } from "@kubernetes/client-node";
import type { MachineBootStatus } from "../../../src/sim/boot/boot.ts";
import { requestJson } from "../../../src/sim/boot/https-json.ts";
import { initConfiguration, joinConfiguration } from "../../../src/sim/boot/test-support.ts";
import { isAlive } from "../../testenv/pids.ts";
import { bootBinaries, startBootingSim, virtualIp, type BootingSim } from "./booting-sim.ts";
import { adminKubeConfig, etcdClient, kubectlPortForward } from "./workload-access.ts";
import { clusterConfigurationFor, makeClusterSecrets, userDataWith, workerJoinConfiguration, type ClusterSecrets } from "./workload-user-data.ts";

const TOKEN = { id: "abcdef", secret: "0123456789abcdef" };
const KCP_POD_SELECTOR = "tier=control-plane,component in (kube-apiserver,kube-controller-manager,kube-scheduler,etcd)";

const conditions = (node: V1Node): Record<string, string> => Object.fromEntries((node.status?.conditions ?? []).map((c) => [c.type, c.status]));
const taints = (node: V1Node): string[] => (node.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`).sort();
const rssKiB = (pid: number): number => Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);

describe("simulated MAAS machines deployed with kubeadm user data (maas-sim --boot-binaries)", () => {
  let sim: BootingSim;
  let secrets: ClusterSecrets;
  let endpoint: string;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let kubectl: string;
  let scratch: string;
  let init: MachineBootStatus;
  const seenPids = new Set<number>();

  const remember = (status: MachineBootStatus): MachineBootStatus => {
    for (const pid of Object.values(status.pids)) seenPids.add(pid);
    return status;
  };

  /** etcd's member list through `kubectl port-forward pod/etcd-<node> :2379`, with KubeadmControlPlane's client certificate. */
  async function etcdMembers(nodeName: string): Promise<Array<{ name: string; isLearner?: boolean }>> {
    const forward = await kubectlPortForward(kubectl, kc, join(scratch, "kubeconfig"), `etcd-${nodeName}`, 2379);
    try {
      const client = await etcdClient(secrets.etcdCa);
      // 127.0.0.1 is among the SANs of kubeadm's etcd server certificate, so this verifies in full.
      const answer = await requestJson({ caPem: secrets.etcdCa.certPem, certPem: client.certPem, keyPem: client.keyPem }, { method: "POST", url: `https://127.0.0.1:${forward.localPort}/v3/cluster/member/list`, body: {} });
      assert.equal(answer.status, 200);
      return (answer.body as { members: Array<{ name: string; isLearner?: boolean }> }).members;
    } finally {
      await forward.stop();
    }
  }

  function workerUserData(token = `${TOKEN.id}.${TOKEN.secret}`): string {
    return userDataWith({ kind: "worker-join", documents: [workerJoinConfiguration({ endpoint, token, caHash: secrets.caHash })] }, secrets);
  }

  before(async () => {
    kubectl = (await bootBinaries()).kubectl;
    scratch = await mkdtemp(join(tmpdir(), "boot-stage-test-"));
    sim = await startBootingSim(["--machines", "6", "--max-control-planes", "2"]);
    secrets = await makeClusterSecrets();
    endpoint = `${virtualIp(sim.net)}:6443`;
    const userData = userDataWith({ kind: "init", documents: [clusterConfigurationFor({ name: "workload", endpoint }), initConfiguration("v1beta4")] }, secrets);
    init = remember(await sim.waitFor(await sim.deploy(userData), ["booted", "failed"]));
    assert.equal(init.phase, "booted", init.message);
    kc = await adminKubeConfig(secrets.ca, `https://${endpoint}`);
    core = kc.makeApiClient(CoreV1Api);
  });

  after(async () => {
    await sim?.stop();
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
  });

  describe("kubeadm init on a control-plane machine", () => {
    it("serves the workload API on the controlPlaneEndpoint VIP with kubeadm's apiserver certificate, which the cluster CA verifies", async (t) => {
      const [host, port] = endpoint.split(":") as [string, string];
      const commonName = await new Promise<string>((resolve, reject) => {
        const socket = connect({ host, port: Number(port), ca: secrets.ca.certPem }, () => {
          resolve(String(socket.getPeerCertificate().subject.CN));
          socket.end();
        });
        socket.once("error", reject);
      });
      assert.equal(commonName, "kube-apiserver");
      const version = await requestJson({ caPem: secrets.ca.certPem }, { method: "GET", url: `https://${endpoint}/version` });
      assert.equal((version.body as { gitVersion?: string }).gitVersion, "v1.34.2");
      const rss = (rssKiB(init.pids.etcd ?? 0) + rssKiB(init.pids["kube-apiserver"] ?? 0)) / 1024;
      const seconds = (Date.parse(init.bootedAt ?? "") - Date.parse(init.deployedAt)) / 1000;
      t.diagnostic(`one workload control plane: etcd + kube-apiserver RSS ${rss.toFixed(0)} MiB; Deployed → kubeadm-config written in ${seconds.toFixed(1)} s`);
    });

    it("registers its Node Ready with the kubelet's four conditions, kubeadm's control-plane label and taint, and no not-ready taint", async () => {
      const node = await core.readNode({ name: init.nodeName ?? "" });
      assert.deepEqual(conditions(node), { MemoryPressure: "False", DiskPressure: "False", PIDPressure: "False", Ready: "True" });
      assert.equal(node.metadata?.labels?.["node-role.kubernetes.io/control-plane"], "");
      assert.deepEqual(taints(node), ["node-role.kubernetes.io/control-plane:NoSchedule"]);
      assert.deepEqual(node.status?.addresses?.find((a) => a.type === "InternalIP")?.address, init.address);
      assert.equal(node.status?.daemonEndpoints?.kubeletEndpoint?.Port, 10250);
      assert.equal(node.status?.nodeInfo?.kubeletVersion, "v1.34.2");
    });

    it("mirrors its four static Pods, Running and Ready, where KubeadmControlPlane's Pod cache selects them", async () => {
      const pods = (await core.listNamespacedPod({ namespace: "kube-system", labelSelector: KCP_POD_SELECTOR })).items;
      const node = init.nodeName ?? "";
      assert.deepEqual(pods.map((p) => p.metadata?.name).sort(), ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"].map((c) => `${c}-${node}`));
      for (const pod of pods) {
        assert.equal(pod.status?.phase, "Running", pod.metadata?.name);
        assert.equal(pod.status?.conditions?.find((c) => c.type === "Ready")?.status, "True", pod.metadata?.name);
        assert.equal(pod.spec?.nodeName, node);
        // Drain skips mirror Pods by this annotation.
        assert.ok(pod.metadata?.annotations?.["kubernetes.io/config.mirror"], pod.metadata?.name);
      }
    });

    it("uploads the ClusterConfiguration document from cloud-init as kube-system/kubeadm-config", async () => {
      const configMap = await core.readNamespacedConfigMap({ name: "kubeadm-config", namespace: "kube-system" });
      // Verbatim, up to the blank line CABPK's template leaves before the next "---".
      assert.equal(configMap.data?.ClusterConfiguration?.trimEnd(), clusterConfigurationFor({ name: "workload", endpoint }).trimEnd());
    });

    it("reaches etcd through kubectl port-forward to etcd-<node>:2379, its one member named like the Node", async () => {
      assert.deepEqual((await etcdMembers(init.nodeName ?? "")).map((m) => m.name), [init.nodeName]);
    });

    it("reports the success file CABPK's runcmd writes after kubeadm", () => {
      assert.equal(init.bootstrapSucceeded, true);
      assert.equal(readFileSync(join(sim.bootDir, "machines", init.systemId, "root/run/cluster-api/bootstrap-success.complete"), "utf8"), "success\n");
    });

    describe("when it is powered off and on again (a disk machine)", () => {
      it("stops its processes, then starts them again from its disk: the cluster's data is still there and its Node Ready", async () => {
        const before = Object.values(init.pids);
        await sim.op(init.systemId, "power_off");
        const off = await sim.waitFor(init.systemId, ["powered-off"]);
        assert.deepEqual(off.pids, {});
        assert.deepEqual(before.filter(isAlive), []);
        await sim.op(init.systemId, "power_on");
        init = remember(await sim.waitFor(init.systemId, ["booted", "failed"]));
        assert.equal(init.phase, "booted", init.message);
        assert.deepEqual(Object.keys(init.pids).sort(), ["etcd", "kube-apiserver", "kubelet-stub"]);
        assert.deepEqual(Object.values(init.pids).filter((pid) => before.includes(pid)), []);
        const configMap = await core.readNamespacedConfigMap({ name: "kubeadm-config", namespace: "kube-system" });
        assert.ok(configMap.data?.ClusterConfiguration);
        assert.equal(conditions(await core.readNode({ name: init.nodeName ?? "" })).Ready, "True");
      });
    });
  });

  describe("kubeadm join on a worker", () => {
    let worker: MachineBootStatus;

    before(async () => {
      // What the kubeadm bootstrap provider creates in the workload cluster for a join (reconcilers/kubeadmconfig/token.go createToken).
      await core.createNamespacedSecret({
        namespace: "kube-system",
        body: {
          metadata: { name: `bootstrap-token-${TOKEN.id}` },
          type: "bootstrap.kubernetes.io/token",
          stringData: {
            "token-id": TOKEN.id,
            "token-secret": TOKEN.secret,
            "usage-bootstrap-authentication": "true",
            "usage-bootstrap-signing": "true",
            "auth-extra-groups": "system:bootstrappers:kubeadm:default-node-token",
            expiration: new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d+Z$/, "Z"),
          },
        },
      });
      worker = remember(await sim.waitFor(await sim.deploy(workerUserData()), ["booted", "failed"]));
      assert.equal(worker.phase, "booted", worker.message);
    });

    it("registers its Node Ready with nodeRegistration's taints and no control-plane label, and runs no process", async () => {
      const node = await core.readNode({ name: worker.nodeName ?? "" });
      assert.equal(conditions(node).Ready, "True");
      assert.deepEqual(taints(node), ["node.cluster.x-k8s.io/uninitialized:NoSchedule"]);
      assert.equal(node.metadata?.labels?.["node-role.kubernetes.io/control-plane"], undefined);
      assert.deepEqual(worker.pids, {});
    });

    it("fails discovery, registering nothing, when the cluster does not know its bootstrap token", async () => {
      const refused = await sim.waitFor(await sim.deploy(workerUserData("zzzzzz.0123456789abcdef")), ["booted", "failed"]);
      assert.equal(refused.phase, "failed");
      assert.equal(refused.step, "discovery");
      await assert.rejects(core.readNode({ name: refused.nodeName ?? "" }), (error: { code?: number }) => error.code === 404);
    });

    describe("when it is powered off", () => {
      let poweredOffAt: number;

      before(async () => {
        poweredOffAt = Math.floor(Date.now() / 1000) * 1000;
        await sim.op(worker.systemId, "power_off");
        await sim.waitFor(worker.systemId, ["powered-off"]);
      });

      it("its Node turns Ready=Unknown (NodeStatusUnknown) from now, with the unreachable taints", async () => {
        const node = await core.readNode({ name: worker.nodeName ?? "" });
        const ready = node.status?.conditions?.find((c) => c.type === "Ready");
        assert.equal(ready?.status, "Unknown");
        assert.equal(ready?.reason, "NodeStatusUnknown");
        assert.ok(new Date(ready?.lastTransitionTime ?? 0).getTime() >= poweredOffAt, `lastTransitionTime ${String(ready?.lastTransitionTime)}`);
        assert.deepEqual(conditions(node), { MemoryPressure: "Unknown", DiskPressure: "Unknown", PIDPressure: "Unknown", Ready: "Unknown" });
        assert.deepEqual(taints(node), ["node.cluster.x-k8s.io/uninitialized:NoSchedule", "node.kubernetes.io/unreachable:NoExecute", "node.kubernetes.io/unreachable:NoSchedule"]);
        // A disk keeps what cloud-init wrote.
        assert.equal(existsSync(join(sim.bootDir, "machines", worker.systemId, "root/run/kubeadm/kubeadm-join-config.yaml")), true);
      });

      it("a disk machine powered on again has its Node Ready again, the unreachable taints lifted", async () => {
        await sim.op(worker.systemId, "power_on");
        await sim.waitFor(worker.systemId, ["booted"]);
        const node = await core.readNode({ name: worker.nodeName ?? "" });
        assert.equal(conditions(node).Ready, "True");
        assert.deepEqual(taints(node), ["node.cluster.x-k8s.io/uninitialized:NoSchedule"]);
      });
    });

    describe("deployed into memory, powered off and on again", () => {
      it("comes back empty: MAAS deploys it again without user data, and its Node stays Unknown", async () => {
        const ephemeral = await sim.waitFor(await sim.deploy(workerUserData(), { ephemeral: true }), ["booted", "failed"]);
        assert.equal(ephemeral.phase, "booted", ephemeral.message);
        await sim.op(ephemeral.systemId, "power_off");
        await sim.waitFor(ephemeral.systemId, ["powered-off"]);
        // Its files were its memory.
        assert.equal(existsSync(join(sim.bootDir, "machines", ephemeral.systemId)), false);
        await sim.op(ephemeral.systemId, "power_on");
        await sim.waitFor(ephemeral.systemId, ["nothing-to-boot"]);
        assert.equal(conditions(await core.readNode({ name: ephemeral.nodeName ?? "" })).Ready, "Unknown");
      });

      it("powered on with the join's user data, joins again and its kubelet takes its old Node over, Ready", async () => {
        const ephemeral = (await sim.boot()).machines.find((m) => m.phase === "nothing-to-boot" && m.hostname !== "");
        assert.ok(ephemeral);
        await sim.op(ephemeral.systemId, "power_off");
        await sim.waitFor(ephemeral.systemId, ["powered-off"]);
        await sim.op(ephemeral.systemId, "power_on", { user_data: workerUserData() });
        const again = await sim.waitFor(ephemeral.systemId, ["booted", "failed"]);
        assert.equal(again.phase, "booted", again.message);
        const node = await core.readNode({ name: again.nodeName ?? "" });
        assert.equal(conditions(node).Ready, "True");
        assert.deepEqual(taints(node), ["node.cluster.x-k8s.io/uninitialized:NoSchedule"]);
      });
    });
  });

  describe("kubeadm join on a second control-plane machine", () => {
    let second: MachineBootStatus;

    before(async () => {
      const join = joinConfiguration("v1beta4", { controlPlane: true }).replace("kc.maas.test:6443", endpoint).replace(/sha256:[0-9a-f]{64}/, secrets.caHash).replace("abcdef.0123456789abcdef", `${TOKEN.id}.${TOKEN.secret}`);
      second = remember(await sim.waitFor(await sim.deploy(userDataWith({ kind: "control-plane-join", documents: [join] }, secrets)), ["booted", "failed"]));
      assert.equal(second.phase, "booted", second.message);
    });

    it("adds a voting etcd member named like its Node, reachable through its own kubelet's port-forward", async () => {
      const members = await etcdMembers(second.nodeName ?? "");
      assert.deepEqual(members.map((m) => m.name).sort(), [init.nodeName, second.nodeName].sort());
      assert.deepEqual(members.map((m) => m.isLearner ?? false), [false, false]);
    });

    it("refuses a third control-plane machine past --max-control-planes 2, starting nothing", async () => {
      const join = joinConfiguration("v1beta4", { controlPlane: true }).replace("kc.maas.test:6443", endpoint).replace(/sha256:[0-9a-f]{64}/, secrets.caHash);
      const third = await sim.waitFor(await sim.deploy(userDataWith({ kind: "control-plane-join", documents: [join] }, secrets)), ["booted", "failed"]);
      assert.equal(third.phase, "failed");
      assert.deepEqual(third.pids, {});
      assert.equal((await etcdMembers(second.nodeName ?? "")).length, 2);
    });

    describe("when the first control-plane machine is released", () => {
      before(async () => {
        // KubeadmControlPlane's pre-terminate hook removes the member first (RemoveEtcdMember), keeping quorum.
        const forward = await kubectlPortForward(kubectl, kc, join(scratch, "kubeconfig"), `etcd-${second.nodeName ?? ""}`, 2379);
        try {
          const client = await etcdClient(secrets.etcdCa);
          const identity = { caPem: secrets.etcdCa.certPem, certPem: client.certPem, keyPem: client.keyPem };
          const base = `https://127.0.0.1:${forward.localPort}/v3/cluster/member`;
          const members = ((await requestJson(identity, { method: "POST", url: `${base}/list`, body: {} })).body as { members: Array<{ ID: string; name: string }> }).members;
          // etcd refuses a removal until the remaining members have been connected a while (StrictReconfigCheck); KCP requeues.
          const deadline = Date.now() + 120_000;
          for (;;) {
            const removed = await requestJson(identity, { method: "POST", url: `${base}/remove`, body: { ID: members.find((m) => m.name === init.nodeName)?.ID } });
            if (removed.status === 200) break;
            assert.ok(Date.now() < deadline, `etcd member remove: HTTP ${removed.status} ${JSON.stringify(removed.body)}`);
            await new Promise((resolve) => setTimeout(resolve, 1000));
          }
        } finally {
          await forward.stop();
        }
        await sim.op(init.systemId, "release");
        await sim.waitFor(init.systemId, ["stopped"]);
      });

      it("stops its etcd, kube-apiserver and kubelet stub", () => {
        assert.deepEqual(Object.keys(init.pids).sort(), ["etcd", "kube-apiserver", "kubelet-stub"]);
        assert.deepEqual(Object.values(init.pids).filter(isAlive), []);
      });

      it("the other API server marks its Node Ready=Unknown with the unreachable taints, and the VIP still answers", async () => {
        const node = await core.readNode({ name: init.nodeName ?? "" });
        assert.equal(conditions(node).Ready, "Unknown");
        assert.ok(taints(node).includes("node.kubernetes.io/unreachable:NoExecute"));
        const version = await requestJson({ caPem: secrets.ca.certPem }, { method: "GET", url: `https://${endpoint}/version` });
        assert.equal(version.status, 200);
      });
    });
  });

  describe("when the simulator stops", () => {
    it("leaves none of the machines' processes running", async () => {
      assert.ok(seenPids.size >= 6, `pids seen: ${[...seenPids].join(", ")}`);
      assert.deepEqual(await sim.stop(), []);
      assert.deepEqual([...seenPids].filter(isAlive), []);
    });
  });
});
