// hack/generate-crds.ts as `make generate` and `make verify` run it, on a copy of config/crd.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CRD_KUSTOMIZATION_PATH, crdFilePath, crdSources, generateCrdFiles } from "./index.ts";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const script = join(repoRoot, "hack", "generate-crds.ts");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function generate(root: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", script, "--root", root, ...args], { cwd: repoRoot, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

describe("hack/generate-crds.ts", () => {
  let root: string;
  const machineCrd = crdFilePath(crdSources.find((s) => s.kind === "MaasMachine") ?? crdSources[0]!);
  const strayCrd = "config/crd/bases/infrastructure.cluster.x-k8s.io_maasretired.yaml";

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "generate-crds-"));
    await cp(join(repoRoot, "config", "crd"), join(root, "config", "crd"), { recursive: true });
  });

  after(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("--check passes on the committed files", async () => {
    const run = await generate(root, "--check");
    assert.equal(run.code, 0, run.stderr);
  });

  describe("--check fails, naming each stale file, and writes nothing", () => {
    // [situation, how the copy is made stale, the line --check must print]
    const cases: [string, () => Promise<void>, string][] = [
      ["a CRD edited by hand", () => writeFile(join(root, machineCrd), "# edited\n", { flag: "a" }), `out of date: ${machineCrd}`],
      ["a missing kustomization", () => unlink(join(root, CRD_KUSTOMIZATION_PATH)), `out of date: ${CRD_KUSTOMIZATION_PATH}`],
      ["a CRD of a kind no longer defined", () => writeFile(join(root, strayCrd), "kind: CustomResourceDefinition\n"), `no longer generated: ${strayCrd}`],
    ];
    for (const [situation, makeStale, line] of cases) {
      it(situation, async () => {
        await makeStale();
        const before = await readFile(join(root, machineCrd), "utf8");
        const run = await generate(root, "--check");
        assert.equal(run.code, 1, run.stderr);
        assert.ok(run.stderr.includes(line), run.stderr);
        assert.match(run.stderr, /run `make generate`/);
        assert.equal(await readFile(join(root, machineCrd), "utf8"), before);
      });
    }
  });

  it("without --check rewrites stale files and removes ones no longer generated, after which --check passes", async () => {
    const run = await generate(root);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`removed ${strayCrd.replace(/\./g, "\\.")}`));
    for (const [path, text] of generateCrdFiles()) assert.equal(await readFile(join(root, path), "utf8"), text, path);
    await assert.rejects(readFile(join(root, strayCrd)), { code: "ENOENT" });
    assert.equal((await generate(root, "--check")).code, 0);
  });

  it("refuses an unknown flag rather than writing", async () => {
    const run = await generate(root, "--chek");
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /Unknown option '--chek'/);
  });
});
