// The topology flavor end to end with the provider's admission webhooks installed, fail
// closed: clusterctl renders the Cluster, the ClusterClass maas and its templates are
// applied for real, and the real Cluster API core manager (ClusterTopology on), the
// kubeadm bootstrap and control-plane managers, capmaas-manager serving its webhooks and
// the MAAS simulator build it. The webhooks sit behind a recording proxy of the test's
// own, so the test sees the topology controller's server-side-apply dry-runs reach them
// and pass; a variable change rotates the workers' MaasMachineTemplate (the dry-run of
// the changed spec passes, a user's edit of a template is refused); deleting the Cluster
// removes the MaasMachines and releases the MAAS machines.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { stringify } from "yaml";
import { MAAS_CLUSTER, MAAS_MACHINE, WaitingForBootstrapDataReason, type MaasMachine } from "../../../src/api/v1beta1/index.ts";
import { CAPI_CLUSTER } from "../../../src/capi/index.ts";
import type { KubeClient } from "../../../src/runtime/index.ts";
import { startCapiManagers, type CapiManagers } from "../../testenv/capi-managers.ts";
import { writeControlPlaneSecrets } from "../../testenv/certs.ts";
import { disownDir, ownDir } from "../../testenv/children.ts";
import { useSharedTestEnv, type TestEnvHandle } from "../../testenv/index.ts";
import { freePorts } from "../../testenv/ports.ts";
import { NAMESPACE_KIND, adminClient, newWatchFilter, startProviderManager, startProviderSimulator, waitFor, type ProviderProcess, type Simulator } from "../controllers/provider-harness.ts";
import { waitUntilServed } from "../webhooks/support.ts";
import { installFailClosedWebhooks, startAdmissionRecorder, type AdmissionRecord, type AdmissionRecorder, type InstalledConfigurations } from "./admission-recorder.ts";
import { ClusterctlSandbox, SPEC_VARIABLES, at, parseObjects, templatesDir, type GeneratedObject } from "./clusterctl-harness.ts";

const WATCH_FILTER_LABEL = "cluster.x-k8s.io/watch-filter";
const CLUSTER = "topo";

/** The spec's variables with what the simulator has (pool capi, jammy, maas.test); the control plane in memory with the memory it needs. */
const VARIABLES: Record<string, string> = {
  ...SPEC_VARIABLES,
  KUBERNETES_VERSION: "v1.34.2",
  DNS_DOMAIN: "maas.test",
  CONTROL_PLANE_MACHINE_IMAGE: "ubuntu/jammy",
  WORKER_MACHINE_IMAGE: "ubuntu/jammy",
  CONTROL_PLANE_MACHINE_RESOURCEPOOL: "capi",
  WORKER_MACHINE_RESOURCEPOOL: "capi",
  CONTROL_PLANE_MACHINE_EPHEMERAL: "true",
  CONTROL_PLANE_MACHINE_MINMEMORY: "16384",
  WORKER_MACHINE_COUNT: "1",
};

type Labelled = { metadata?: { labels?: Record<string, string> } };

function addLabel(holder: unknown, filter: string): void {
  const record = holder as Labelled;
  record.metadata = { ...record.metadata, labels: { ...record.metadata?.labels, [WATCH_FILTER_LABEL]: filter } };
}

/**
 * What the test bed needs on top of the rendered objects: the watch filter on the class,
 * on the MaasClusters its template makes, and on the control plane's and md-0's Machines
 * (through the topology's metadata, as users label them); the simulator's zones with
 * machines as failure domains; and md-0's rollout strategy, which Cluster API's defaulting
 * webhook (not registered with the test control plane) would set.
 */
function forTestbed(classObjects: readonly GeneratedObject[], cluster: GeneratedObject, filter: string): GeneratedObject[] {
  const objects = [...classObjects, cluster].map((o) => structuredClone(o));
  for (const object of objects) {
    addLabel(object, filter);
    if (object.kind === "MaasClusterTemplate") {
      const template = at(object, "spec", "template") as Record<string, unknown>;
      addLabel(template, filter);
      (template.spec as Record<string, unknown>).failureDomains = ["zone-a", "zone-b"];
    }
    if (object.kind === "Cluster") {
      addLabel(at(object, "spec", "topology", "controlPlane"), filter);
      for (const md of at(object, "spec", "topology", "workers", "machineDeployments") as Record<string, unknown>[]) {
        addLabel(md, filter);
        md.rollout = { strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } };
      }
    }
  }
  return objects;
}

