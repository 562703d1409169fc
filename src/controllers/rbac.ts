// Every permission the manager uses on the management cluster, one row per (API group,
// resource, verbs), each naming the code that needs it. This table is the only source of
// config/rbac/role.yaml (hack/generate-rbac.ts writes it, `--check` fails when it is
// stale), and test/integration/release/rbac.test.ts runs the real manager bound to
// nothing but that role, so a row missing here shows up as a 403 there.
//
// What is deliberately absent: Nodes (the manager patches them in *workload* clusters,
// with the `<cluster>-kubeconfig` credentials, never in the management cluster); writes
// to CAPI's Machines and Clusters (Cluster API owns them, we only read); `update` (PUT)
// on our kinds (every write is a JSON merge patch, see runtime/patch-helper.ts and
// runtime/kube-writes.ts); `create`/`delete` of our kinds (users and Cluster API make
// and delete them); MaasClusterTemplates (no controller reads them; Cluster API's
// ClusterClass controllers copy them with their own role, which already covers the
// whole infrastructure.cluster.x-k8s.io group).
import { GROUP } from "../api/v1beta1/index.ts";
import { CLUSTER_API_GROUP } from "../capi/index.ts";

export type Verb = "get" | "list" | "watch" | "create" | "update" | "patch" | "delete";

/**
 * `cluster`: a ClusterRole rule (the manager watches every namespace);
 * `leader-election`: a Role in the namespace of the leader-election Lease
 * (capmaas-system, the manager's own), so it can touch no other namespace's Leases.
 */
export type PermissionScope = "cluster" | "leader-election";

export interface Permission {
  scope: PermissionScope;
  /** "" is the core group. */
  apiGroup: string;
  /** A resource, or resource/subresource. */
  resource: string;
  verbs: readonly Verb[];
  /** The code that makes these requests. */
  usedBy: string;
  /**
   * Verbs used only when a write races another writer (a 409, or the cache lagging our
   * own write): needed, but a test run sees them only when the race happens.
   */
  onlyAfterARace?: readonly Verb[];
}

export const PERMISSIONS: readonly Permission[] = [
  // ── our kinds ─────────────────────────────────────────────────────────────
  {
    scope: "cluster",
    apiGroup: GROUP,
    resource: "maasmachines",
    verbs: ["get", "list", "watch", "patch"],
    usedBy:
      "maasmachine/setup.ts and maascluster/setup.ts informers (list, watch); maasmachine/reconciler.ts readStored (get); " +
      "shared/object-scope.ts persist via runtime/patch-helper.ts (patch: finalizer, systemID, providerID; get after a 409)",
  },
  {
    scope: "cluster",
    apiGroup: GROUP,
    resource: "maasmachines/status",
    verbs: ["patch"],
    usedBy: "shared/object-scope.ts close via runtime/patch-helper.ts (status merge patch)",
  },
  {
    scope: "cluster",
    apiGroup: GROUP,
    resource: "maasclusters",
    verbs: ["get", "list", "watch", "patch"],
    usedBy:
      "maascluster/setup.ts informer (list, watch); shared/object-scope.ts persist via runtime/patch-helper.ts " +
      "(patch: finalizer, controlPlaneEndpoint, DNS annotations; get after a 409)",
    onlyAfterARace: ["get"],
  },
  {
    scope: "cluster",
    apiGroup: GROUP,
    resource: "maasclusters/status",
    verbs: ["patch"],
    usedBy: "shared/object-scope.ts close via runtime/patch-helper.ts (status merge patch)",
  },
  {
    scope: "cluster",
    apiGroup: GROUP,
    resource: "maasmachinetemplates",
    verbs: ["get", "list", "watch"],
    usedBy: "maasmachinetemplate/setup.ts informer (list, watch); maasmachinetemplate/reconciler.ts current (get, when the cache lags our write)",
    onlyAfterARace: ["get"],
  },
  {
    scope: "cluster",
    apiGroup: GROUP,
    resource: "maasmachinetemplates/status",
    verbs: ["patch"],
    usedBy: "maasmachinetemplate/scope.ts close via runtime/patch-helper.ts (status: capacity, nodeInfo)",
  },
  // ── Cluster API's kinds: read only ────────────────────────────────────────
  {
    scope: "cluster",
    apiGroup: CLUSTER_API_GROUP,
    resource: "machines",
    verbs: ["list", "watch"],
    usedBy: "maasmachine/setup.ts and maascluster/setup.ts informers (owner Machine, control-plane membership)",
  },
  {
    scope: "cluster",
    apiGroup: CLUSTER_API_GROUP,
    resource: "clusters",
    verbs: ["list", "watch"],
    usedBy: "maasmachine, maascluster and maasmachinetemplate setup.ts informers (pause, infrastructure provisioned, owner)",
  },
  // ── core ──────────────────────────────────────────────────────────────────
  {
    scope: "cluster",
    apiGroup: "",
    resource: "secrets",
    verbs: ["get", "list", "watch"],
    usedBy:
      "maasmachine/setup.ts informer of cluster-labelled Secrets: bootstrap data and <cluster>-kubeconfig (list, watch); " +
      "maasmachine/deploy.ts readBootstrapData (get, a Secret the cache lacks); cmd/manager.ts watchCredentialsSecret (list, watch)",
  },
  {
    scope: "cluster",
    apiGroup: "events.k8s.io",
    resource: "events",
    verbs: ["create", "patch"],
    usedBy: "runtime/events.ts KubeEventSink (create an Event; patch its series when it repeats), in the regarding object's namespace",
  },
  {
    scope: "leader-election",
    apiGroup: "coordination.k8s.io",
    resource: "leases",
    verbs: ["get", "create", "update"],
    usedBy: "runtime/leader-election-lock.ts KubeLeaseLock (read, create, replace under resourceVersion) with --leader-elect",
  },
];

/** An RBAC PolicyRule as the API serves it. */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const VERB_ORDER: readonly Verb[] = ["get", "list", "watch", "create", "update", "patch", "delete"];

/**
 * The rules of one scope, grouped as controller-gen groups them: resources of one API
 * group with the same verbs share a rule. Sorted, so the generated file is stable.
 */
export function policyRules(scope: PermissionScope, permissions: readonly Permission[] = PERMISSIONS): PolicyRule[] {
  const byKey = new Map<string, PolicyRule>();
  for (const p of permissions.filter((q) => q.scope === scope)) {
    const verbs = [...new Set(p.verbs)].sort((a, b) => VERB_ORDER.indexOf(a) - VERB_ORDER.indexOf(b));
    const key = `${p.apiGroup}\u0000${verbs.join(",")}`;
    const rule = byKey.get(key) ?? { apiGroups: [p.apiGroup], resources: [], verbs };
    if (!rule.resources.includes(p.resource)) rule.resources.push(p.resource);
    byKey.set(key, rule);
  }
  const rules = [...byKey.values()];
  for (const rule of rules) rule.resources.sort();
  return rules.sort((a, b) => compare(a.apiGroups[0] ?? "", b.apiGroups[0] ?? "") || compare(a.resources[0] ?? "", b.resources[0] ?? ""));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
