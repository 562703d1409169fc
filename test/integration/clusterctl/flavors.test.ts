// The clusterctl flavors in templates/, rendered by the real clusterctl with the
// variables of the ephemeral deployment spec and checked by the real API server (our
// CRDs and Cluster API's installed) in a server-side dry run: every object is accepted,
// the references between them resolve, and ephemeral is true exactly where the flavor
// says.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { useSharedTestEnv, type TestEnvHandle } from "../../testenv/index.ts";
import { ClusterctlSandbox, SPEC_COMMAND, SPEC_EXPORTS, SPEC_VARIABLES, at, findObject, parseObjects, type Flavor, type GeneratedObject } from "./clusterctl-harness.ts";
import { docPath } from "./docs-table.ts";

const execFileAsync = promisify(execFile);
const ENDPOINT = { CONTROL_PLANE_ENDPOINT_HOST: "10.20.0.10" };

/** Where each machine-template flavor puts its machines. */
const EXPECTED_EPHEMERAL: Record<Exclude<Flavor, "topology">, { controlPlane: boolean; workers: boolean }> = {
  disk: { controlPlane: false, workers: false },
  ephemeral: { controlPlane: true, workers: true },
  hybrid: { controlPlane: true, workers: false },
  endpoint: { controlPlane: false, workers: false },
};
const MACHINE_FLAVORS = Object.keys(EXPECTED_EPHEMERAL) as (keyof typeof EXPECTED_EPHEMERAL)[];

interface Rendered {
  objects: GeneratedObject[];
  cluster: GeneratedObject;
  maasCluster: GeneratedObject;
  kcp: GeneratedObject;
  md: GeneratedObject;
  controlPlaneTemplate: GeneratedObject;
  workerTemplate: GeneratedObject;
  workerBootstrap: GeneratedObject;
}

/** Follows the references the way Cluster API does, so a wrong name fails here. */
function resolve(objects: GeneratedObject[]): Rendered {
  const cluster = findObject(objects, "Cluster");
  const refName = (ref: unknown, kind: string, apiGroup: string): string => {
    assert.equal(at(ref, "kind"), kind);
    assert.equal(at(ref, "apiGroup"), apiGroup);
    return String(at(ref, "name"));
  };
  const infra = "infrastructure.cluster.x-k8s.io";
  const maasCluster = findObject(objects, "MaasCluster", refName(at(cluster, "spec", "infrastructureRef"), "MaasCluster", infra));
  const kcp = findObject(objects, "KubeadmControlPlane", refName(at(cluster, "spec", "controlPlaneRef"), "KubeadmControlPlane", "controlplane.cluster.x-k8s.io"));
  const md = findObject(objects, "MachineDeployment");
  return {
    objects,
    cluster,
    maasCluster,
    kcp,
    md,
    controlPlaneTemplate: findObject(objects, "MaasMachineTemplate", refName(at(kcp, "spec", "machineTemplate", "spec", "infrastructureRef"), "MaasMachineTemplate", infra)),
    workerTemplate: findObject(objects, "MaasMachineTemplate", refName(at(md, "spec", "template", "spec", "infrastructureRef"), "MaasMachineTemplate", infra)),
    workerBootstrap: findObject(objects, "KubeadmConfigTemplate", refName(at(md, "spec", "template", "spec", "bootstrap", "configRef"), "KubeadmConfigTemplate", "bootstrap.cluster.x-k8s.io")),
  };
}

