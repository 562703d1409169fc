// The manager as the container image runs it, without building an image: src/ compiled
// by tsc -p tsconfig.build.json into a fresh directory beside package.json and a
// node_modules holding only the production dependencies (what `npm ci --omit=dev` leaves,
// taken from package-lock.json), started as `node dist/cmd/manager.js` with no tsx and
// no sources in reach. A compiled file that needs a devDependency, a .ts import the build
// did not rewrite, or a path outside dist/ fails here before it fails in a cluster.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import ts from "typescript";
import { repoRoot } from "../../testenv/binaries.ts";

const execFileAsync = promisify(execFile);

interface PackageJson {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

interface PackageLock {
  packages: Record<string, { dev?: boolean }>;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/cmd/manager.js` in app/ the way the image's ENTRYPOINT does, with an environment of our own. */
async function runManager(app: string, home: string, args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, ["--enable-source-maps", "dist/cmd/manager.js", ...args], {
      cwd: app,
      // No KUBECONFIG, MAAS_* or NODE_OPTIONS (which could load tsx) from the caller.
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, NODE_ENV: "production" },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === "number" ? failed.code : -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

async function jsFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith(".js")).map((e) => join(e.parentPath, e.name));
}

/** Static and dynamic import specifiers of one compiled ES module, as TypeScript's scanner finds them (strings that merely contain "from" are not imports). */
function importSpecifiers(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
}

describe("the compiled manager with production dependencies only (the image's layout)", () => {
  let dir = "";
  let app = "";
  let home = "";
  let pkg: PackageJson;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "capmaas-dist-"));
    app = join(dir, "app");
    home = join(dir, "home");
    await mkdir(home, { recursive: true });
    const tsc = join(repoRoot, "node_modules", "typescript", "bin", "tsc");
    await execFileAsync(process.execPath, [tsc, "-p", join(repoRoot, "tsconfig.build.json"), "--outDir", join(app, "dist")], { cwd: repoRoot, timeout: 180_000 });
    const pkgText = await readFile(join(repoRoot, "package.json"), "utf8");
    pkg = JSON.parse(pkgText) as PackageJson;
    await writeFile(join(app, "package.json"), pkgText);
    // What `npm ci --omit=dev` installs: every lockfile entry not marked dev.
    const lock = JSON.parse(await readFile(join(repoRoot, "package-lock.json"), "utf8")) as PackageLock;
    const production = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== "" && entry.dev !== true && path.split("node_modules/").length === 2)
      .map(([path]) => path);
    assert.ok(production.length > 0, "package-lock.json lists production packages");
    await Promise.all(production.map((path) => cp(join(repoRoot, path), join(app, path), { recursive: true })));
  });

  after(async () => {
    if (dir !== "") await rm(dir, { recursive: true, force: true });
  });

  it("imports only Node built-ins, the package's dependencies and relative .js files inside dist/", async () => {
    const dependencies = new Set(Object.keys(pkg.dependencies ?? {}));
    const builtins = new Set(builtinModules);
    const problems: string[] = [];
    const packagesSeen = new Set<string>();
    const files = await jsFiles(join(app, "dist"));
    assert.ok(files.some((f) => f.endsWith(join("cmd", "manager.js"))), "dist/cmd/manager.js was built");
    for (const file of files) {
      const where = relative(app, file);
      for (const specifier of importSpecifiers(await readFile(file, "utf8"))) {
        if (specifier.startsWith(".")) {
          if (!specifier.endsWith(".js") && !specifier.endsWith(".json")) problems.push(`${where}: ${specifier} (not rewritten to .js)`);
          if (relative(join(app, "dist"), join(file, "..", specifier)).startsWith("..")) problems.push(`${where}: ${specifier} (outside dist/)`);
          continue;
        }
        if (specifier.startsWith("node:") || builtins.has(specifier)) continue;
        packagesSeen.add(packageName(specifier));
        if (!dependencies.has(packageName(specifier))) {
          const dev = pkg.devDependencies?.[packageName(specifier)] !== undefined;
          problems.push(`${where}: ${specifier} (${dev ? "a devDependency" : "not in package.json dependencies"})`);
        }
      }
    }
    assert.deepEqual(problems, []);
    // The scan saw the imports it checks: the manager stands on the Kubernetes client.
    assert.ok(packagesSeen.has("@kubernetes/client-node"), `packages seen: ${[...packagesSeen].join(", ")}`);
  });

  it("--help exits 0 and prints the usage", async () => {
    const run = await runManager(app, home, ["--help"]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Usage: capmaas-manager \[flags\]/);
    assert.match(run.stdout, /--kubeconfig FILE/);
  });

  it("with no settings exits 2 with one line naming what is missing", async () => {
    const run = await runManager(app, home, []);
    assert.equal(run.code, 2, `stdout: ${run.stdout}\nstderr: ${run.stderr}`);
    const lines = run.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0] ?? "", /^capmaas-manager: MAAS_ENDPOINT is not set: /);
  });
});
