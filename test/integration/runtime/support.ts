// Shared pieces of the runtime's integration tests: a private control plane with
// the Widget CRD, a client over our transport, namespaces, and polling.
import { setTimeout as sleep } from "node:timers/promises";
import { createLogger, type Logger } from "../../../src/observability/index.ts";
import { KubeClient, KubeTransport, type KindSpec } from "../../../src/runtime/index.ts";
import { CONFIG_MAP, WIDGET, WIDGET_CRD_DIR } from "../../fixtures/runtime/widget.ts";
import { startTestEnv, type TestEnv } from "../../testenv/index.ts";

export const NAMESPACE_KIND: KindSpec = { group: "", version: "v1", kind: "Namespace", plural: "namespaces", namespaced: false };

/** A private etcd + kube-apiserver with only the Widget CRD installed. */
export function startRuntimeEnv(): Promise<TestEnv> {
  return startTestEnv({ crdDirs: [WIDGET_CRD_DIR], log: () => undefined });
}

export function newClient(env: TestEnv, fieldManager = "runtime-test"): KubeClient {
  const transport = new KubeTransport({ kubeConfig: env.kubeConfig() });
  return new KubeClient({ transport, fieldManager, kinds: [WIDGET, CONFIG_MAP, NAMESPACE_KIND] });
}

export async function createNamespace(client: KubeClient, name: string): Promise<void> {
  await client.create(NAMESPACE_KIND, { metadata: { name } });
}

export const quietLogger: Logger = createLogger({ level: process.env.LOG_LEVEL ?? "silent" });

/** Polls `probe` until it returns something other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  options: { timeoutMs?: number; intervalMs?: number; message: string },
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const detail = lastError === undefined ? "" : ` (last error: ${String(lastError)})`;
      throw new Error(`timed out: ${options.message}${detail}`);
    }
    await sleep(options.intervalMs ?? 50);
  }
}