describe("the topology flavor, built by the Cluster API topology controller through the provider's webhooks", () => {
  const filter = newWatchFilter("topology-webhooks");
  const namespace = `topology-webhooks-${randomBytes(3).toString("hex")}`;
  const cleanups: (() => Promise<unknown>)[] = [];
  let env: TestEnvHandle;
  let client: KubeClient;
  let sandbox: ClusterctlSandbox;
  let sim: Simulator;
  let manager: ProviderProcess;
  let recorder: AdmissionRecorder;
  let capi: CapiManagers;
  let webhooks: InstalledConfigurations;
  let cluster: GeneratedObject;

  before(async () => {
    env = await useSharedTestEnv();
    cleanups.push(() => env.stop());
    client = adminClient(env.kubeConfig());
    sandbox = await ClusterctlSandbox.create();
    cleanups.push(() => sandbox.remove());

    // A CA and a serving certificate for 127.0.0.1: the manager's and the proxy's.
    const certDir = await mkdtemp(join(tmpdir(), "topology-webhook-certs-"));
    ownDir(certDir);
    cleanups.push(async () => {
      await rm(certDir, { recursive: true, force: true });
      disownDir(certDir);
    });
    const certs = await writeControlPlaneSecrets(certDir);
    const [certPem, keyPem, caPem] = await Promise.all([certs.servingCertPath, certs.servingKeyPath, certs.caCertPath].map((p) => readFile(p, "utf8")));
    await writeFile(join(certDir, "tls.crt"), certPem ?? "");
    await writeFile(join(certDir, "tls.key"), keyPem ?? "", { mode: 0o600 });

    sim = await startProviderSimulator();
    cleanups.push(() => sim.close());
    const [webhookPort] = (await freePorts(1)) as [number];
    manager = await startProviderManager({
      kubeconfigPath: env.managerKubeconfigPath,
      sim,
      watchFilter: filter,
      args: ["--webhook-port", String(webhookPort), "--webhook-cert-dir", certDir],
    });
    cleanups.push(() => manager.stop());
    recorder = await startAdmissionRecorder({ certPem: certPem ?? "", keyPem: keyPem ?? "", caPem: caPem ?? "", targetPort: webhookPort });
    cleanups.push(() => recorder.close());

    const selector = { "topology.capmaas.test/scope": namespace };
    await client.create(NAMESPACE_KIND, { metadata: { name: namespace, labels: selector } });
    // Without kube-controller-manager the namespace stays Terminating; its name is ours alone.
    cleanups.push(() => env.kubectl(["delete", "namespace", namespace, "--wait=false"]));
    webhooks = await installFailClosedWebhooks(env.kubeConfig(), { name: namespace, port: recorder.port, caPem: caPem ?? "", namespaceSelector: selector });
    cleanups.push(() => webhooks.remove());
    await waitUntilServed(env.kubeConfig(), namespace);

    const filterArg = `--watch-filter=${filter}`;
    capi = await startCapiManagers({
      kubeconfigPath: env.kubeconfigPath,
      managers: ["core", "kubeadm-bootstrap", "kubeadm-control-plane"],
      featureGates: ["ClusterTopology=true"],
      // clusterctl turns the gate on for every provider when CLUSTER_TOPOLOGY=true; KCP reads it in its preflight checks.
      extraArgs: { core: ["--sync-period=30s", filterArg], "kubeadm-bootstrap": [filterArg], "kubeadm-control-plane": [filterArg, "--feature-gates=ClusterTopology=true"] },
    });
    cleanups.push(() => capi.stop());
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  async function kubectlOk(args: string[], input?: string): Promise<string> {
    const result = await env.kubectl(args, input === undefined ? {} : { input });
    assert.equal(result.code, 0, `kubectl ${args.join(" ")}: ${result.stderr}`);
    return result.stdout;
  }

  async function getJson(kind: string, name: string): Promise<GeneratedObject> {
    return JSON.parse(await kubectlOk(["get", "-n", namespace, kind, name, "-o", "json"])) as GeneratedObject;
  }

  async function listJson(kind: string): Promise<GeneratedObject[]> {
    const out = await kubectlOk(["get", "-n", namespace, kind, "-l", `cluster.x-k8s.io/cluster-name=${CLUSTER}`, "-o", "json"]);
    return (JSON.parse(out) as { items: GeneratedObject[] }).items;
  }

  async function diagnose(err: unknown): Promise<never> {
    const machines = await client.list(MAAS_MACHINE, { namespace }).catch(() => ({ items: [] as MaasMachine[] }));
    const states = machines.items.map((m) => `${m.metadata.name}: ${JSON.stringify(m.status?.conditions?.map((c) => `${c.type}=${c.status} ${c.reason}`))}`);
    const denied = recorder.records.filter((r) => !r.allowed).map((r) => `${r.operation} ${r.kind}/${r.name} dryRun=${String(r.dryRun)}: ${r.message}`);
    throw new Error(`${String(err)}\nMaasMachines:\n${states.join("\n")}\nrefused admissions:\n${denied.join("\n")}\ncore manager log (tail):\n${(await capi.log("core")).slice(-3000)}`);
  }

  const topologyDryRuns = (): AdmissionRecord[] => recorder.records.filter((r) => r.dryRun && r.topologyDryRun);
  const machinesOf = async (label: string, value?: string): Promise<MaasMachine[]> =>
    (await client.list(MAAS_MACHINE, { namespace })).items.filter((m) => m.metadata.labels?.[label] !== undefined && (value === undefined || m.metadata.labels[label] === value));
  const isReady = (m: MaasMachine): boolean => m.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
  const workerTemplateName = async (): Promise<string> => String(at((await listJson("machinedeployments"))[0], "spec", "template", "spec", "infrastructureRef", "name"));
  // The topology names md-0's MachineDeployment <cluster>-md-0-<random>; its Machines carry that name.
  const workerMachines = async (): Promise<MaasMachine[]> => machinesOf("cluster.x-k8s.io/deployment-name", (await listJson("machinedeployments"))[0]?.metadata.name ?? "?");

  /** Waits for TopologyReconciled True for the Cluster's current generation; a refused dry-run or write would leave it False, ReconcileFailed, with the refusal as message. */
  async function topologyReconciled(): Promise<void> {
    let last: unknown;
    await waitFor("the Cluster's TopologyReconciled condition True", async () => {
      const c = await client.get(CAPI_CLUSTER, { namespace, name: CLUSTER });
      const condition = c.status?.conditions?.find((x) => x.type === "TopologyReconciled");
      last = condition;
      return condition?.status === "True" && condition.observedGeneration === c.metadata.generation;
    }, 60_000).catch((err: unknown) => diagnose(`${String(err)}; last: ${JSON.stringify(last)}`));
  }

  const kindCounts = (records: readonly AdmissionRecord[]): string =>
    [...new Set(records.map((r) => r.kind))].map((kind) => `${kind} ${String(records.filter((r) => r.kind === kind).length)}`).join(", ");

  it("creates the MaasCluster, control plane and workers from the class, deploys the control plane into memory, and every topology dry-run passes the webhooks", async (t) => {
    const classObjects = parseObjects(await readFile(join(templatesDir, "clusterclass-maas.yaml"), "utf8"));
    const generated = await sandbox.generate("topology", VARIABLES, { name: CLUSTER, namespace });
    assert.equal(generated.code, 0, generated.stderr);
    const rendered = parseObjects(generated.stdout);
    assert.deepEqual(rendered.map((o) => o.kind), ["Cluster"]);
    const objects = forTestbed(classObjects, rendered[0] as GeneratedObject, filter);
    cluster = objects.at(-1) as GeneratedObject;
    await kubectlOk(["apply", "-n", namespace, "-f", "-"], objects.map((o) => stringify(o)).join("---\n"));

    const [kcp, md, maasCluster] = await waitFor("the topology's KubeadmControlPlane, MachineDeployment and MaasCluster", async () => {
      const found = await Promise.all([listJson("kubeadmcontrolplanes"), listJson("machinedeployments"), listJson("maasclusters")]);
      return found.every((items) => items.length === 1) ? found.map((items) => items[0] as GeneratedObject) : undefined;
    }, 90_000).catch(diagnose);
    assert.equal(at(maasCluster, "spec", "dnsDomain"), "maas.test");
    assert.equal(at(kcp, "spec", "replicas"), 1);
    assert.equal(at(md, "spec", "replicas"), 1);
    const cpTemplate = await getJson("maasmachinetemplates", String(at(kcp, "spec", "machineTemplate", "spec", "infrastructureRef", "name")));
    const workerTemplate = await getJson("maasmachinetemplates", String(at(md, "spec", "template", "spec", "infrastructureRef", "name")));
    assert.deepEqual(at(cpTemplate, "spec", "template", "spec"), {
      minCPU: 2, minMemory: 16384, image: "ubuntu/jammy", resourcePool: "capi", tags: ["control-plane"], ephemeral: true, releasePolicy: "none",
    });
    assert.deepEqual(at(workerTemplate, "spec", "template", "spec"), {
      minCPU: 2, minMemory: 4096, image: "ubuntu/jammy", resourcePool: "capi", tags: ["worker"], ephemeral: false, releasePolicy: "none",
    });

    // The MaasCluster publishes <cluster>.maas.test in MAAS; the control plane's machine is deployed into memory.
    await waitFor("the MaasCluster provisioned", async () => {
      const c = await client.get(MAAS_CLUSTER, { namespace, name: maasCluster?.metadata.name ?? "" });
      return c.status?.initialization?.provisioned === true;
    }, 90_000).catch(diagnose);
    const controlPlane = await waitFor("the control-plane MaasMachine Ready", async () => (await machinesOf("cluster.x-k8s.io/control-plane")).find(isReady), 150_000).catch(diagnose);
    assert.equal(controlPlane.spec.ephemeral, true);
    assert.equal(controlPlane.status?.deploymentTarget, "memory");
    const systemId = controlPlane.spec.systemID ?? "";
    const allocations = sim.requestLog().filter((e) => e.op === "allocate" && e.status === 200 && String(e.params.agent_name).includes(`/${namespace}/${controlPlane.metadata.name}/`));
    assert.equal(allocations.length, 1, "one allocation for the control-plane MaasMachine");
    assert.deepEqual([allocations[0]?.params.pool, allocations[0]?.params.tags], ["capi", "control-plane"]);
    const deploy = sim.requestLog().findLast((e) => e.op === "deploy" && e.status === 200 && e.path.endsWith(`/${systemId}/`));
    assert.equal(deploy?.params.ephemeral_deploy, "true");
    assert.equal(deploy?.params.distro_series, "ubuntu/jammy");

    // The worker's MaasMachine is made from md-0's template; its bootstrap data waits for a
    // control plane that answers (kubeadm never runs on simulated machines), so MAAS has not seen it.
    const [worker] = await waitFor("md-0's MaasMachine", async () => {
      const found = await workerMachines();
      return found.length === 1 ? found : undefined;
    }, 90_000).catch(diagnose);
    assert.deepEqual([worker?.spec.ephemeral, worker?.spec.minCPU, worker?.spec.tags], [false, 2, ["worker"]]);
    await waitFor("the worker MaasMachine waiting for bootstrap data", async () => {
      const m = await client.get(MAAS_MACHINE, { namespace, name: worker?.metadata.name ?? "" });
      return m.status?.conditions?.some((c) => c.reason === WaitingForBootstrapDataReason);
    });
    assert.equal(sim.requestLog().filter((e) => e.op === "allocate" && String(e.params.agent_name).includes(`/${worker?.metadata.name ?? ""}/`)).length, 0);

    // The topology controller computed its diffs through our webhooks, and none was refused.
    const dryRuns = await waitFor("topology dry-runs of the MaasCluster and the MaasMachineTemplates", () => {
      const seen = topologyDryRuns();
      return ["MaasCluster", "MaasMachineTemplate"].every((kind) => seen.some((r) => r.kind === kind)) ? seen : undefined;
    }).catch(diagnose);
    assert.deepEqual(dryRuns.filter((r) => !r.allowed), [], "a topology dry-run was refused");
    assert.ok(dryRuns.every((r) => r.operation === "UPDATE" && r.namespace === namespace));
    const refused = recorder.records.filter((r) => !r.allowed);
    assert.deepEqual(refused, [], "nothing the managers wrote was refused");

    await topologyReconciled();
    t.diagnostic(`topology dry-runs through the webhooks: ${String(dryRuns.length)} (${kindCounts(dryRuns)}); admission requests in all: ${String(recorder.records.length)}`);
  });

  it("rotates md-0's MaasMachineTemplate when the minCPU variable changes, and refuses a user's edit of a template's spec", async (t) => {
    const oldName = await workerTemplateName();
    const variables = at(cluster, "spec", "topology", "variables") as { name: string }[];
    const index = variables.findIndex((v) => v.name === "minCPU");
    assert.ok(index >= 0);
    const seenBefore = recorder.records.length;
    await kubectlOk(["patch", "-n", namespace, "cluster", CLUSTER, "--type=json", "-p", JSON.stringify([{ op: "replace", path: `/spec/topology/variables/${String(index)}/value`, value: 4 }])]);

    const newName = await waitFor("md-0 pointing at a new MaasMachineTemplate", async () => {
      const name = await workerTemplateName();
      return name !== oldName ? name : undefined;
    }, 60_000).catch(diagnose);
    const rotated = await getJson("maasmachinetemplates", newName);
    assert.deepEqual(at(rotated, "spec", "template", "spec"), {
      minCPU: 4, minMemory: 4096, image: "ubuntu/jammy", resourcePool: "capi", tags: ["worker"], ephemeral: false, releasePolicy: "none",
    });
    // Templates are never edited: the old one keeps its spec for the MachineSet still on it.
    assert.equal(at(await getJson("maasmachinetemplates", oldName), "spec", "template", "spec", "minCPU"), 2);
    // The diff that led to the rotation: a dry-run of the old template with the new spec, let through.
    const changedDryRuns = recorder.records.slice(seenBefore).filter((r) => r.kind === "MaasMachineTemplate" && r.name === oldName && r.dryRun && r.topologyDryRun && r.specChanged);
    assert.ok(changedDryRuns.length > 0, "the topology controller's dry-run of the changed template reached the webhook");
    assert.ok(changedDryRuns.every((r) => r.allowed), changedDryRuns.map((r) => r.message).join("\n"));

    await topologyReconciled();
    t.diagnostic(`dry-runs of the changed template ${oldName}: ${String(changedDryRuns.length)}`);

    const newMachine = await waitFor("a MaasMachine from the new template", async () => (await workerMachines()).find((m) => m.spec.minCPU === 4), 60_000).catch(diagnose);
    assert.equal(newMachine.spec.ephemeral, false);
    // The control plane's template did not change (it overrides minCPU).
    const kcp = (await listJson("kubeadmcontrolplanes"))[0];
    assert.equal(at(await getJson("maasmachinetemplates", String(at(kcp, "spec", "machineTemplate", "spec", "infrastructureRef", "name"))), "spec", "template", "spec", "minCPU"), 2);

    // A user editing the template in place is refused, naming the way to roll instead.
    const edit = await env.kubectl(["patch", "-n", namespace, "maasmachinetemplate", newName, "--type=merge", "-p", JSON.stringify({ spec: { template: { spec: { minCPU: 8 } } } })]);
    assert.notEqual(edit.code, 0, edit.stdout);
    assert.match(edit.stderr, /MaasMachineTemplate spec is immutable \(changed: minCPU\); create a new MaasMachineTemplate/);
    assert.equal(at(await getJson("maasmachinetemplates", newName), "spec", "template", "spec", "minCPU"), 4);
    const userEdit = recorder.records.findLast((r) => r.kind === "MaasMachineTemplate" && r.name === newName && r.operation === "UPDATE" && !r.dryRun);
    assert.deepEqual([userEdit?.allowed, userEdit?.topologyDryRun], [false, false]);
  });

  it("removes the MaasMachines and releases the MAAS machines when the Cluster is deleted", async () => {
    const held = (await client.list(MAAS_MACHINE, { namespace })).items.map((m) => m.spec.systemID).filter((id): id is string => id !== undefined);
    assert.ok(held.length >= 1, "the control plane holds a MAAS machine");
    await kubectlOk(["delete", "-n", namespace, "cluster", CLUSTER, "--wait=false"]);
    await waitFor("the Cluster and its MaasMachines gone", async () => {
      const [machines, clusters] = await Promise.all([client.list(MAAS_MACHINE, { namespace }), client.list(CAPI_CLUSTER, { namespace })]);
      return machines.items.length === 0 && clusters.items.length === 0;
    }, 120_000).catch(diagnose);
    for (const systemId of held) {
      const releases = sim.requestLog().filter((e) => e.op === "release" && e.status === 200 && e.path.endsWith(`/${systemId}/`));
      assert.equal(releases.length, 1, `MAAS machine ${systemId} released once`);
      assert.equal(sim.state().machines.find((m) => m.systemId === systemId)?.owner, null);
    }
    assert.equal(sim.state().dnsResources.some((r) => JSON.stringify(r).includes(CLUSTER)), false, "the control-plane DNS record is gone");
  });
});
