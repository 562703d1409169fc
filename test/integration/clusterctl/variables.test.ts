// What each flavor asks for, as the real clusterctl sees it, against the variables table
// of docs/clusterctl.md (parsed here, so the doc and the templates cannot drift apart),
// and what clusterctl does when a required one is missing.
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ClusterctlSandbox, FLAVORS, FLAVOR_FILES, SPEC_VARIABLES, templatesDir } from "./clusterctl-harness.ts";
import { parseListVariables, readDocVariables, readmePath, type DocVariable } from "./docs-table.ts";

describe("the variables of each flavor", () => {
  let sandbox: ClusterctlSandbox;
  let doc: DocVariable[];
  before(async () => {
    sandbox = await ClusterctlSandbox.create();
    doc = await readDocVariables();
  });
  after(() => sandbox.remove());

  it("the README's table of template variables is docs/clusterctl.md's, row for row", async () => {
    assert.deepEqual(await readDocVariables(readmePath, "Template variables"), doc);
  });

  it("docs/clusterctl.md lists every flavor file in templates/", async () => {
    const files = (await readdir(templatesDir)).filter((f) => f.startsWith("cluster-template")).sort();
    assert.deepEqual(files, Object.values(FLAVOR_FILES).sort());
  });

  for (const flavor of FLAVORS) {
    it(`${flavor}: clusterctl --list-variables names exactly the doc's variables, required and defaults alike`, async () => {
      // No variable set: the listing then shows the templates' own defaults.
      const result = await sandbox.generate(flavor, {}, { name: "listed", namespace: "listed-ns", extraArgs: ["--list-variables"] });
      assert.equal(result.code, 0, result.stderr);
      const listed = parseListVariables(result.stdout);
      const expected = doc.filter((v) => v.flavors.includes(flavor));

      assert.deepEqual(
        [...listed.required, ...listed.optional.keys()].sort(),
        expected.map((v) => v.name).sort(),
        "variables in the template vs rows of the doc naming this flavor",
      );
      assert.deepEqual(listed.required.sort(), expected.filter((v) => v.default.kind === "required").map((v) => v.name).sort(), "required variables");
      for (const variable of expected) {
        if (variable.default.kind === "value") assert.equal(listed.optional.get(variable.name), variable.default.value, `default of ${variable.name}`);
      }
      // The two clusterctl fills in from its arguments.
      assert.equal(listed.optional.get("CLUSTER_NAME"), "listed");
      assert.equal(listed.optional.get("NAMESPACE"), "listed-ns");
    });
  }

  it("takes the spec's variables and nothing else, besides the endpoint's and topology's own", () => {
    const specNames = Object.keys(SPEC_VARIABLES).filter((name) => !name.startsWith("MAAS_"));
    const machineFlavorVariables = doc.filter((v) => v.flavors.includes("disk")).map((v) => v.name);
    assert.deepEqual(machineFlavorVariables.sort(), specNames.sort());
  });

  it("clusterctl answers without the version check, which would wait a minute on the blocked network", async () => {
    const started = Date.now();
    const result = await sandbox.clusterctlRun(["generate", "cluster", "c1", "--from", join(templatesDir, FLAVOR_FILES.disk), "--target-namespace", "default"], {
      env: SPEC_VARIABLES,
      timeoutMs: 15_000,
    });
    assert.equal(result.code, 0, `killed after ${String(Date.now() - started)} ms: ${result.stderr}`);
  });

  describe("when a required variable is not set", () => {
    for (const flavor of FLAVORS) {
      it(`${flavor}: clusterctl fails and names each one`, async () => {
        const required = doc.filter((v) => v.flavors.includes(flavor) && v.default.kind === "required").map((v) => v.name);
        assert.ok(required.length > 0);
        const all = { ...SPEC_VARIABLES, CONTROL_PLANE_ENDPOINT_HOST: "10.20.0.10" };
        for (const name of required) {
          const variables: Record<string, string> = { ...all };
          delete variables[name];
          const result = await sandbox.generate(flavor, variables);
          assert.notEqual(result.code, 0, `${name} unset`);
          assert.match(result.stderr, new RegExp(`value for variables \\[${name}\\] is not set`), result.stderr);
          assert.equal(result.stdout, "");
        }
        // And with all of them set it succeeds, so the failures above were each one's.
        assert.equal((await sandbox.generate(flavor, all)).code, 0);
      });
    }
  });
});
