// Installs CustomResourceDefinitions from directories of YAML, the way
// `kubectl apply --server-side` would, and waits until every one is
// Established, so a test can create custom resources right away.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { apiRequest, apiWatch } from "./api-request.ts";
import type { ApiTarget } from "./api-request.ts";

const crdPath = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";

interface CrdDocument {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: { group?: string };
}

/**
 * CAPI's release manifests label the kubeadm bootstrap and control-plane CRDs with the
 * contract versions they serve; kustomize adds the labels (bootstrap/kubeadm/config/crd
 * and controlplane/kubeadm/config/crd kustomization.yaml at v1.14), so the raw bases the
 * build copies lack them, and CAPI core refuses to follow a reference to such a kind.
 */
const KUSTOMIZE_CONTRACT_LABELS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  "bootstrap.cluster.x-k8s.io": { "cluster.x-k8s.io/v1beta1": "v1beta1", "cluster.x-k8s.io/v1beta2": "v1beta2" },
  "controlplane.cluster.x-k8s.io": { "cluster.x-k8s.io/v1beta1": "v1beta1", "cluster.x-k8s.io/v1beta2": "v1beta2" },
};

function withContractLabels(doc: CrdDocument): CrdDocument {
  const labels = KUSTOMIZE_CONTRACT_LABELS[doc.spec?.group ?? ""];
  if (labels === undefined) return doc;
  return { ...doc, metadata: { ...doc.metadata, labels: { ...labels, ...doc.metadata?.labels } } };
}

interface CrdItem {
  metadata: { name: string };
  status?: { conditions?: { type: string; status: string }[] };
}

interface CrdList {
  metadata: { resourceVersion: string };
  items: CrdItem[];
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
        crds.push({ name, source, doc: withContractLabels(doc) });
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
  // One list, then a watch from its resourceVersion: polling would re-read
  // megabytes of schemas while kube-apiserver is busy establishing them.
  const res = await apiRequest(target, "GET", crdPath);
  if (res.status !== 200) throw new Error(`listing CRDs: HTTP ${res.status}: ${res.body.slice(0, 500)}`);
  const list = JSON.parse(res.body) as CrdList;
  const pending = new Set(names);
  for (const crd of list.items) if (isEstablished(crd)) pending.delete(crd.metadata.name);
  if (pending.size === 0) return;
  const timeoutSeconds = Math.ceil(timeoutMs / 1000);
  const path = `${crdPath}?watch=1&resourceVersion=${list.metadata.resourceVersion}&timeoutSeconds=${String(timeoutSeconds)}`;
  await apiWatch(
    target,
    path,
    (event) => {
      const crd = event.object as CrdItem;
      if ((event.type === "ADDED" || event.type === "MODIFIED") && isEstablished(crd)) pending.delete(crd.metadata.name);
      return pending.size === 0;
    },
    timeoutMs,
  ).catch((err: unknown) => {
    throw new Error(`CRDs not Established: ${[...pending].join(", ")}`, { cause: err });
  });
}

function isEstablished(crd: CrdItem): boolean {
  return crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True") ?? false;
}
