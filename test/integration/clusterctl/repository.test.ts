// metadata.yaml and the templates as clusterctl reads them from a local provider
// repository (infrastructure-maas/<version>/, the layout a release writes), reached
// through the `providers:` override that docs/clusterctl.md shows, since clusterctl's
// built-in `maas` points at another project.
import assert from "node:assert/strict";
import { copyFile, mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse, stringify } from "yaml";
import { repoRoot } from "../../testenv/binaries.ts";
import { ClusterctlSandbox, FLAVORS, FLAVOR_FILES, SPEC_VARIABLES, parseObjects, templatesDir, type Flavor } from "./clusterctl-harness.ts";
import { docPath } from "./docs-table.ts";

interface Metadata {
  apiVersion: string;
  kind: string;
  releaseSeries: { major: number; minor: number; contract: string }[];
}

/** The `providers:` block of the doc's clusterctl.yaml example. */
async function docProvidersOverride(): Promise<{ name: string; type: string; url: string }[]> {
  const text = await readFile(docPath, "utf8");
  const block = /```yaml\n(providers:\n[\s\S]*?)```/.exec(text)?.[1];
  if (block === undefined) throw new Error(`${docPath}: no yaml block starting with providers:`);
  return (parse(block) as { providers: { name: string; type: string; url: string }[] }).providers;
}

describe("a local provider repository", () => {
  let sandbox: ClusterctlSandbox;
  let version: string;
  let releaseDir: string;
  const variables = { ...SPEC_VARIABLES, CONTROL_PLANE_ENDPOINT_HOST: "10.20.0.10" };

  before(async () => {
    const pkg = JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8")) as { version: string };
    version = `v${pkg.version}`;
    sandbox = await ClusterctlSandbox.create();
    releaseDir = join(sandbox.dir, "repository", "infrastructure-maas", version);
    await mkdir(releaseDir, { recursive: true });
    await copyFile(join(repoRoot, "metadata.yaml"), join(releaseDir, "metadata.yaml"));
    for (const file of await readdir(templatesDir)) await copyFile(join(templatesDir, file), join(releaseDir, file));
    // The components are another build's output; clusterctl needs one object to read them.
    await writeFile(join(releaseDir, "infrastructure-components.yaml"), stringify({
      apiVersion: "v1", kind: "Namespace", metadata: { name: "capmaas-system", labels: { "cluster.x-k8s.io/provider": "infrastructure-maas" } },
    }));
    const providers = (await docProvidersOverride()).map((p) => ({ ...p, url: join(releaseDir, "infrastructure-components.yaml") }));
    await writeFile(sandbox.configPath, stringify({ providers }));
  });
  after(() => sandbox.remove());

  it("metadata.yaml maps package.json's release series to the v1beta2 contract", async () => {
    const metadata = parse(await readFile(join(repoRoot, "metadata.yaml"), "utf8")) as Metadata;
    assert.equal(metadata.apiVersion, "clusterctl.cluster.x-k8s.io/v1alpha3");
    assert.equal(metadata.kind, "Metadata");
    const [major, minor] = version.slice(1).split(".").map(Number);
    assert.deepEqual(metadata.releaseSeries.find((s) => s.major === major && s.minor === minor), { major, minor, contract: "v1beta2" });
  });

  it("the doc's override replaces clusterctl's built-in maas provider", async () => {
    const result = await sandbox.clusterctlRun(["config", "repositories", "-o", "yaml"]);
    assert.equal(result.code, 0, result.stderr);
    // clusterctl prints its own field names here.
    const listed = (parse(result.stdout) as { Name: string; ProviderType: string; URL: string }[]).filter((p) => p.Name === "maas");
    assert.equal(listed.length, 1);
    assert.equal(listed[0]?.ProviderType, "InfrastructureProvider");
    assert.equal(listed[0]?.URL, `${releaseDir}/`);
  });

  it("clusterctl accepts metadata.yaml for this version (release series and contract) and reads the components", async () => {
    const result = await sandbox.clusterctlRun(["generate", "provider", "--infrastructure", `maas:${version}`]);
    assert.equal(result.code, 0, result.stderr);
    const objects = parseObjects(result.stdout);
    assert.deepEqual(objects.map((o) => `${o.kind}/${o.metadata.name}`), ["Namespace/capmaas-system"]);
  });

  for (const flavor of FLAVORS) {
    const flag = flavor === "disk" ? [] : ["--flavor", flavor];
    it(`--infrastructure maas:<version> ${flag.join(" ") || "(no --flavor)"} renders ${FLAVOR_FILES[flavor]}${flavor === "topology" ? " and adds the ClusterClass" : ""}`, async () => {
      const fromRepo = await sandbox.clusterctlRun(["generate", "cluster", "c1", "--infrastructure", `maas:${version}`, ...flag, "--target-namespace", "ns1"], { env: variables });
      assert.equal(fromRepo.code, 0, fromRepo.stderr);
      const fromFile = await sandbox.generate(flavor as Flavor, variables, { namespace: "ns1" });
      assert.equal(fromFile.code, 0, fromFile.stderr);
      const repoObjects = parseObjects(fromRepo.stdout);
      const fileObjects = parseObjects(fromFile.stdout);
      if (flavor === "topology") {
        // With no management cluster to look in, clusterctl adds clusterclass-maas.yaml.
        const kinds = repoObjects.map((o) => o.kind);
        assert.ok(kinds.includes("ClusterClass"), kinds.join(", "));
        assert.equal(repoObjects.find((o) => o.kind === "ClusterClass")?.metadata.namespace, "ns1");
        assert.deepEqual(repoObjects.filter((o) => o.kind === "Cluster"), fileObjects);
      } else {
        assert.deepEqual(repoObjects, fileObjects);
      }
    });
  }
});
