// The hybrid flavor (control plane in memory, workers on disk) run for real on machines
// that boot, the per-machine override of a MachineDeployment's workers, and remediation:
// a MachineHealthCheck replaces a worker whose in-memory machine was power-cycled in MAAS
// (it comes back empty, its Node stops reporting), and the old MAAS machine is released.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { EphemeralAnnotation, MAAS_MACHINE, type MaasMachine } from "../../../src/api/v1beta1/index.ts";
import { CAPI_CLUSTER, CAPI_MACHINE } from "../../../src/capi/index.ts";
import { TestClient } from "../../../src/sim/test-support.ts";
import type { ClusterctlSandbox } from "../clusterctl/clusterctl-harness.ts";
import { createNamespace, type Testbed } from "../controllers/provider-harness.ts";
import { MACHINE_DEPLOYMENT, MACHINE_HEALTH_CHECK, clusterAvailable, generateAndApply, isRunningWithNode, machinesOf, startE2eBed, waitForCluster } from "./e2e-bed.ts";

const CLUSTER = "hyb";
const DEPLOYMENT = `${CLUSTER}-md-0`;

describe("the hybrid flavor, the per-machine override and remediation, on machines that boot", () => {
  let bed: Testbed;
  let clusterctl: ClusterctlSandbox;
  let ns: string;
  const timings: Record<string, number> = {};

  before(async () => {
    ({ bed, clusterctl } = await startE2eBed("e2e-hybrid"));
    ns = await createNamespace(bed.client, "hybrid");
  });
  after(async () => {
    if (Object.keys(timings).length > 0) process.stdout.write(`# e2e timings (s): ${JSON.stringify(timings)}\n`);
    await clusterctl.remove();
    await bed.stop();
  });

  const maasMachines = async (): Promise<MaasMachine[]> => (await bed.client.list(MAAS_MACHINE, { namespace: ns })).items;
  const workers = async (): Promise<MaasMachine[]> => (await maasMachines()).filter((m) => m.metadata.labels?.["cluster.x-k8s.io/deployment-name"] === DEPLOYMENT);
  const deployedToMemory = (m: MaasMachine): boolean | undefined => bed.sim.state().machines.find((s) => s.systemId === m.spec.systemID)?.ephemeralDeploy;

  /** The MachineDeployment's `replicas` Machines Running with Nodes and available. */
  const workersRunning = (replicas: number, timeoutMs: number): Promise<true> =>
    waitForCluster(bed, ns, CLUSTER, `${String(replicas)} workers Running with Nodes`, async () => {
      const md = await bed.client.get(MACHINE_DEPLOYMENT, { namespace: ns, name: DEPLOYMENT });
      const status = md.status as { availableReplicas?: number; replicas?: number } | undefined;
      const machines = await machinesOf(bed, ns, CLUSTER, DEPLOYMENT);
      return status?.availableReplicas === replicas && status.replicas === replicas && machines.length === replicas && machines.every(isRunningWithNode);
    }, timeoutMs);

  it("hybrid flavor: the control plane runs from memory, the workers from disk, and the cluster is Available", async () => {
    const started = Date.now();
    await generateAndApply(bed, clusterctl, "hybrid", CLUSTER, ns, { WORKER_MACHINE_COUNT: "1" });
    await clusterAvailable(bed, ns, CLUSTER, 600_000);
    await workersRunning(1, 120_000);
    timings.hybridAvailable = (Date.now() - started) / 1000;
    const controlPlane = (await maasMachines()).filter((m) => m.metadata.labels?.["cluster.x-k8s.io/control-plane"] !== undefined);
    assert.equal(controlPlane.length, 1);
    assert.equal(controlPlane[0]?.spec.ephemeral, true);
    assert.equal(deployedToMemory(controlPlane[0] as MaasMachine), true);
    const [worker] = await workers();
    assert.equal(worker?.spec.ephemeral, false);
    assert.equal(deployedToMemory(worker as MaasMachine), false);
  });

  it("per-machine override: the ephemeral annotation in the MachineDeployment's machine template puts new workers in memory, and leaves the disk one as it is", async () => {
    const [diskWorker] = await workers();
    const patch = { spec: { replicas: 2, template: { metadata: { annotations: { [EphemeralAnnotation]: "true" } } } } };
    const patched = await bed.env.kubectl(["patch", "machinedeployment", DEPLOYMENT, "-n", ns, "--type", "merge", "-p", JSON.stringify(patch)]);
    assert.equal(patched.code, 0, patched.stderr);
    await workersRunning(2, 300_000);
    const now = await workers();
    const kept = now.find((m) => m.spec.systemID === diskWorker?.spec.systemID);
    const added = now.find((m) => m.spec.systemID !== diskWorker?.spec.systemID);
    assert.ok(kept !== undefined && added !== undefined, JSON.stringify(now.map((m) => m.spec.systemID)));
    assert.equal(deployedToMemory(kept), false, "the disk worker was not redeployed");
    assert.equal(deployedToMemory(added), true, "the new worker runs from memory");
    assert.equal(added.status?.deploymentTarget, "memory");
    await clusterAvailable(bed, ns, CLUSTER, 120_000);
  });

  it("remediation: a MachineHealthCheck replaces the worker whose in-memory machine was power-cycled, and the old MAAS machine is released", async () => {
    const healthCheck = {
      apiVersion: "cluster.x-k8s.io/v1beta2",
      kind: "MachineHealthCheck",
      metadata: { name: `${CLUSTER}-workers`, namespace: ns, labels: { "cluster.x-k8s.io/watch-filter": bed.filter } },
      spec: {
        clusterName: CLUSTER,
        selector: { matchLabels: { "cluster.x-k8s.io/deployment-name": DEPLOYMENT } },
        checks: {
          nodeStartupTimeoutSeconds: 600,
          unhealthyNodeConditions: [
            { type: "Ready", status: "Unknown", timeoutSeconds: 10 },
            { type: "Ready", status: "False", timeoutSeconds: 10 },
          ],
        },
      },
    };
    const applied = await bed.env.kubectl(["apply", "-f", "-"], { input: JSON.stringify(healthCheck) });
    assert.equal(applied.code, 0, applied.stderr);
    await waitForCluster(bed, ns, CLUSTER, "the MachineHealthCheck seeing 2 healthy workers", async () => {
      const mhc = await bed.client.get(MACHINE_HEALTH_CHECK, { namespace: ns, name: `${CLUSTER}-workers` });
      const status = mhc.status as { expectedMachines?: number; currentHealthy?: number } | undefined;
      return status?.expectedMachines === 2 && status.currentHealthy === 2;
    }, 120_000);

    const inMemory = (await workers()).find((m) => deployedToMemory(m) === true);
    assert.ok(inMemory !== undefined);
    const systemId = inMemory.spec.systemID ?? "";
    const owner = inMemory.metadata.ownerReferences?.find((r) => r.kind === "Machine")?.name ?? "";
    const started = Date.now();
    const since = bed.sim.requestLog().at(-1)?.seq ?? 0;
    const client = new TestClient(bed.sim.endpoint, bed.sim.apiKey);
    for (const op of ["power_off", "power_on"]) {
      const answer = await client.post(`machines/${systemId}/`, op, {});
      assert.equal(answer.status, 200, answer.text);
    }
    await waitForCluster(bed, ns, CLUSTER, `Machine ${owner} replaced and MAAS machine ${systemId} released`, async () => {
      const machines = await machinesOf(bed, ns, CLUSTER, DEPLOYMENT);
      const released = bed.sim.requestLog().some((e) => e.seq > since && e.op === "release" && e.status === 200 && e.path.endsWith(`/${systemId}/`));
      return released && !machines.some((m) => m.metadata.name === owner);
    }, 300_000);
    await workersRunning(2, 300_000);
    timings.remediation = (Date.now() - started) / 1000;
    // MAAS may hand the released machine to the replacement: tell them apart by object, not by system_id.
    const replacements = (await workers()).filter((m) => m.metadata.name !== inMemory.metadata.name && deployedToMemory(m) === true);
    assert.equal(replacements.length, 1, "the replacement runs from memory, as the template's annotation asks");
    await clusterAvailable(bed, ns, CLUSTER, 120_000);
  });

  it("deleting the Cluster releases every MAAS machine", async () => {
    await bed.client.delete(CAPI_CLUSTER, { namespace: ns, name: CLUSTER });
    await waitForCluster(bed, ns, CLUSTER, "no Machine left and every MAAS machine released", async () => {
      const machines = (await bed.client.list(CAPI_MACHINE, { namespace: ns })).items;
      return machines.length === 0 && bed.heldMachines().length === 0;
    }, 300_000);
  });
});