describe("clusterctl generate cluster with the spec's variables", () => {
  let env: TestEnvHandle;
  let sandbox: ClusterctlSandbox;
  before(async () => {
    env = await useSharedTestEnv();
    sandbox = await ClusterctlSandbox.create();
  });
  after(async () => {
    await sandbox.remove();
    await env.stop();
  });

  async function render(flavor: Flavor, variables: Record<string, string> = { ...SPEC_VARIABLES, ...ENDPOINT }): Promise<{ text: string; rendered: Rendered }> {
    const result = await sandbox.generate(flavor, variables, { name: "ephemeral-cluster", namespace: "default" });
    assert.equal(result.code, 0, result.stderr);
    return { text: result.stdout, rendered: resolve(parseObjects(result.stdout)) };
  }

  for (const flavor of MACHINE_FLAVORS) {
    describe(`the ${flavor} flavor`, () => {
      it("is accepted by the API server in a server-side dry run, every object", async () => {
        const { text, rendered } = await render(flavor);
        const applied = await env.kubectl(["apply", "--dry-run=server", "-f", "-"], { input: text });
        assert.equal(applied.code, 0, applied.stderr);
        const created = applied.stdout.split("\n").filter((line) => line.endsWith(" created (server dry run)"));
        assert.equal(created.length, rendered.objects.length, applied.stdout);
        assert.deepEqual(rendered.objects.map((o) => o.kind).sort(), [
          "Cluster", "KubeadmConfigTemplate", "KubeadmControlPlane", "MaasCluster", "MaasMachineTemplate", "MaasMachineTemplate", "MachineDeployment",
        ]);
        for (const object of rendered.objects) assert.equal(object.metadata.namespace, "default", `${object.kind}/${object.metadata.name}`);
      });

      it(`puts the control plane ${EXPECTED_EPHEMERAL[flavor].controlPlane ? "in memory" : "on disk"} and the workers ${EXPECTED_EPHEMERAL[flavor].workers ? "in memory" : "on disk"}`, async () => {
        const { rendered } = await render(flavor);
        assert.equal(at(rendered.controlPlaneTemplate, "spec", "template", "spec", "ephemeral"), EXPECTED_EPHEMERAL[flavor].controlPlane);
        assert.equal(at(rendered.workerTemplate, "spec", "template", "spec", "ephemeral"), EXPECTED_EPHEMERAL[flavor].workers);
      });

      it("takes machine sizes, images, pools, tags, counts and the DNS domain from the variables (4096 MiB stays 4096 MiB)", async () => {
        const { rendered } = await render(flavor);
        assert.deepEqual(at(rendered.controlPlaneTemplate, "spec", "template", "spec"), {
          minCPU: 2, minMemory: 4096, image: "ubuntu/focal", resourcePool: "default", tags: ["control-plane"], ephemeral: EXPECTED_EPHEMERAL[flavor].controlPlane,
        });
        assert.deepEqual(at(rendered.workerTemplate, "spec", "template", "spec"), {
          minCPU: 2, minMemory: 4096, image: "ubuntu/focal", resourcePool: "default", tags: ["worker"], ephemeral: EXPECTED_EPHEMERAL[flavor].workers,
        });
        assert.equal(at(rendered.kcp, "spec", "replicas"), 1);
        assert.equal(at(rendered.md, "spec", "replicas"), 2);
        assert.equal(at(rendered.kcp, "spec", "version"), "v1.28.0");
        assert.equal(at(rendered.md, "spec", "template", "spec", "version"), "v1.28.0");
        assert.equal(at(rendered.maasCluster, "spec", "dnsDomain"), "example.com");
        assert.deepEqual(
          at(rendered.maasCluster, "spec", "controlPlaneEndpoint"),
          flavor === "endpoint" ? { host: "10.20.0.10", port: 6443 } : undefined,
        );
      });
    });
  }

  it("differ from the disk flavor only in ephemeral and, for endpoint, the control-plane endpoint", async () => {
    const normalise = (rendered: Rendered): GeneratedObject[] =>
      rendered.objects.map((object) => {
        const copy = structuredClone(object);
        if (copy.kind === "MaasMachineTemplate") delete (at(copy, "spec", "template", "spec") as Record<string, unknown>).ephemeral;
        if (copy.kind === "MaasCluster") delete (copy.spec as Record<string, unknown>).controlPlaneEndpoint;
        return copy;
      });
    const disk = normalise((await render("disk")).rendered);
    for (const flavor of ["ephemeral", "hybrid", "endpoint"] as const) {
      assert.deepEqual(normalise((await render(flavor)).rendered), disk, flavor);
    }
  });

  it("set the endpoint port from CONTROL_PLANE_ENDPOINT_PORT when it is given", async () => {
    const { rendered } = await render("endpoint", { ...SPEC_VARIABLES, ...ENDPOINT, CONTROL_PLANE_ENDPOINT_PORT: "8443" });
    assert.deepEqual(at(rendered.maasCluster, "spec", "controlPlaneEndpoint"), { host: "10.20.0.10", port: 8443 });
  });

  it("install Kubernetes of KUBERNETES_VERSION with one valid sh script, the same on control plane and workers", async () => {
    const { rendered } = await render("ephemeral");
    const kubeadmSpec = at(rendered.kcp, "spec", "kubeadmConfigSpec");
    const workerSpec = at(rendered.workerBootstrap, "spec", "template", "spec");
    for (const spec of [kubeadmSpec, workerSpec]) {
      assert.equal(at(spec, "format"), "cloud-config");
      assert.deepEqual(at(spec, "preKubeadmCommands"), ['/usr/local/sbin/capmaas-install-kubernetes "v1.28.0"']);
      assert.equal(at(spec, "joinConfiguration", "nodeRegistration", "name"), "{{ v1.local_hostname }}");
    }
    assert.equal(at(kubeadmSpec, "initConfiguration", "nodeRegistration", "name"), "{{ v1.local_hostname }}");
    const scripts = [kubeadmSpec, workerSpec].map((spec) => (at(spec, "files") as { path: string; content: string }[]).find((f) => f.path === "/usr/local/sbin/capmaas-install-kubernetes")?.content);
    assert.ok(scripts[0] !== undefined && scripts[0].startsWith("#!/bin/sh\n"));
    assert.equal(scripts[1], scripts[0]);
    const scriptPath = join(sandbox.dir, "install.sh");
    await writeFile(scriptPath, scripts[0]);
    await execFileAsync("/bin/sh", ["-n", scriptPath]);
  });

  it("are refused by the API server when a value breaks our CRD's schema (the dry run checks)", async () => {
    const { text } = await render("disk", { ...SPEC_VARIABLES, WORKER_MACHINE_MINMEMORY: "0" });
    const applied = await env.kubectl(["apply", "--dry-run=server", "-f", "-"], { input: text });
    assert.notEqual(applied.code, 0);
    assert.match(applied.stderr, /spec\.template\.spec\.minMemory/);
  });

  it("docs/clusterctl.md shows the spec's exports and command as this test runs them", async () => {
    const doc = await readFile(docPath, "utf8");
    assert.ok(doc.includes(`\`\`\`bash\n${SPEC_EXPORTS}\n\`\`\``), "the export list");
    assert.ok(doc.includes(`\`\`\`bash\n${SPEC_COMMAND}\n\`\`\``), "the generate command");
  });

  it("the spec's exports and command, run verbatim by bash, write a cluster the API server accepts", async () => {
    const result = await sandbox.bash(`set -e\n${SPEC_EXPORTS}\n${SPEC_COMMAND}\n`);
    assert.equal(result.code, 0, result.stderr);
    const written = await readFile(join(sandbox.dir, "ephemeral-cluster.yaml"), "utf8");
    const rendered = resolve(parseObjects(written));
    assert.equal(rendered.cluster.metadata.name, "ephemeral-cluster");
    assert.equal(at(rendered.controlPlaneTemplate, "spec", "template", "spec", "ephemeral"), true);
    assert.equal(at(rendered.workerTemplate, "spec", "template", "spec", "ephemeral"), true);
    const applied = await env.kubectl(["apply", "--dry-run=server", "-f", join(sandbox.dir, "ephemeral-cluster.yaml")]);
    assert.equal(applied.code, 0, applied.stderr);
  });
});
