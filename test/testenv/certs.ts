// Key material for one control plane: a CA, kube-apiserver's serving cert, the
// service-account signing key pair, a static admin token and a static token for
// the provider's manager (a user with no group, so it holds only what RBAC binds to it). Node's crypto
// cannot issue X.509 certificates, so the openssl CLI does that part, with a
// config file of our own so the system's openssl.cnf cannot change the result.
import { execFile } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { MANAGER_USER } from "./manager-identity.ts";

const execFileAsync = promisify(execFile);

export interface ControlPlaneSecrets {
  caCertPath: string;
  servingCertPath: string;
  servingKeyPath: string;
  serviceAccountKeyPath: string;
  serviceAccountPubPath: string;
  tokenFilePath: string;
  adminToken: string;
  /** Authenticates as MANAGER_USER (manager-identity.ts). */
  managerToken: string;
}

// Long enough for a `testenv up` left running for a while; the files die with the dir.
const validDays = "30";

const opensslConfig = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = testenv
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[serving]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = @alt
[alt]
IP.1 = 127.0.0.1
DNS.1 = localhost
DNS.2 = kubernetes
DNS.3 = kubernetes.default
DNS.4 = kubernetes.default.svc
DNS.5 = kubernetes.default.svc.cluster.local
`;

export async function writeControlPlaneSecrets(dir: string): Promise<ControlPlaneSecrets> {
  const path = (name: string): string => join(dir, name);
  const secrets: ControlPlaneSecrets = {
    caCertPath: path("ca.crt"),
    servingCertPath: path("serving.crt"),
    servingKeyPath: path("serving.key"),
    serviceAccountKeyPath: path("sa.key"),
    serviceAccountPubPath: path("sa.pub"),
    tokenFilePath: path("tokens.csv"),
    adminToken: randomBytes(24).toString("hex"),
    managerToken: randomBytes(24).toString("hex"),
  };
  const configPath = path("openssl.cnf");
  await writeFile(configPath, opensslConfig, { mode: 0o600 });

  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl(["req", "-x509", ...ec, "-config", configPath, "-extensions", "ca", "-days", validDays,
    "-subj", "/CN=testenv-ca", "-keyout", path("ca.key"), "-out", secrets.caCertPath]);
  // OpenSSL 3's `req -CA` signs with the CA directly: no CSR file, no serial file.
  await openssl(["req", "-x509", ...ec, "-config", configPath, "-extensions", "serving", "-days", validDays,
    "-subj", "/CN=kube-apiserver", "-CA", secrets.caCertPath, "-CAkey", path("ca.key"),
    "-keyout", secrets.servingKeyPath, "-out", secrets.servingCertPath]);

  const sa = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  await writeFile(secrets.serviceAccountKeyPath, sa.privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  await writeFile(secrets.serviceAccountPubPath, sa.publicKey.export({ type: "spki", format: "pem" }));

  // token,user,uid,"groups": system:masters passes every authorizer; the manager's
  // user has no group, so it can do only what its ClusterRoleBinding grants.
  const lines = [`${secrets.adminToken},admin,admin,"system:masters"`, `${secrets.managerToken},${MANAGER_USER},${MANAGER_USER}`];
  await writeFile(secrets.tokenFilePath, `${lines.join("\n")}\n`, { mode: 0o600 });
  return secrets;
}

async function openssl(args: string[]): Promise<void> {
  try {
    await execFileAsync("openssl", args);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? "";
    throw new Error(`openssl ${args[0] ?? ""} failed: ${stderr || String(err)}`, { cause: err });
  }
}
