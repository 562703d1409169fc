// The MaasMachine controller end to end, with the real Cluster API core manager: CAPI
// owns and reads our MaasMachine, our manager (run as users run it) allocates and
// deploys in the simulator, and what reaches MAAS is read back from its request log.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { MAAS_MACHINE } from "../../../src/api/v1beta1/index.ts";
import { CAPI_MACHINE, SECRET } from "../../../src/capi/index.ts";
import type { KubeClient } from "../../../src/runtime/index.ts";
import type { TestEnvHandle } from "../../testenv/index.ts";
import { CLOUD_INIT, NODE_KIND, Testbed, createNamespace, waitFor, type Simulator } from "./provider-harness.ts";

describe("MaasMachine with the Cluster API core manager", () => {
  const bed = new Testbed({ prefix: "mm-capi" });
  let client: KubeClient;
  let sim: Simulator;
  let env: TestEnvHandle;

  before(async () => {
    await bed.start();
    ({ client, sim, env } = bed);
  });
  after(() => bed.stop());

  const readyCluster = (ns: string, name: string) => bed.readyCluster(ns, name);
  const machineWithData = (...args: Parameters<Testbed["machineWithData"]>) => bed.machineWithData(...args);
  const readyMaasMachine = (ns: string, name: string) => bed.readyMaasMachine(ns, name);

  function deployCall(systemId: string) {
    return sim.requestLog().findLast((e) => e.op === "deploy" && e.path.endsWith(`/machines/${systemId}/`) && e.status === 200);
  }

  describe("when spec.ephemeral is true", () => {
    it("allocates with the constraints, deploys into memory with exactly the bootstrap data, and CAPI copies the providerID", async () => {
      const ns = await createNamespace(client, "mm-ephemeral");
      await readyCluster(ns, "c1");
      await machineWithData(ns, "c1", "cp-0", { ephemeral: true, minCPU: 2, minMemory: 8192, minDiskSize: 20, tags: ["control-plane"], resourcePool: "capi" }, {
        failureDomain: "zone-b",
        labels: { "cluster.x-k8s.io/control-plane": "" },
      });
      const maasMachine = await readyMaasMachine(ns, "cp-0");
      const systemId = maasMachine.spec.systemID ?? "";
      assert.notEqual(systemId, "");
      assert.equal(maasMachine.spec.providerID, `maas:///zone-b/${systemId}`);
      assert.equal(maasMachine.status?.initialization?.provisioned, true);
      assert.equal(maasMachine.status?.deploymentTarget, "memory");
      assert.equal(maasMachine.status?.machineState, "Deployed");
      assert.deepEqual(maasMachine.status?.addresses?.map((a) => a.type).sort(), ["Hostname", "InternalDNS", "InternalIP"]);

      const allocations = bed.allocationsFor(ns, "cp-0");
      assert.equal(allocations.length, 1, "exactly one allocation");
      assert.deepEqual(
        {
          cpu: allocations[0]?.params.cpu_count,
          mem: allocations[0]?.params.mem,
          tags: allocations[0]?.params.tags,
          pool: allocations[0]?.params.pool,
          zone: allocations[0]?.params.zone,
          storage: allocations[0]?.params.storage,
        },
        // 20 GiB is 21.5 GB: MAAS's storage sizes are decimal.
        { cpu: "2", mem: "8192", tags: "control-plane", pool: "capi", zone: "zone-b", storage: "root:22" },
      );
      const deploy = deployCall(systemId);
      assert.equal(deploy?.params.ephemeral_deploy, "true");
      assert.equal(deploy?.params.user_data, Buffer.from(CLOUD_INIT).toString("base64"));
      assert.equal(deploy?.params.distro_series, "ubuntu/jammy");
      assert.equal(sim.state().machines.find((m) => m.systemId === systemId)?.ephemeralDeploy, true);

      const machine = await waitFor("CAPI copies the providerID and reports InfrastructureReady", async () => {
        const m = await client.get(CAPI_MACHINE, { namespace: ns, name: "cp-0" });
        const infraReady = m.status?.conditions?.find((c) => c.type === "InfrastructureReady")?.status === "True";
        return m.spec.providerID !== undefined && infraReady ? m : undefined;
      });
      assert.equal(machine.spec.providerID, maasMachine.spec.providerID);
      const owned = await client.get(MAAS_MACHINE, { namespace: ns, name: "cp-0" });
      assert.ok(owned.metadata.ownerReferences?.some((r) => r.kind === "Machine" && r.name === "cp-0"), "CAPI owns the MaasMachine");
    });
  });

  describe("when spec.ephemeral is false", () => {
    it("deploys to disk and never sends ephemeral_deploy", async () => {
      const ns = await createNamespace(client, "mm-disk");
      await readyCluster(ns, "c2");
      await machineWithData(ns, "c2", "worker-0", { minCPU: 4, minMemory: 16384, tags: ["worker"] });
      const maasMachine = await readyMaasMachine(ns, "worker-0");
      const deploy = deployCall(maasMachine.spec.systemID ?? "");
      assert.ok(deploy !== undefined, "deployed");
      assert.equal("ephemeral_deploy" in deploy.params, false);
      assert.equal(maasMachine.status?.deploymentTarget, "disk");
    });
  });

  describe("when the workload cluster's kubeconfig answers", () => {
    it("sets the Node's providerID, and the Machine reaches Running with a nodeRef", async () => {
      const ns = await createNamespace(client, "mm-node");
      await readyCluster(ns, "c3");
      // The workload cluster is this same API server: CAPI and we reach it through the Secret.
      const kubeconfig = await readFile(env.kubeconfigPath, "utf8");
      await client.create(SECRET, {
        apiVersion: "v1",
        kind: "Secret",
        type: "cluster.x-k8s.io/secret",
        metadata: { name: "c3-kubeconfig", namespace: ns, labels: { "cluster.x-k8s.io/cluster-name": "c3" } },
        data: { value: Buffer.from(kubeconfig).toString("base64") },
      });
      await machineWithData(ns, "c3", "node-m", { minCPU: 8, minMemory: 32768, tags: ["worker"] });
      const maasMachine = await readyMaasMachine(ns, "node-m");
      const hostname = maasMachine.status?.hostname ?? "";
      await client.create(NODE_KIND, { apiVersion: "v1", kind: "Node", metadata: { name: hostname } });
      try {
        const node = await waitFor("the Node's providerID", async () => {
          const n = await client.get(NODE_KIND, { name: hostname });
          return n.spec?.providerID === undefined ? undefined : n;
        });
        assert.equal(node.spec?.providerID, maasMachine.spec.providerID);
        const machine = await waitFor("Machine Running with a nodeRef", async () => {
          const m = await client.get(CAPI_MACHINE, { namespace: ns, name: "node-m" });
          return m.status?.phase === "Running" && m.status.nodeRef?.name === hostname ? m : undefined;
        }, 90_000);
        assert.equal(machine.status?.nodeRef?.name, hostname);
      } finally {
        await client.delete(NODE_KIND, { name: hostname }).catch(() => undefined);
      }
    });
  });
});
