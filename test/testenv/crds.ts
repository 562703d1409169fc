// Installs CustomResourceDefinitions from directories of YAML, the way
// `kubectl apply --server-side` would, and waits until every one is
// Established, so a test can create custom resources right away.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseAllDocuments } from "yaml";
import { apiRequest } from "./api-request.ts";
import type { ApiTarget } from "./api-request.ts";

const crdPath = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";

interface CrdDocument {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string };
}

interface CrdList {
  items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[];
}

export async function readCrds(dirs: string[]): Promise<{ name: string; source: string; doc: CrdDocument }[]> {
  const crds: { name: string; source: string; doc: CrdDocument }[] = [];
  for (const dir of dirs) {
    const files = (await readdir(dir)).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
    for (const file of files) {
      const source = join(dir, file);
      for (const parsed of parseAllDocuments(await readFile(source, "utf8"))) {
        if (parsed.errors.length > 0) throw new Error(`${source}: ${parsed.errors[0]?.message ?? "invalid YAML"}`);
        const doc = parsed.toJS() as CrdDocument | null;
        // Kustomization files and the like share these folders; only CRDs are ours to apply.
        if (doc?.kind !== "CustomResourceDefinition") continue;
        const name = doc.metadata?.name;
        if (!name) throw new Error(`${source}: a CustomResourceDefinition without metadata.name`);
        crds.push({ name, source, doc });
      }
    }
  }
  return crds;
}

export async function installCrds(target: ApiTarget, dirs: string[], timeoutMs = 60_000): Promise<string[]> {
  const crds = await readCrds(dirs);
  await Promise.all(
    crds.map(async ({ name, source, doc }) => {
      const res = await apiRequest(target, "PATCH", `${crdPath}/${name}?fieldManager=testenv&force=true`, {
        contentType: "application/apply-patch+yaml",
        data: JSON.stringify(doc),
      });
      if (res.status >= 300) throw new Error(`applying ${name} from ${source}: HTTP ${res.status}: ${res.body.slice(0, 500)}`);
    }),
  );
  await waitEstablished(target, crds.map((c) => c.name), timeoutMs);
  return crds.map((c) => c.name);
}

async function waitEstablished(target: ApiTarget, names: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let pending = new Set(names);
  while (pending.size > 0) {
    const res = await apiRequest(target, "GET", crdPath);
    if (res.status !== 200) throw new Error(`listing CRDs: HTTP ${res.status}: ${res.body.slice(0, 500)}`);
    const established = new Set(
      (JSON.parse(res.body) as CrdList).items
        .filter((crd) => crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True"))
        .map((crd) => crd.metadata.name),
    );
    pending = new Set([...pending].filter((name) => !established.has(name)));
    if (pending.size === 0) return;
    if (Date.now() > deadline) throw new Error(`CRDs not Established after ${timeoutMs} ms: ${[...pending].join(", ")}`);
    await sleep(50);
  }
}
