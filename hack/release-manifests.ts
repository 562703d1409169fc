// Writes a clusterctl provider repository for one version (`make release-manifests`):
//   <out>/infrastructure-maas/<version>/infrastructure-components.yaml   config/default, rendered by kubectl kustomize
//   <out>/infrastructure-maas/<version>/metadata.yaml                    copied from metadata.yaml
//   <out>/infrastructure-maas/<version>/cluster-template*.yaml, clusterclass-*.yaml   copied from templates/
// clusterctl reads that layout as a local repository (docs/release.md). kubectl is the one
// hack/testenv/build.sh builds, so the kustomize that renders is pinned with it.
//
//   node --import tsx hack/release-manifests.ts [--version vX.Y.Z] [--out DIR] [--metadata FILE]
//                                               [--image REPOSITORY] [--kubectl FILE]
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { copyFile, mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { Document, Scalar, parseAllDocuments, visit } from "yaml";

const execFileAsync = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const PROVIDER_LABEL = "infrastructure-maas";
const DEFAULT_IMAGE = "ghcr.io/capmaas/capmaas-manager";
const NAMESPACE = "capmaas-system";
// What clusterctl accepts as a local repository's version folder: a semantic version with a v.
const SEMVER = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;
const TEMPLATE_FILE = /^(cluster-template(-[a-z0-9-]+)?|clusterclass-[a-z0-9-]+)\.yaml$/;

class UsageError extends Error {}

interface Options {
  version: string;
  outDir: string;
  metadataPath: string;
  image: string;
  kubectl: string;
}

async function parseOptions(): Promise<Options> {
  let values: Partial<Record<"version" | "out" | "metadata" | "image" | "kubectl", string>>;
  try {
    ({ values } = parseArgs({
      options: {
        version: { type: "string" },
        out: { type: "string" },
        metadata: { type: "string" },
        image: { type: "string" },
        kubectl: { type: "string" },
      },
    }));
  } catch (err) {
    throw new UsageError(`${err instanceof Error ? err.message : String(err)}; flags: --version --out --metadata --image --kubectl`);
  }
  const version = values.version ?? `v${await packageVersion()}`;
  if (!SEMVER.test(version)) {
    throw new UsageError(`--version ${JSON.stringify(version)}: expected a semantic version with a leading v, e.g. --version v0.1.0`);
  }
  const image = values.image ?? DEFAULT_IMAGE;
  // A tag would be doubled (the version is the tag); a digest cannot follow a tag.
  if (image === "" || /[@\s]/.test(image) || /:[^/]*$/.test(image)) {
    throw new UsageError(`--image ${JSON.stringify(image)}: expected an image repository without tag or digest, e.g. --image ${DEFAULT_IMAGE}`);
  }
  return {
    version,
    outDir: resolve(values.out ?? join(root, "out")),
    metadataPath: resolve(values.metadata ?? join(root, "metadata.yaml")),
    image,
    kubectl: values.kubectl ?? testenvKubectl(),
  };
}

async function packageVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as { version?: unknown };
  if (typeof pkg.version !== "string") throw new UsageError("package.json has no version; pass --version vX.Y.Z");
  return pkg.version;
}

/** The kubectl of the local control plane (hack/testenv/build.sh records where in current.json). */
function testenvKubectl(): string {
  const current = join(root, ".cache", "testenv", "current.json");
  const missing = `kubectl not found: run \`make testenv\` (it builds kubectl into .cache/testenv), or pass --kubectl FILE`;
  if (!existsSync(current)) throw new UsageError(missing);
  const { binDir } = JSON.parse(readFileSync(current, "utf8")) as { binDir?: unknown };
  const kubectl = typeof binDir === "string" ? join(binDir, "kubectl") : "";
  if (kubectl === "" || !existsSync(kubectl)) throw new UsageError(missing);
  return kubectl;
}

/**
 * config/default rendered, with the manager's image set to <repository>:<version>. Not a
 * clusterctl variable: clusterctl parses image references even when it does not
 * substitute variables (`generate provider --describe`), and refuses a `${...}` there;
 * users who mirror the image use clusterctl's own `images:` override instead.
 */
async function renderComponents(options: Options): Promise<string> {
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync(options.kubectl, ["kustomize", join(root, "config", "default")], { maxBuffer: 64 * 1024 * 1024 }));
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new Error(`${options.kubectl} kustomize config/default failed: ${stderr === undefined || stderr === "" ? String(err) : stderr}`);
  }
  const docs = parseAllDocuments(stdout);
  const objects: Record<string, unknown>[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new Error(`kubectl kustomize printed invalid YAML: ${doc.errors[0]?.message ?? ""}`);
    const obj = doc.toJS() as Record<string, unknown> | null;
    if (obj !== null) objects.push(obj);
  }
  const namespaces = objects.filter((o) => o.kind === "Namespace");
  if (namespaces.length !== 1) throw new Error(`config/default renders ${String(namespaces.length)} Namespace objects; clusterctl needs exactly one (${NAMESPACE})`);
  let images = 0;
  for (const obj of objects) {
    if (obj.kind !== "Deployment") continue;
    const containers = ((obj.spec as { template?: { spec?: { containers?: { name?: string; image?: string }[] } } } | undefined)?.template?.spec?.containers) ?? [];
    for (const container of containers) {
      if (container.name !== "manager") continue;
      container.image = `${options.image}:${options.version}`;
      images++;
    }
  }
  if (images !== 1) throw new Error(`config/default renders ${String(images)} containers named manager; expected exactly one`);
  return objects.map((o) => `---\n${toYaml(o)}`).join("");
}

/**
 * One object as YAML, with every clusterctl variable double-quoted: after substitution
 * the value stays a string whatever it holds (a key with ": ", a port-only number).
 */
function toYaml(obj: Record<string, unknown>): string {
  const doc = new Document(obj);
  visit(doc, {
    Scalar(_key, node: Scalar) {
      if (typeof node.value === "string" && node.value.includes("${")) node.type = Scalar.QUOTE_DOUBLE;
    },
  });
  return doc.toString({ lineWidth: 0 });
}

async function copyTemplates(versionDir: string): Promise<string[]> {
  const dir = join(root, "templates");
  if (!existsSync(dir)) {
    console.error("templates/ does not exist: the release has no cluster templates");
    return [];
  }
  const names = (await readdir(dir)).filter((n) => TEMPLATE_FILE.test(n)).sort();
  for (const name of names) await copyFile(join(dir, name), join(versionDir, name));
  return names;
}

async function main(): Promise<number> {
  let options: Options;
  try {
    options = await parseOptions();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`release-manifests: ${err.message}`);
    return 2;
  }
  if (!existsSync(options.metadataPath)) {
    console.error(`release-manifests: ${options.metadataPath} does not exist: write the clusterctl Metadata (release series → contract) there, or pass --metadata FILE`);
    return 2;
  }
  let components: string;
  try {
    components = await renderComponents(options);
  } catch (err) {
    console.error(`release-manifests: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  const versionDir = join(options.outDir, PROVIDER_LABEL, options.version);
  // A fresh folder: a template removed from templates/ must not linger in the release.
  await rm(versionDir, { recursive: true, force: true });
  await mkdir(versionDir, { recursive: true });
  await writeFile(join(versionDir, "infrastructure-components.yaml"), components, "utf8");
  await copyFile(options.metadataPath, join(versionDir, "metadata.yaml"));
  const templates = await copyTemplates(versionDir);
  for (const name of ["infrastructure-components.yaml", "metadata.yaml", ...templates]) console.log(join(versionDir, name));
  return 0;
}

process.exitCode = await main();
