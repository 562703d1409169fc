// The hybrid flavor as clusterctl renders it, applied for real and run by the real
// Cluster API core, kubeadm bootstrap and kubeadm control-plane managers, our manager
// and the MAAS simulator: the control-plane machine is deployed into memory with the
// flavor's cloud-init (the install step and kubeadm init) behind the MAAS DNS name, and
// the MachineDeployment's MaasMachines are disk machines with the worker tag.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { parse, stringify } from "yaml";
import { MAAS_CLUSTER, MAAS_MACHINE, type MaasMachine } from "../../../src/api/v1beta1/index.ts";
import { Testbed, createNamespace, waitFor } from "../controllers/provider-harness.ts";
import { ClusterctlSandbox, SPEC_VARIABLES, forTestbed, parseObjects } from "./clusterctl-harness.ts";

describe("the hybrid flavor, deployed by Cluster API, kubeadm and the provider against the MAAS simulator", () => {
  const bed = new Testbed({ prefix: "flavor-hybrid", capiManagers: ["core", "kubeadm-bootstrap", "kubeadm-control-plane"] });
  let sandbox: ClusterctlSandbox;
  before(async () => {
    await bed.start();
    sandbox = await ClusterctlSandbox.create();
  });
  after(async () => {
    await sandbox.remove();
    await bed.stop();
  });

  const isReady = (m: MaasMachine): boolean => m.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";

  it("deploys the control plane into memory with the flavor's cloud-init and makes disk MaasMachines for the workers", async () => {
    const ns = await createNamespace(bed.client, "flavor-hybrid");
    // The spec's variables, with what the simulator's inventory has: pool capi, jammy, domain maas.test.
    const result = await sandbox.generate("hybrid", {
      ...SPEC_VARIABLES,
      KUBERNETES_VERSION: "v1.34.2",
      DNS_DOMAIN: "maas.test",
      CONTROL_PLANE_MACHINE_IMAGE: "ubuntu/jammy",
      WORKER_MACHINE_IMAGE: "ubuntu/jammy",
      CONTROL_PLANE_MACHINE_RESOURCEPOOL: "capi",
      WORKER_MACHINE_RESOURCEPOOL: "capi",
    }, { name: "hyb", namespace: ns });
    assert.equal(result.code, 0, result.stderr);
    const objects = forTestbed(parseObjects(result.stdout), bed.filter);
    const applied = await bed.env.kubectl(["apply", "-f", "-"], { input: objects.map((o) => stringify(o)).join("---\n") });
    assert.equal(applied.code, 0, applied.stderr);

    const maasCluster = await waitFor("the MaasCluster's DNS endpoint", async () => {
      const c = await bed.client.get(MAAS_CLUSTER, { namespace: ns, name: "hyb" });
      return c.status?.initialization?.provisioned === true ? c : undefined;
    }, 90_000);
    assert.deepEqual(maasCluster.spec.controlPlaneEndpoint, { host: "hyb.maas.test", port: 6443 });

    const controlPlane = await waitFor("the control-plane MaasMachine Ready", async () => {
      const list = await bed.client.list(MAAS_MACHINE, { namespace: ns });
      return list.items.find((m) => m.metadata.labels?.["cluster.x-k8s.io/control-plane"] !== undefined && isReady(m));
    }, 150_000).catch(async (err: unknown) => {
      const list = await bed.client.list(MAAS_MACHINE, { namespace: ns });
      const states = list.items.map((m) => `${m.metadata.name}: ${JSON.stringify(m.status?.conditions?.map((c) => `${c.type}=${c.status} ${c.reason}: ${c.message ?? ""}`))}`);
      throw new Error(`${String(err)}\n${states.join("\n")}`);
    });
    assert.equal(controlPlane.spec.ephemeral, true);
    assert.deepEqual(controlPlane.spec.tags, ["control-plane"]);
    assert.equal(controlPlane.status?.deploymentTarget, "memory");
    const deploy = bed.sim.requestLog().findLast((e) => e.op === "deploy" && e.path.endsWith(`/${controlPlane.spec.systemID ?? ""}/`));
    assert.equal(deploy?.params.ephemeral_deploy, "true");
    assert.equal(deploy?.params.distro_series, "ubuntu/jammy");
    const cloudInit = Buffer.from(String(deploy?.params.user_data ?? ""), "base64").toString("utf8");
    // cloud-init renders the jinja (the node name) before it reads the cloud-config.
    assert.match(cloudInit, /^## template: jinja\n#cloud-config\n/);
    const cloudConfig = parse(cloudInit) as { runcmd?: string[]; write_files?: { path: string; content: string }[] };
    const runcmd = cloudConfig.runcmd ?? [];
    const install = runcmd.indexOf('/usr/local/sbin/capmaas-install-kubernetes "v1.34.2"');
    const init = runcmd.findIndex((command) => command.startsWith("kubeadm init"));
    assert.ok(install >= 0 && init > install, `the install step runs before kubeadm init: ${JSON.stringify(runcmd)}`);
    const script = cloudConfig.write_files?.find((f) => f.path === "/usr/local/sbin/capmaas-install-kubernetes");
    assert.match(script?.content ?? "", /^#!\/bin\/sh\n/);
    assert.match(cloudConfig.write_files?.find((f) => f.path === "/run/kubeadm/kubeadm.yaml")?.content ?? "", /controlPlaneEndpoint: hyb\.maas\.test:6443/);

    const workers = await waitFor("two worker MaasMachines", async () => {
      const list = await bed.client.list(MAAS_MACHINE, { namespace: ns });
      const found = list.items.filter((m) => m.metadata.labels?.["cluster.x-k8s.io/deployment-name"] === "hyb-md-0");
      return found.length === 2 ? found : undefined;
    }, 90_000);
    for (const worker of workers) {
      assert.equal(worker.spec.ephemeral, false);
      assert.deepEqual(worker.spec.tags, ["worker"]);
      assert.equal(worker.spec.resourcePool, "capi");
    }
  });
});
