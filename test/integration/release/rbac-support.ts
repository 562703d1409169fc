// An identity for the manager that holds nothing but the generated role: a
// ServiceAccount bound to a copy of config/rbac/role.yaml's ClusterRole (renamed per
// test, since ClusterRoles are cluster-wide) and of its leader-election Role (in the
// test's namespace), and a kubeconfig with a TokenRequest token for it. Plus the
// manager's own count of API answers by status code, read from its /metrics, and
// what it asked for, read from the API server's audit log.
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { stringify } from "yaml";
import type { PolicyRule } from "../../../src/controllers/rbac.ts";
import { auditLogPathIn } from "../../testenv/control-plane.ts";
import type { TestEnvHandle } from "../../testenv/index.ts";
import { repoRoot } from "../../testenv/binaries.ts";
import { onlyOne, parseObjects, type K8sObject } from "./release-support.ts";

export const SERVICE_ACCOUNT = "capmaas-manager";

export interface RestrictedIdentity {
  namespace: string;
  kubeconfigPath: string;
  clusterRoleName: string;
  /** Removes the cluster-scoped objects (the namespace's go with the namespace). */
  cleanup(): Promise<void>;
}

type Rules = { rules: PolicyRule[] };

export async function generatedRoles(): Promise<{ clusterRole: K8sObject & Rules; role: K8sObject & Rules }> {
  const objects = parseObjects(await readFile(join(repoRoot, "config", "rbac", "role.yaml"), "utf8"), "config/rbac/role.yaml");
  return { clusterRole: onlyOne(objects, "ClusterRole") as K8sObject & Rules, role: onlyOne(objects, "Role") as K8sObject & Rules };
}

async function kubectlOk(env: TestEnvHandle, args: string[], input?: string): Promise<string> {
  const result = await env.kubectl(args, input === undefined ? {} : { input });
  if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

export async function restrictedIdentity(options: {
  env: TestEnvHandle;
  /** An existing namespace: the ServiceAccount, the Role and the Lease go there. */
  namespace: string;
  dir: string;
  /** Changes the ClusterRole's rules (e.g. drops a verb); the generated ones as they are by default. */
  editClusterRules?: (rules: PolicyRule[]) => PolicyRule[];
}): Promise<RestrictedIdentity> {
  const { env, namespace } = options;
  const { clusterRole, role } = await generatedRoles();
  const clusterRoleName = `${clusterRole.metadata.name}-${namespace}`;
  const rules = options.editClusterRules?.(structuredClone(clusterRole.rules)) ?? clusterRole.rules;
  const subject = [{ kind: "ServiceAccount", name: SERVICE_ACCOUNT, namespace }];
  const objects = [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: SERVICE_ACCOUNT, namespace } },
    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: clusterRoleName }, rules },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: clusterRoleName },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRoleName },
      subjects: subject,
    },
    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: role.metadata.name, namespace }, rules: role.rules },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: role.metadata.name, namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
      subjects: subject,
    },
  ];
  const cleanup = async (): Promise<void> => {
    await env.kubectl(["delete", "--ignore-not-found", "clusterrolebinding", clusterRoleName]);
    await env.kubectl(["delete", "--ignore-not-found", "clusterrole", clusterRoleName]);
  };
  try {
    await kubectlOk(env, ["apply", "-f", "-"], objects.map((o) => `---\n${stringify(o)}`).join(""));
    // The TokenRequest API (serviceaccounts/<name>/token): a bound token, as a pod would mount.
    const token = (await kubectlOk(env, ["create", "token", SERVICE_ACCOUNT, "-n", namespace, "--duration=2h"])).trim();
    const cluster = env.kubeConfig().getCurrentCluster();
    if (cluster === null || cluster.caData === undefined) throw new Error("the test control plane's kubeconfig has no cluster CA");
    const kubeconfigPath = join(options.dir, `${namespace}.kubeconfig`);
    const kubeconfig = {
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "testenv", cluster: { server: cluster.server, "certificate-authority-data": cluster.caData } }],
      users: [{ name: SERVICE_ACCOUNT, user: { token } }],
      contexts: [{ name: "restricted", context: { cluster: "testenv", user: SERVICE_ACCOUNT, namespace } }],
      "current-context": "restricted",
    };
    await writeFile(kubeconfigPath, stringify(kubeconfig), { mode: 0o600 });
    return { namespace, kubeconfigPath, clusterRoleName, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** The manager's `rest_client_requests_total` summed by status code, from its /metrics. */
export async function requestsByCode(probePort: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${String(probePort)}/metrics`)).text();
  const counts = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^rest_client_requests_total\{([^}]*)\} (\S+)$/.exec(line);
    if (match === null) continue;
    const code = /code="([^"]*)"/.exec(match[1] ?? "")?.[1] ?? "";
    counts.set(code, (counts.get(code) ?? 0) + Number(match[2]));
  }
  return counts;
}

interface AuditEvent {
  verb?: string;
  user?: { username?: string };
  objectRef?: { apiGroup?: string; resource?: string; subresource?: string };
  responseStatus?: { code?: number };
}

/**
 * What `username` asked the API server for, from the control plane's audit log (written
 * by test/testenv/control-plane.ts): one `group|resource[/subresource]|verb` per kind
 * of request, as the permission table spells them, with how many were answered 403.
 */
export async function auditedRequests(env: TestEnvHandle, username: string): Promise<{ triples: Set<string>; forbidden: string[] }> {
  const text = await readFile(auditLogPathIn(dirname(env.kubeconfigPath)), "utf8");
  const triples = new Set<string>();
  const forbidden: string[] = [];
  for (const line of text.split("\n")) {
    if (!line.includes(username)) continue;
    const event = JSON.parse(line) as AuditEvent;
    // A watch is logged when its answer starts and again when it ends; others when they end.
    if (event.user?.username !== username || event.objectRef?.resource === undefined) continue;
    const { apiGroup = "", resource, subresource } = event.objectRef;
    const triple = `${apiGroup}|${subresource === undefined ? resource : `${resource}/${subresource}`}|${event.verb ?? ""}`;
    triples.add(triple);
    if (event.responseStatus?.code === 403) forbidden.push(triple);
  }
  return { triples, forbidden };
}
