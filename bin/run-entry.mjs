// Shared by the bin/ shims: run src/<entry>.ts through tsx when the sources are present
// (a checkout), else the compiled dist/<entry>.js (an installed package).
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

export async function runEntry(entry, { sourceOnly = false } = {}) {
  const source = join(root, "src", `${entry}.ts`);
  if (existsSync(source)) {
    const { register } = await import("tsx/esm/api");
    register();
    await import(pathToFileURL(source).href);
    return;
  }
  if (sourceOnly) {
    console.error(`${entry} runs from a source checkout only (missing ${source})`);
    process.exit(2);
  }
  await import(pathToFileURL(join(root, "dist", `${entry}.js`)).href);
}
