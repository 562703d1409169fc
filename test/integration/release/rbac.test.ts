// Least privilege, checked against the real thing: config/rbac/role.yaml grants exactly
// the table in src/controllers/rbac.ts, and our manager process, authenticated as a
// ServiceAccount bound to nothing but that role, runs the whole lifecycle (a MaasCluster
// with a MAAS DNS endpoint, a control-plane MaasMachine deployed into memory, a
// MaasMachineTemplate's capacity, leader election, Events, the credentials Secret; then
// every object deleted) next to the real Cluster API core manager, and the API server
// never answers it 403; the API server's audit log shows it used every permission the
// role grants (bar those needed only when a write races another) and asked for nothing
// else. The same run with one verb taken out of the role does get 403s, which is what
// makes a missing permission fail this test. (Every other test runs the manager under
// the same generated role too: test/testenv/manager-identity.ts.)
import assert from "node:assert/strict";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { GROUP, MAAS_CLUSTER, MAAS_MACHINE, MAAS_MACHINE_TEMPLATE, API_VERSION, kindSpec, type KubeObject } from "../../../src/api/v1beta1/index.ts";
import { CAPI_CLUSTER, CAPI_MACHINE, SECRET } from "../../../src/capi/index.ts";
import { PERMISSIONS, type PermissionScope, type PolicyRule } from "../../../src/controllers/rbac.ts";
import { isNotFound, type KubeClient } from "../../../src/runtime/index.ts";
import { repoRoot } from "../../testenv/binaries.ts";
import { startCapiManagers, type CapiManagers } from "../../testenv/capi-managers.ts";
import { useSharedTestEnv, type TestEnvHandle } from "../../testenv/index.ts";
import {
  CLOUD_INIT,
  adminClient,
  bootstrapSecret,
  clusterObject,
  createNamespace,
  machineObject,
  maasClusterObject,
  maasMachineObject,
  newWatchFilter,
  startProviderManager,
  startProviderSimulator,
  waitFor,
  type ProviderProcess,
  type Simulator,
} from "../controllers/provider-harness.ts";
import { SERVICE_ACCOUNT, auditedRequests, generatedRoles, requestsByCode, restrictedIdentity, type RestrictedIdentity } from "./rbac-support.ts";
import { runHackScript } from "./release-support.ts";

const LEASE = kindSpec<KubeObject & { spec?: { holderIdentity?: string } }>({ group: "coordination.k8s.io", version: "v1", kind: "Lease", plural: "leases", namespaced: true });
const EVENT = kindSpec<KubeObject & { reportingController?: string; reason?: string; series?: { count?: number } }>({ group: "events.k8s.io", version: "v1", kind: "Event", plural: "events", namespaced: true });
const CREDENTIALS_SECRET = "capmaas-manager-credentials";
const LEASE_NAME = "capmaas-manager-leader";

