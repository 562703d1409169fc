// Starting etcd and kube-apiserver as children and waiting until each answers.
// The flags are the smallest set under which kube-apiserver 1.34 serves a
// full API with RBAC: static-token admin, our serving cert, service-account
// keys (tokens can be issued), and no ServiceAccount admission (no controller
// manager runs to create default service accounts). Plus an audit log of the
// requests made by the provider's manager identities (AUDIT_POLICY below), so the
// RBAC tests can compare what the manager asked for with what its role grants.
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Child } from "./children.ts";
import type { ControlPlaneSecrets } from "./certs.ts";
import { MANAGER_USER } from "./manager-identity.ts";
import { freePorts } from "./ports.ts";
import { ExitedBeforeReadyError, waitUntilReady } from "./probe.ts";

export interface EtcdInstance {
  child: Child;
  clientUrl: string;
}

export interface ApiServerSpec {
  binary: string;
  dir: string;
  port: number;
  etcdUrl: string;
  secrets: ControlPlaneSecrets;
  readyTimeoutMs: number;
}

const portAttempts = 3;

/** Where a control plane started in `dir` writes its audit log (one JSON event per line). */
export function auditLogPathIn(dir: string): string {
  return join(dir, "audit.log");
}

// Metadata (who, verb, resource, status; no bodies, so no Secret data) for the
// manager's static-token user and for any ServiceAccount (the RBAC test runs the
// manager as one); nothing for the admin, the tests and Cluster API's managers.
const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    users: [${MANAGER_USER}]
  - level: Metadata
    userGroups: [system:serviceaccounts]
  - level: None
`;

/** Starts etcd on free ports, retrying when another process takes a port first. */
export async function startEtcd(binary: string, dir: string, readyTimeoutMs: number): Promise<EtcdInstance> {
  const dataDir = join(dir, "etcd");
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // A member name of our own, which the readiness check looks for: another
  // etcd that took our port first answers /health just as well.
  const memberName = `testenv-${randomBytes(6).toString("hex")}`;
  for (let attempt = 1; ; attempt++) {
    const [clientPort, peerPort] = await freePorts(2);
    const clientUrl = `http://127.0.0.1:${String(clientPort)}`;
    const peerUrl = `http://127.0.0.1:${String(peerPort)}`;
    const child = new Child({
      name: "etcd",
      command: binary,
      // Upstream etcd's flags: explicit listen URLs need matching advertised ones.
      args: [
        `--name=${memberName}`,
        `--data-dir=${dataDir}`,
        `--listen-client-urls=${clientUrl}`,
        `--advertise-client-urls=${clientUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=${memberName}=${peerUrl}`,
        "--log-level=warn",
        // A test store is thrown away, so fsync only costs time.
        "--unsafe-no-fsync",
      ],
      logPath: join(dir, "etcd.log"),
      cwd: dir,
    });
    try {
      const identity = {
        url: `${clientUrl}/v3/cluster/member/list`,
        method: "POST" as const,
        jsonBody: "{}",
        bodyIncludes: JSON.stringify(memberName),
      };
      await waitUntilReady(child, [{ url: `${clientUrl}/health` }, identity], readyTimeoutMs);
      return { child, clientUrl };
    } catch (err) {
      await child.kill();
      if (attempt < portAttempts && (await lostPortRace(err))) continue;
      throw err;
    }
  }
}

/** Picks a free port for kube-apiserver and starts it there, retrying on a lost port race. */
export async function startApiServerOnFreePort(spec: Omit<ApiServerSpec, "port">): Promise<{ child: Child; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const [port] = await freePorts(1);
    if (port === undefined) throw new Error("no free port");
    try {
      return { child: await startApiServer({ ...spec, port }), port };
    } catch (err) {
      if (attempt < portAttempts && (await lostPortRace(err))) continue;
      throw err;
    }
  }
}

/** Starts kube-apiserver on the given port; on failure the child is already gone. */
export async function startApiServer(spec: ApiServerSpec): Promise<Child> {
  const s = spec.secrets;
  const auditPolicyPath = join(spec.dir, "audit-policy.yaml");
  await writeFile(auditPolicyPath, AUDIT_POLICY);
  const child = new Child({
    name: "kube-apiserver",
    command: spec.binary,
    args: [
      `--etcd-servers=${spec.etcdUrl}`,
      `--secure-port=${String(spec.port)}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--cert-dir=${join(spec.dir, "apiserver-certs")}`,
      `--tls-cert-file=${s.servingCertPath}`,
      `--tls-private-key-file=${s.servingKeyPath}`,
      `--client-ca-file=${s.caCertPath}`,
      "--service-cluster-ip-range=10.0.0.0/24",
      "--authorization-mode=RBAC",
      `--token-auth-file=${s.tokenFilePath}`,
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      `--service-account-key-file=${s.serviceAccountPubPath}`,
      `--service-account-signing-key-file=${s.serviceAccountKeyPath}`,
      "--disable-admission-plugins=ServiceAccount",
      "--allow-privileged=true",
      `--audit-policy-file=${auditPolicyPath}`,
      `--audit-log-path=${auditLogPathIn(spec.dir)}`,
      "--audit-log-format=json",
      // Written before the answer (the log backend's default, blocking), so a test that
      // has seen the answer finds the event; rotated past 200 MB so a long run stays bounded.
      "--audit-log-maxsize=200",
    ],
    logPath: join(spec.dir, "kube-apiserver.log"),
    cwd: spec.dir,
  });
  try {
    const ca = await readFile(s.caCertPath, "utf8");
    // Our token and CA make the answer ours: another kube-apiserver would fail TLS or answer 401.
    await waitUntilReady(child, [{ url: `https://127.0.0.1:${String(spec.port)}/readyz`, ca, token: s.adminToken }], spec.readyTimeoutMs);
    return child;
  } catch (err) {
    await child.kill();
    throw err;
  }
}

async function lostPortRace(err: unknown): Promise<boolean> {
  if (!(err instanceof ExitedBeforeReadyError)) return false;
  // Only this attempt's output: an earlier attempt's bind failure is in the same file.
  const log = await readFile(err.logPath).catch(() => Buffer.alloc(0));
  return log.subarray(err.logOffset).toString("utf8").includes("address already in use");
}
