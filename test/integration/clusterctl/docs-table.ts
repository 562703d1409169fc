// Reads the variables table of docs/clusterctl.md, so the tests compare clusterctl's own
// view of each flavor with what the doc promises and the doc cannot drift.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { repoRoot } from "../../testenv/binaries.ts";
import { FLAVORS, type Flavor } from "./clusterctl-harness.ts";

export const docPath = join(repoRoot, "docs", "clusterctl.md");
export const readmePath = join(repoRoot, "README.md");

/** What the doc says of one variable's default. */
export type DocDefault =
  | { kind: "required" }
  | { kind: "value"; value: string }
  /** Filled in by clusterctl itself (the name argument, the target namespace). */
  | { kind: "clusterctl" };

export interface DocVariable {
  name: string;
  default: DocDefault;
  flavors: readonly Flavor[];
}

/** The rows of the table under "## <heading>" (docs/clusterctl.md's "Variables" by default). */
export async function readDocVariables(path = docPath, heading = "Variables"): Promise<DocVariable[]> {
  const text = await readFile(path, "utf8");
  const section = text.split(/^## /m).find((part) => part.startsWith(`${heading}\n`));
  if (section === undefined) throw new Error(`${path}: no "## ${heading}" section`);
  const rows = section.split("\n").filter((line) => line.startsWith("| `"));
  if (rows.length === 0) throw new Error(`${path}: the ${heading} section has no table rows`);
  return rows.map((row) => parseRow(row));
}

function parseRow(row: string): DocVariable {
  const cells = row.split("|").slice(1, -1).map((cell) => cell.trim());
  if (cells.length !== 4) throw new Error(`${docPath}: a variables row needs 4 cells (variable, meaning, default, flavors): ${row}`);
  const [nameCell = "", , defaultCell = "", flavorsCell = ""] = cells;
  const name = /^`([A-Z_]+)`$/.exec(nameCell)?.[1];
  if (name === undefined) throw new Error(`${docPath}: the variable cell must be one \`NAME\`: ${row}`);
  return { name, default: parseDefault(defaultCell), flavors: parseFlavors(flavorsCell, row) };
}

function parseDefault(cell: string): DocDefault {
  if (cell === "—") return { kind: "required" };
  const value = /^`([^`]*)`$/.exec(cell)?.[1];
  return value === undefined ? { kind: "clusterctl" } : { kind: "value", value };
}

function parseFlavors(cell: string, row: string): readonly Flavor[] {
  if (cell === "all") return FLAVORS;
  const names = cell.split(",").map((name) => name.trim());
  for (const name of names) {
    if (!(FLAVORS as readonly string[]).includes(name)) throw new Error(`${docPath}: unknown flavor ${JSON.stringify(name)} in ${row}`);
  }
  return names as Flavor[];
}

export interface ListedVariables {
  required: string[];
  /** Name → default as clusterctl prints it, without its quotes. */
  optional: Map<string, string>;
}

/** Parses `clusterctl generate cluster --list-variables` output. */
export function parseListVariables(stdout: string): ListedVariables {
  const required: string[] = [];
  const optional = new Map<string, string>();
  let section: "required" | "optional" | undefined;
  for (const line of stdout.split("\n")) {
    if (line.startsWith("Required Variables:")) section = "required";
    else if (line.startsWith("Optional Variables:")) section = "optional";
    else if (section === "required" && /^\s+- /.test(line)) required.push(line.replace(/^\s+- /, "").trim());
    else if (section === "optional" && /^\s+- /.test(line)) {
      const match = /^\s+- (\S+)\s+\(defaults to (.*)\)$/.exec(line);
      if (match === null) throw new Error(`unexpected --list-variables line: ${line}`);
      optional.set(match[1] ?? "", (match[2] ?? "").replace(/^"(.*)"$/, "$1"));
    }
  }
  return { required, optional };
}