/** (scope, group, resource, verb) rows, one per verb, as text for set comparison. */
function tableTriples(scope: PermissionScope): string[] {
  return PERMISSIONS.filter((p) => p.scope === scope).flatMap((p) => p.verbs.map((v) => `${p.apiGroup}|${p.resource}|${v}`)).sort();
}
/** The (group, resource, verb) rows the table marks as used only when a write races another. */
function raceOnlyTriples(): string[] {
  return PERMISSIONS.flatMap((p) => (p.onlyAfterARace ?? []).map((v) => `${p.apiGroup}|${p.resource}|${v}`));
}
function ruleTriples(rules: readonly PolicyRule[]): string[] {
  return rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}|${res}|${v}`)))).sort();
}

/** The rules without one verb on one resource (split out of a shared rule if need be). */
function withoutVerb(rules: PolicyRule[], group: string, resource: string, verb: string): PolicyRule[] {
  return rules.flatMap((rule) => {
    if (!rule.apiGroups.includes(group) || !rule.resources.includes(resource) || !rule.verbs.includes(verb)) return [rule];
    const others = rule.resources.filter((r) => r !== resource);
    const verbs = rule.verbs.filter((v) => v !== verb);
    return [
      ...(others.length === 0 ? [] : [{ ...rule, resources: others }]),
      ...(verbs.length === 0 ? [] : [{ ...rule, resources: [resource], verbs }]),
    ];
  });
}

describe("the manager's RBAC", () => {
  describe("config/rbac/role.yaml", () => {
    it("grants exactly the permission table: the same (group, resource, verb) rows, no wildcard, nothing on Nodes", async () => {
      const { clusterRole, role } = await generatedRoles();
      assert.deepEqual(ruleTriples(clusterRole.rules), tableTriples("cluster"));
      assert.deepEqual(ruleTriples(role.rules), tableTriples("leader-election"));
      const all = [...ruleTriples(clusterRole.rules), ...ruleTriples(role.rules)];
      assert.equal(all.some((t) => t.includes("*")), false, "no wildcard");
      assert.equal(all.some((t) => t.startsWith("|nodes|")), false, "Nodes are patched in workload clusters only");
      assert.deepEqual(all.filter((t) => t.startsWith("cluster.x-k8s.io|")).map((t) => t.split("|")[2]).sort(), ["list", "list", "watch", "watch"], "CAPI's kinds are read, never written");
    });

    it("is what hack/generate-rbac.ts writes; --check fails on a copy that lacks a verb and passes once regenerated", async () => {
      assert.equal((await runHackScript("generate-rbac.ts", ["--check"])).code, 0, "the committed role is up to date");
      const root = await mkdtemp(join(tmpdir(), "capmaas-rbac-"));
      try {
        await mkdir(join(root, "config", "rbac"), { recursive: true });
        const path = join(root, "config", "rbac", "role.yaml");
        await cp(join(repoRoot, "config", "rbac", "role.yaml"), path);
        await writeFile(path, (await readFile(path, "utf8")).replace("      - create\n      - update\n", "      - create\n"));
        const stale = await runHackScript("generate-rbac.ts", ["--check", "--root", root]);
        assert.equal(stale.code, 1);
        assert.match(stale.stderr, /out of date: config\/rbac\/role\.yaml/);
        assert.equal((await runHackScript("generate-rbac.ts", ["--root", root])).code, 0);
        assert.equal(await readFile(path, "utf8"), await readFile(join(repoRoot, "config", "rbac", "role.yaml"), "utf8"));
        assert.equal((await runHackScript("generate-rbac.ts", ["--check", "--root", root])).code, 0);
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    });
  });

  describe("the manager bound to nothing but the generated role", () => {
    const filter = newWatchFilter("rbac");
    let env: TestEnvHandle;
    let client: KubeClient;
    let sim: Simulator;
    let capi: CapiManagers | undefined;
    let dir: string;
    const identities: RestrictedIdentity[] = [];

    before(async () => {
      env = await useSharedTestEnv();
      client = adminClient(env.kubeConfig());
      for (const kind of [MAAS_MACHINE_TEMPLATE, LEASE, EVENT]) client.registerKind(kind);
      dir = await mkdtemp(join(tmpdir(), "capmaas-rbac-"));
      sim = await startProviderSimulator();
      capi = await startCapiManagers({ kubeconfigPath: env.kubeconfigPath, managers: ["core"], extraArgs: { core: ["--sync-period=30s", `--watch-filter=${filter}`] } });
    });
    after(async () => {
      await capi?.stop();
      await sim?.close();
      for (const identity of identities) await identity.cleanup();
      await rm(dir, { recursive: true, force: true });
      await env?.stop();
    });

    /** A namespace with the credentials Secret, an identity in it, and our manager running as that identity. */
    async function managerAs(prefix: string, editClusterRules?: (rules: PolicyRule[]) => PolicyRule[]): Promise<{ ns: string; provider: ProviderProcess }> {
      const ns = await createNamespace(client, prefix);
      await client.create(SECRET, {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: CREDENTIALS_SECRET, namespace: ns },
        data: { MAAS_ENDPOINT: Buffer.from(sim.endpoint).toString("base64"), MAAS_API_KEY: Buffer.from(sim.apiKey).toString("base64") },
      });
      const identity = await restrictedIdentity({ env, namespace: ns, dir, ...(editClusterRules === undefined ? {} : { editClusterRules }) });
      identities.push(identity);
      const provider = await startProviderManager({
        kubeconfigPath: identity.kubeconfigPath,
        sim,
        watchFilter: filter,
        // As the release runs it: leader election on a Lease, credentials from the Secret.
        args: ["--leader-elect", `--leader-elect-namespace=${ns}`, `--maas-credentials-secret=${ns}/${CREDENTIALS_SECRET}`, "--webhook-port=0"],
        env: { MAAS_ENDPOINT: "", MAAS_API_KEY: "" },
      });
      return { ns, provider };
    }

    const gone = (get: () => Promise<unknown>) => async () => {
      try {
        await get();
        return false;
      } catch (err) {
        if (isNotFound(err)) return true;
        throw err;
      }
    };
    const dnsRecord = (fqdn: string): string[] | undefined => {
      const state = sim.state();
      const record = state.dnsResources.find((r) => `${r.name}.${state.domains.find((d) => d.id === r.domainId)?.name ?? ""}` === fqdn);
      return record === undefined ? undefined : [...record.ipAddresses];
    };

    it("takes a MaasCluster with a DNS endpoint, a control-plane MaasMachine and a MaasMachineTemplate from create to gone, uses every permission and is never answered 403", async (context) => {
      const { ns, provider } = await managerAs("rbac-ok");
      const cluster = "c1";
      const fqdn = `${cluster}.maas.test`;
      try {
        await client.create(CAPI_CLUSTER, clusterObject(filter, ns, cluster));
        await client.create(MAAS_CLUSTER, maasClusterObject(filter, ns, cluster));
        await waitFor("the Cluster's infrastructure provisioned", async () => (await client.get(CAPI_CLUSTER, { namespace: ns, name: cluster })).status?.initialization?.infrastructureProvisioned === true, 90_000);
        assert.equal((await client.get(MAAS_CLUSTER, { namespace: ns, name: cluster })).spec.controlPlaneEndpoint?.host, fqdn);

        // Without CAPI's cluster-name label the Secret is not in the manager's cache: it is
        // read with a GET, so that verb is exercised too.
        const unlabelled = bootstrapSecret(ns, "cp-0-bootstrap", cluster, CLOUD_INIT);
        delete unlabelled.metadata.labels;
        await client.create(SECRET, unlabelled);
        await client.create(CAPI_MACHINE, machineObject({ filter, namespace: ns, name: "cp-0", cluster, dataSecretName: "cp-0-bootstrap", labels: { "cluster.x-k8s.io/control-plane": "" } }));
        await client.create(MAAS_MACHINE, maasMachineObject(filter, ns, "cp-0", { ephemeral: true, tags: ["control-plane"] }));
        await client.create(MAAS_MACHINE_TEMPLATE, {
          apiVersion: API_VERSION,
          kind: "MaasMachineTemplate",
          metadata: { name: "workers", namespace: ns, labels: { "cluster.x-k8s.io/watch-filter": filter } },
          spec: { template: { spec: { minCPU: 8, minMemory: 16384, image: "ubuntu/jammy", tags: ["worker"] } } },
        });

        const ready = await waitFor("MaasMachine cp-0 Ready", async () => {
          const m = await client.get(MAAS_MACHINE, { namespace: ns, name: "cp-0" });
          return m.status?.conditions?.find((c) => c.type === "Ready")?.status === "True" ? m : undefined;
        }, 90_000);
        const ip = ready.status?.addresses?.find((a) => a.type === "InternalIP")?.address ?? "";
        await waitFor(`${fqdn} → ${ip} in MAAS`, () => dnsRecord(fqdn)?.includes(ip) === true);
        const template = await waitFor("the template's capacity", async () => {
          const t = await client.get(MAAS_MACHINE_TEMPLATE, { namespace: ns, name: "workers" });
          return t.status?.capacity?.cpu === undefined ? undefined : t;
        });
        assert.equal(template.status?.capacity?.cpu, "8");
        const lease = await client.get(LEASE, { namespace: ns, name: LEASE_NAME });
        assert.notEqual(lease.spec?.holderIdentity ?? "", "", "the manager holds its Lease");
        const events = await client.list(EVENT, { namespace: ns });
        assert.ok(events.items.some((e) => e.reportingController === "capmaas-manager"), "the manager recorded Events");

        // A machine MAAS cannot match is refused on every try: its repeated Warning becomes
        // an Event series, which is patched (the events patch permission).
        await client.create(SECRET, bootstrapSecret(ns, "huge-bootstrap", cluster, CLOUD_INIT));
        await client.create(CAPI_MACHINE, machineObject({ filter, namespace: ns, name: "huge", cluster, dataSecretName: "huge-bootstrap" }));
        await client.create(MAAS_MACHINE, maasMachineObject(filter, ns, "huge", { minCPU: 512 }));
        await waitFor("a repeated InsufficientCapacity Event", async () => {
          const found = await client.list(EVENT, { namespace: ns });
          return found.items.some((e) => e.reason === "InsufficientCapacity" && (e.series?.count ?? 0) >= 2);
        }, 90_000);
        await client.delete(CAPI_MACHINE, { namespace: ns, name: "huge" });
        await waitFor("MaasMachine huge gone", gone(() => client.get(MAAS_MACHINE, { namespace: ns, name: "huge" })), 90_000);

        const systemId = ready.spec.systemID ?? "";
        await client.delete(CAPI_MACHINE, { namespace: ns, name: "cp-0" });
        await waitFor("MaasMachine cp-0 gone", gone(() => client.get(MAAS_MACHINE, { namespace: ns, name: "cp-0" })), 90_000);
        // MAAS takes a moment to release (the simulator's releaseSeconds); the owner goes at the end.
        await waitFor(`MAAS machine ${systemId} released`, () => sim.state().machines.find((m) => m.systemId === systemId)?.owner === null);
        await client.delete(CAPI_CLUSTER, { namespace: ns, name: cluster });
        await waitFor("MaasCluster c1 gone", gone(() => client.get(MAAS_CLUSTER, { namespace: ns, name: cluster })), 90_000);
        assert.equal(dnsRecord(fqdn), undefined, "the DNS resource it created is deleted");

        // Every permission of the role was asked for (those needed only when a write races
        // another are allowed to be missing), and nothing else: the role grants nothing the
        // controllers do not use. The audit log is written before each answer.
        const audited = await auditedRequests(env, `system:serviceaccount:${ns}:${SERVICE_ACCOUNT}`);
        const granted = [...tableTriples("cluster"), ...tableTriples("leader-election")];
        assert.deepEqual(audited.forbidden, [], "no request was refused");
        assert.deepEqual([...audited.triples].filter((t) => !granted.includes(t)), [], "nothing asked for beyond the role");
        const unused = granted.filter((t) => !audited.triples.has(t));
        assert.deepEqual(unused.filter((t) => !raceOnlyTriples().includes(t)), [], "every permission the role grants was used");
        context.diagnostic(`${String(granted.length - unused.length)} of ${String(granted.length)} permissions used; not seen (race only): ${unused.join(", ") || "none"}`);

        const codes = await requestsByCode(provider.probePort);
        assert.equal(codes.get("403") ?? 0, 0, `the API server refused the manager:\n${forbiddenLines(await provider.logText())}`);
        assert.ok((codes.get("200") ?? 0) > 0 && (codes.get("201") ?? 0) > 0, `the counter saw the manager's reads and creates: ${JSON.stringify([...codes])}`);
      } finally {
        await provider.stop();
      }
    });

    it("with patch on maasmachines/status taken out of the role, the same manager is answered 403 and the MaasMachine never gets a status", async () => {
      const { clusterRole } = await generatedRoles();
      const lacking = withoutVerb(clusterRole.rules, GROUP, "maasmachines/status", "patch");
      assert.deepEqual(
        ruleTriples(clusterRole.rules).filter((t) => !ruleTriples(lacking).includes(t)),
        [`${GROUP}|maasmachines/status|patch`],
        "exactly one verb is missing",
      );
      const { ns, provider } = await managerAs("rbac-lacking", () => lacking);
      try {
        await client.create(MAAS_MACHINE, maasMachineObject(filter, ns, "m-0"));
        await waitFor("a 403 in the manager's request counts", async () => ((await requestsByCode(provider.probePort)).get("403") ?? 0) > 0);
        const machine = await client.get(MAAS_MACHINE, { namespace: ns, name: "m-0" });
        assert.equal(machine.status?.conditions, undefined, "no status was written");
      } finally {
        await provider.stop();
      }
    });
  });
});

/** The manager's log lines about refusals, for the failure message only. */
function forbiddenLines(log: string): string {
  return log.split("\n").filter((l) => /forbidden|403/i.test(l)).slice(0, 20).join("\n");
}
