// Writes config/crd/ from the API schemas in src/api/v1beta1 (`make generate`).
// With --check it writes nothing and exits 1 listing stale files (`make verify`).
// --root DIR works on another checkout's config/crd (the generator's own tests use a copy).
import { mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  CRD_BASES_DIR,
  CRD_KUSTOMIZATION_PATH,
  diffCrdFiles,
  generateCrdFiles,
  isGeneratedCrdPath,
} from "../src/api/v1beta1/crd-files.ts";

const { values: flags } = parseArgs({ options: { check: { type: "boolean", default: false }, root: { type: "string" } } });
const root = flags.root === undefined ? join(dirname(fileURLToPath(import.meta.url)), "..") : resolve(flags.root);

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(join(root, path), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

async function filesOnDisk(): Promise<Map<string, string>> {
  const onDisk = new Map<string, string>();
  let names: string[] = [];
  try {
    names = await readdir(join(root, CRD_BASES_DIR));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  for (const path of names.map((name) => `${CRD_BASES_DIR}/${name}`).filter(isGeneratedCrdPath)) {
    onDisk.set(path, await readFile(join(root, path), "utf8"));
  }
  const kustomization = await readIfExists(CRD_KUSTOMIZATION_PATH);
  if (kustomization !== undefined) onDisk.set(CRD_KUSTOMIZATION_PATH, kustomization);
  return onDisk;
}

async function main(): Promise<number> {
  const check = flags.check;
  const generated = generateCrdFiles();
  const { changed, extra } = diffCrdFiles(generated, await filesOnDisk());

  if (check) {
    if (changed.length === 0 && extra.length === 0) return 0;
    console.error("Generated CRD files are stale; run `make generate` and commit the result:");
    for (const path of changed) console.error(`  out of date: ${path}`);
    for (const path of extra) console.error(`  no longer generated: ${path}`);
    return 1;
  }

  for (const path of changed) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), generated.get(path) ?? "", "utf8");
    console.log(`wrote ${path}`);
  }
  for (const path of extra) {
    await rm(join(root, path));
    console.log(`removed ${path}`);
  }
  if (changed.length === 0 && extra.length === 0) console.log("CRD files are up to date");
  return 0;
}

process.exitCode = await main();
