// The identity the provider's manager runs as in the tests: a static-token user bound
// to nothing but the ClusterRole that config/rbac/role.yaml declares (the generated,
// least-privilege role the release ships), never a cluster admin. So a controller that
// starts making a request its role lacks meets a 403 in every test that runs it, not
// only in the RBAC test. The leader-election Role is namespaced, as in the release, and
// granted per namespace by whoever runs the manager with --leader-elect.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { apiRequest, type ApiTarget } from "./api-request.ts";
import { repoRoot } from "./binaries.ts";

export const MANAGER_USER = "capmaas-manager";
/** The testenv's copy of the generated ClusterRole, named apart from the release's. */
export const MANAGER_CLUSTER_ROLE = "capmaas-manager-role-testenv";

const ROLE_FILE = join(repoRoot, "config", "rbac", "role.yaml");

interface RoleDocument {
  kind?: string;
  rules?: unknown[];
}

async function generatedRules(kind: "ClusterRole" | "Role"): Promise<unknown[]> {
  const docs = parseAllDocuments(await readFile(ROLE_FILE, "utf8")).map((d) => d.toJSON() as RoleDocument | null);
  const rules = docs.find((d) => d?.kind === kind)?.rules;
  if (rules === undefined) throw new Error(`${ROLE_FILE} has no ${kind} with rules`);
  return rules;
}

/** Whether this checkout has a generated role to bind (testenv also serves trees without one). */
export function hasGeneratedRole(): boolean {
  return existsSync(ROLE_FILE);
}

async function createOrReplace(target: ApiTarget, collection: string, object: Record<string, unknown> & { metadata: { name: string; namespace?: string } }): Promise<void> {
  const body = { contentType: "application/json", data: JSON.stringify(object) };
  let answer = await apiRequest(target, "POST", collection, body);
  if (answer.status === 409) answer = await apiRequest(target, "PUT", `${collection}/${object.metadata.name}`, body);
  if (answer.status >= 300) throw new Error(`${collection}/${object.metadata.name}: ${String(answer.status)} ${answer.body}`);
}

/** Binds MANAGER_USER to a copy of the generated ClusterRole. */
export async function bindManagerClusterRole(target: ApiTarget): Promise<void> {
  const rbac = "/apis/rbac.authorization.k8s.io/v1";
  const name = MANAGER_CLUSTER_ROLE;
  await createOrReplace(target, `${rbac}/clusterroles`, { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name }, rules: await generatedRules("ClusterRole") });
  await createOrReplace(target, `${rbac}/clusterrolebindings`, {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
    subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: MANAGER_USER }],
  });
}

/** The generated leader-election Role and its binding to MANAGER_USER in `namespace` (which must exist). */
export async function bindManagerLeaderElection(target: ApiTarget, namespace: string): Promise<void> {
  const rbac = `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}`;
  const name = `${MANAGER_CLUSTER_ROLE}-leader-election`;
  await createOrReplace(target, `${rbac}/roles`, { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name, namespace }, rules: await generatedRules("Role") });
  await createOrReplace(target, `${rbac}/rolebindings`, {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: { name, namespace },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
    subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: MANAGER_USER }],
  });
}
