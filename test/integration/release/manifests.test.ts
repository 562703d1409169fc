// The release as clusterctl users get it: hack/release-manifests.ts writes a local
// provider repository into a temporary folder; its infrastructure-components.yaml is
// checked object by object against the clusterctl contract and our agreed layout, then
// sent, variables substituted, to a real kube-apiserver as a server-side dry run, and
// the real clusterctl reads the same folder with `generate provider` (no network, a
// private HOME) and its output is dry-run too.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import { locateBinaries, repoRoot } from "../../testenv/binaries.ts";
import { startTestEnv, type TestEnv } from "../../testenv/index.ts";
import { byKind, metadataFor, onlyOne, packageVersion, parseObjects, run, runHackScript, substitute, type K8sObject } from "./release-support.ts";

const NAMESPACE = "capmaas-system";
const PROVIDER_LABEL = "cluster.x-k8s.io/provider";
const CERT_DIR = "/tmp/k8s-webhook-server/serving-certs";
const CREDENTIALS = { MAAS_ENDPOINT: "http://maas.example.test:5240/MAAS", MAAS_API_KEY: "consumer:token:secret" };
const CLUSTER_SCOPED = new Set(["Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]);

interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: { httpGet?: { path: string; port: number | string } };
  readinessProbe?: { httpGet?: { path: string; port: number | string } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; capabilities?: { drop?: string[]; add?: string[] }; privileged?: boolean };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface PodSpec {
  serviceAccountName?: string;
  securityContext?: { runAsNonRoot?: boolean; seccompProfile?: { type?: string } };
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; secret?: { secretName: string }; emptyDir?: object }[];
}
interface Webhook {
  name: string;
  sideEffects: string;
  admissionReviewVersions: string[];
  clientConfig: { service?: { name: string; namespace: string; path: string; port?: number } };
  rules: { apiGroups: string[]; resources: string[] }[];
}

/**
 * The paths the manager's webhook server serves: src/webhooks/paths.ts when present,
 * else the agreed convention (/mutate|validate-infrastructure-cluster-x-k8s-io-v1beta1-<kind>).
 */
async function servedWebhookPaths(): Promise<{ mutate: string[]; validate: string[] }> {
  const source = join(repoRoot, "src", "webhooks", "paths.ts");
  if (existsSync(source)) {
    const paths = (await import(pathToFileURL(source).href)) as { WEBHOOK_KINDS: readonly string[]; mutatePath(k: string): string; validatePath(k: string): string };
    return { mutate: paths.WEBHOOK_KINDS.map((k) => paths.mutatePath(k)), validate: paths.WEBHOOK_KINDS.map((k) => paths.validatePath(k)) };
  }
  const kinds = ["maascluster", "maasmachine", "maasmachinetemplate", "maasclustertemplate"];
  const prefix = "infrastructure-cluster-x-k8s-io-v1beta1";
  return { mutate: kinds.map((k) => `/mutate-${prefix}-${k}`), validate: kinds.map((k) => `/validate-${prefix}-${k}`) };
}

/**
 * The container's args as the kubelet runs them in a pod in `namespace`: `$(VAR)` is
 * replaced by the container's env var VAR (here only a literal value or the pod's
 * metadata.namespace), as Kubernetes does for command and args.
 */
function argsInPod(container: Container, namespace: string): string[] {
  const env = new Map<string, string>();
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env.set(e.name, e.value);
    else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.namespace") env.set(e.name, namespace);
  }
  return (container.args ?? []).map((a) => a.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => env.get(name) ?? whole));
}

const podSpecOf = (deployment: K8sObject): PodSpec => (deployment.spec as { template: { spec: PodSpec } }).template.spec;
const webhooksOf = (config: K8sObject): Webhook[] => (config as unknown as { webhooks: Webhook[] }).webhooks;

describe("release manifests", () => {
  let tmp: string;
  let version: string;
  let versionDir: string;
  let componentsText: string;
  let objects: K8sObject[];
  let metadataPath: string;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "capmaas-release-"));
    version = await packageVersion();
    ({ path: metadataPath } = await metadataFor(tmp));
    const result = await runHackScript("release-manifests.ts", ["--out", join(tmp, "out"), "--metadata", metadataPath]);
    assert.equal(result.code, 0, result.stderr);
    versionDir = join(tmp, "out", "infrastructure-maas", version);
    componentsText = await readFile(join(versionDir, "infrastructure-components.yaml"), "utf8");
    objects = parseObjects(componentsText, "infrastructure-components.yaml");
  });
  after(() => rm(tmp, { recursive: true, force: true }));

  describe("the provider repository folder", () => {
    it("is named for package.json's version and holds the components, metadata.yaml and every template", async () => {
      const templates = (await readdir(join(repoRoot, "templates")).catch(() => [] as string[])).filter((n) => /^(cluster-template.*|clusterclass-.*)\.yaml$/.test(n));
      assert.deepEqual((await readdir(versionDir)).sort(), ["infrastructure-components.yaml", "metadata.yaml", ...templates].sort());
      assert.equal(await readFile(join(versionDir, "metadata.yaml"), "utf8"), await readFile(metadataPath, "utf8"));
      for (const name of templates) {
        assert.equal(await readFile(join(versionDir, name), "utf8"), await readFile(join(repoRoot, "templates", name), "utf8"), name);
      }
    });

    it("refuses a version that is not a semantic version, naming --version and the fix", async () => {
      const result = await runHackScript("release-manifests.ts", ["--out", join(tmp, "bad"), "--metadata", metadataPath, "--version", "0.1"]);
      assert.equal(result.code, 2);
      assert.match(result.stderr, /--version "0\.1": expected a semantic version with a leading v, e\.g\. --version v0\.1\.0/);
    });

    it("refuses to write a release without metadata, naming --metadata", async () => {
      const result = await runHackScript("release-manifests.ts", ["--out", join(tmp, "bad"), "--metadata", join(tmp, "missing.yaml")]);
      assert.equal(result.code, 2);
      assert.match(result.stderr, /missing\.yaml does not exist: .*--metadata FILE/);
    });
  });

  describe("infrastructure-components.yaml", () => {
    it("has exactly one Namespace, capmaas-system, and every namespaced object in it", () => {
      assert.deepEqual(byKind(objects, "Namespace").map((n) => n.metadata.name), [NAMESPACE]);
      for (const obj of objects.filter((o) => !CLUSTER_SCOPED.has(o.kind))) {
        assert.equal(obj.metadata.namespace, NAMESPACE, `${obj.kind} ${obj.metadata.name}`);
      }
    });

    it("labels every object with cluster.x-k8s.io/provider: infrastructure-maas", () => {
      for (const obj of objects) assert.equal(obj.metadata.labels?.[PROVIDER_LABEL], "infrastructure-maas", `${obj.kind} ${obj.metadata.name}`);
    });

    it("carries our four CRDs with the contract label CAPI looks up, and no CA injection (there is no conversion webhook)", () => {
      const crds = byKind(objects, "CustomResourceDefinition");
      assert.deepEqual(crds.map((c) => c.metadata.name).sort(), [
        "maasclusters.infrastructure.cluster.x-k8s.io",
        "maasclustertemplates.infrastructure.cluster.x-k8s.io",
        "maasmachines.infrastructure.cluster.x-k8s.io",
        "maasmachinetemplates.infrastructure.cluster.x-k8s.io",
      ]);
      for (const crd of crds) {
        assert.equal(crd.metadata.labels?.["cluster.x-k8s.io/v1beta2"], "v1beta1", crd.metadata.name);
        assert.equal(crd.metadata.annotations?.["cert-manager.io/inject-ca-from"], undefined, crd.metadata.name);
        assert.equal((crd.spec as { conversion?: { strategy?: string } }).conversion?.strategy ?? "None", "None");
      }
    });

    it("runs the manager with the agreed flags, probes, resources and a locked-down security context", () => {
      const pod = podSpecOf(onlyOne(objects, "Deployment"));
      assert.equal(pod.containers.length, 1);
      const manager = pod.containers[0] as Container;
      assert.equal(manager.name, "manager");
      assert.deepEqual(argsInPod(manager, NAMESPACE).sort(), [
        "--health-probe-bind-address=:8081",
        "--leader-elect",
        `--maas-credentials-secret=${NAMESPACE}/capmaas-manager-credentials`,
        "--metrics-bind-address=:8080",
        `--webhook-cert-dir=${CERT_DIR}`,
        "--webhook-port=9443",
      ]);
      const portOf = (ref: number | string | undefined): number | undefined =>
        typeof ref === "number" ? ref : manager.ports?.find((p) => p.name === ref)?.containerPort;
      assert.deepEqual([manager.livenessProbe?.httpGet?.path, portOf(manager.livenessProbe?.httpGet?.port)], ["/healthz", 8081]);
      assert.deepEqual([manager.readinessProbe?.httpGet?.path, portOf(manager.readinessProbe?.httpGet?.port)], ["/readyz", 8081]);
      for (const part of ["requests", "limits"] as const) {
        assert.ok(manager.resources?.[part]?.cpu !== undefined && manager.resources[part].memory !== undefined, `resources.${part} has cpu and memory`);
      }
      assert.equal(pod.securityContext?.runAsNonRoot, true);
      assert.equal(pod.securityContext?.seccompProfile?.type, "RuntimeDefault");
      assert.equal(manager.securityContext?.allowPrivilegeEscalation, false);
      assert.equal(manager.securityContext?.readOnlyRootFilesystem, true);
      assert.deepEqual(manager.securityContext?.capabilities?.drop, ["ALL"]);
      assert.equal(manager.securityContext?.capabilities?.add, undefined);

      const mount = manager.volumeMounts?.find((m) => m.mountPath === CERT_DIR);
      assert.equal(mount?.readOnly, true, "the serving certificate is mounted read-only at the cert dir");
      assert.equal(pod.volumes?.find((v) => v.name === mount?.name)?.secret?.secretName, "capmaas-webhook-service-cert");
      const tmpMount = manager.volumeMounts?.find((m) => m.mountPath === "/tmp");
      assert.ok(pod.volumes?.find((v) => v.name === tmpMount?.name)?.emptyDir !== undefined, "/tmp is a writable emptyDir");
      assert.equal(pod.serviceAccountName, "capmaas-manager");
      assert.deepEqual(byKind(objects, "ServiceAccount").map((s) => s.metadata.name), ["capmaas-manager"]);
    });

    it("names no image but ours, tagged with the release version, and starts no other container", () => {
      const images = objects.flatMap((o) => {
        const spec = (o.spec as { template?: { spec?: PodSpec } } | undefined)?.template?.spec;
        return [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])].map((c) => c.image);
      });
      assert.deepEqual(images, [`ghcr.io/capmaas/capmaas-manager:${version}`]);
    });

    it("feeds the credentials Secret from MAAS_ENDPOINT and MAAS_API_KEY and has no other variable", () => {
      const secret = byKind(objects, "Secret").find((s) => s.metadata.name === "capmaas-manager-credentials");
      assert.deepEqual(secret?.stringData, { MAAS_ENDPOINT: "${MAAS_ENDPOINT}", MAAS_API_KEY: "${MAAS_API_KEY}" });
      assert.deepEqual([...new Set(componentsText.match(/\$\{[^}]*\}/g))].sort(), ["${MAAS_API_KEY}", "${MAAS_ENDPOINT}"]);
    });

    it("registers each kind's webhooks at the paths the manager serves, through the Service, with cert-manager's CA", async () => {
      const served = await servedWebhookPaths();
      const service = onlyOne(objects, "Service");
      assert.equal(service.metadata.name, "capmaas-webhook-service");
      const servicePort = (service.spec as { ports: { port: number; targetPort: number | string }[] }).ports[0];
      const pod = podSpecOf(onlyOne(objects, "Deployment"));
      const target = pod.containers[0]?.ports?.find((p) => p.name === servicePort?.targetPort || p.containerPort === servicePort?.targetPort);
      assert.deepEqual([servicePort?.port, target?.containerPort], [443, 9443]);
      const selector = (service.spec as { selector: Record<string, string> }).selector;
      const podLabels = (onlyOne(objects, "Deployment").spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
      for (const [k, v] of Object.entries(selector)) assert.equal(podLabels[k], v, `the Service selects the manager's pods (${k})`);

      const certificate = onlyOne(objects, "Certificate");
      const certSpec = certificate.spec as { secretName: string; dnsNames: string[]; issuerRef: { name: string; kind: string } };
      assert.equal(certSpec.secretName, "capmaas-webhook-service-cert");
      assert.deepEqual(certSpec.dnsNames.sort(), [`capmaas-webhook-service.${NAMESPACE}.svc`, `capmaas-webhook-service.${NAMESPACE}.svc.cluster.local`]);
      const issuer = onlyOne(objects, "Issuer");
      assert.deepEqual([certSpec.issuerRef.kind, certSpec.issuerRef.name], ["Issuer", issuer.metadata.name]);
      assert.deepEqual(issuer.spec, { selfSigned: {} });

      for (const [kind, paths] of [["MutatingWebhookConfiguration", served.mutate], ["ValidatingWebhookConfiguration", served.validate]] as const) {
        const config = onlyOne(objects, kind);
        assert.equal(config.metadata.annotations?.["cert-manager.io/inject-ca-from"], `${NAMESPACE}/${certificate.metadata.name}`);
        const hooks = webhooksOf(config);
        assert.deepEqual(hooks.map((h) => h.clientConfig.service?.path).sort(), [...paths].sort());
        for (const hook of hooks) {
          assert.equal(hook.sideEffects, "None", hook.name);
          assert.deepEqual(hook.admissionReviewVersions, ["v1"], hook.name);
          assert.deepEqual([hook.clientConfig.service?.name, hook.clientConfig.service?.namespace, hook.clientConfig.service?.port ?? 443], ["capmaas-webhook-service", NAMESPACE, 443]);
          // The path names the kind; the rule must send exactly that kind's objects there.
          const kindInPath = hook.clientConfig.service?.path.split("-").pop();
          assert.deepEqual(hook.rules.flatMap((r) => r.resources), [`${kindInPath ?? ""}s`], hook.name);
          assert.deepEqual(hook.rules.flatMap((r) => r.apiGroups), ["infrastructure.cluster.x-k8s.io"], hook.name);
        }
      }
    });

    it("binds the generated ClusterRole and leader-election Role to the manager's ServiceAccount", async () => {
      const generated = parseObjects(await readFile(join(repoRoot, "config", "rbac", "role.yaml"), "utf8"), "role.yaml");
      for (const [roleKind, bindingKind] of [["ClusterRole", "ClusterRoleBinding"], ["Role", "RoleBinding"]] as const) {
        const role = onlyOne(objects, roleKind);
        assert.deepEqual(role.rules, onlyOne(generated, roleKind).rules, `${roleKind} is config/rbac/role.yaml's`);
        const binding = onlyOne(objects, bindingKind) as K8sObject & { roleRef: { kind: string; name: string }; subjects: { kind: string; name: string; namespace: string }[] };
        assert.deepEqual([binding.roleRef.kind, binding.roleRef.name], [roleKind, role.metadata.name]);
        assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: "capmaas-manager", namespace: NAMESPACE }]);
      }
    });
  });

  describe("on a kube-apiserver", () => {
    let env: TestEnv;
    let clusterctl: string;
    let home: string;
    let clusterctlConfig: string;

    const dryRun = async (yaml: string): Promise<string> => {
      const result = await env.kubectl(["apply", "--dry-run=server", "-f", "-"], { input: yaml });
      assert.equal(result.code, 0, `server dry run refused the objects:\n${result.stderr}`);
      return result.stdout;
    };
    // clusterctl cut off from the developer's config, the network and the version check.
    const runClusterctl = (args: string[], env: Record<string, string> = {}) =>
      run(clusterctl, args, {
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, XDG_CONFIG_HOME: join(home, ".config"), CLUSTERCTL_DISABLE_VERSIONCHECK: "true", GOPROXY: "off", ...env },
        cwd: home,
        timeoutMs: 60_000,
      });

    before(async () => {
      // A private control plane: the stand-in cert-manager CRDs and the real capmaas-system
      // namespace (a dry run cannot create objects in a namespace it only dry-runs) stay out of the shared one.
      env = await startTestEnv({ crdDirs: [join(repoRoot, "test", "fixtures", "release", "cert-manager-crds")], log: () => undefined });
      const created = await env.kubectl(["create", "namespace", NAMESPACE]);
      assert.equal(created.code, 0, created.stderr);
      const capi = (await locateBinaries()).capi;
      if (capi === undefined) throw new Error("clusterctl is not built: run `make testenv`");
      clusterctl = capi.clusterctl;
      home = join(tmp, "home");
      await mkdir(home, { recursive: true });
      clusterctlConfig = join(tmp, "clusterctl.yaml");
      const url = join(versionDir, "infrastructure-components.yaml");
      await writeFile(clusterctlConfig, `providers:\n  - name: maas\n    type: InfrastructureProvider\n    url: ${url}\n`);
    });
    after(async () => {
      await env?.stop();
    });

    it("accepts infrastructure-components.yaml, variables substituted, in a server-side dry run", async () => {
      const text = substitute(componentsText, CREDENTIALS);
      assert.equal(text.includes("${"), false, "every variable is substituted");
      const out = await dryRun(text);
      // One line per object: kubectl names each kind it sent.
      assert.equal(out.trim().split("\n").length, objects.length, out);
    });

    it("clusterctl generate provider reads the local repository and its output passes a server-side dry run", async () => {
      const result = await runClusterctl(["generate", "provider", "--infrastructure", `maas:${version}`, "--config", clusterctlConfig], CREDENTIALS);
      assert.equal(result.code, 0, result.stderr);
      const generated = parseObjects(result.stdout, "clusterctl output");
      assert.deepEqual(generated.map((o) => `${o.kind}/${o.metadata.name}`).sort(), objects.map((o) => `${o.kind}/${o.metadata.name}`).sort());
      const secret = generated.find((o) => o.kind === "Secret" && o.metadata.name === "capmaas-manager-credentials");
      assert.deepEqual(secret?.stringData, CREDENTIALS);
      for (const obj of generated) assert.equal(obj.metadata.labels?.["clusterctl.cluster.x-k8s.io"], "", `clusterctl labels ${obj.kind} ${obj.metadata.name}`);
      await dryRun(result.stdout);
    });

    it("with --target-namespace, clusterctl moves every namespaced object, the certificate's names and the credentials reference there", async () => {
      const target = "maas-elsewhere";
      const created = await env.kubectl(["create", "namespace", target]);
      assert.equal(created.code, 0, created.stderr);
      const result = await runClusterctl(["generate", "provider", "--infrastructure", `maas:${version}`, "--config", clusterctlConfig, "--target-namespace", target], CREDENTIALS);
      assert.equal(result.code, 0, result.stderr);
      const generated = parseObjects(result.stdout, "clusterctl output");
      assert.deepEqual(byKind(generated, "Namespace").map((n) => n.metadata.name), [target]);
      for (const obj of generated.filter((o) => !CLUSTER_SCOPED.has(o.kind))) assert.equal(obj.metadata.namespace, target, `${obj.kind} ${obj.metadata.name}`);
      const certSpec = onlyOne(generated, "Certificate").spec as { dnsNames: string[] };
      assert.deepEqual(certSpec.dnsNames.sort(), [`capmaas-webhook-service.${target}.svc`, `capmaas-webhook-service.${target}.svc.cluster.local`]);
      for (const kind of ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]) {
        const config = onlyOne(generated, kind);
        assert.equal(config.metadata.annotations?.["cert-manager.io/inject-ca-from"], `${target}/capmaas-serving-cert`);
        for (const hook of webhooksOf(config)) assert.equal(hook.clientConfig.service?.namespace, target, hook.name);
      }
      const manager = podSpecOf(onlyOne(generated, "Deployment")).containers[0] as Container;
      assert.ok(argsInPod(manager, target).includes(`--maas-credentials-secret=${target}/capmaas-manager-credentials`), "the manager reads the Secret clusterctl put beside it");
      const binding = onlyOne(generated, "ClusterRoleBinding") as K8sObject & { subjects: { namespace: string }[] };
      assert.deepEqual(binding.subjects.map((s) => s.namespace), [target]);
      await dryRun(result.stdout);
    });

    it("clusterctl lists MAAS_ENDPOINT and MAAS_API_KEY as the variables to set, our image as the only image, and refuses without them", async () => {
      const described = await runClusterctl(["generate", "provider", "--infrastructure", `maas:${version}`, "--config", clusterctlConfig, "--describe"]);
      assert.equal(described.code, 0, described.stderr);
      const variables = /Variables:\n((?: {2}- .*\n)*)/.exec(described.stdout)?.[1] ?? "";
      assert.deepEqual(variables.trim().split("\n").map((l) => l.replace(/^\s*- /, "")), ["MAAS_API_KEY", "MAAS_ENDPOINT"]);
      assert.match(described.stdout, new RegExp(`Images:\\n {2}- ghcr\\.io/capmaas/capmaas-manager:${version.replace(/\./g, "\\.")}\\n`));
      const refused = await runClusterctl(["generate", "provider", "--infrastructure", `maas:${version}`, "--config", clusterctlConfig]);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /MAAS_API_KEY, MAAS_ENDPOINT\] is not set/);
    });
  });
});
