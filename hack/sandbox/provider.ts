// The provider's manager in the sandbox: bin/capmaas-manager.mjs as users run it, a
// child stopped by pid, ready once /readyz answers (and the webhook server, when it
// serves webhooks, answers on its own port with the sandbox CA's certificate).
import { readFile } from "node:fs/promises";
import { Agent, request } from "node:https";
import { join } from "node:path";
import { Child } from "../../test/testenv/children.ts";
import { repoRoot } from "../../test/testenv/binaries.ts";
import { freePorts } from "../../test/testenv/ports.ts";

export interface ProviderOptions {
  dir: string;
  kubeconfigPath: string;
  maasEndpoint: string;
  maasApiKey: string;
  /** Serve webhooks on a free port from this certificate directory; undefined: --webhook-port 0 is not passed (older managers lack the flag). */
  webhook?: { certDir: string; caPem: string };
  /** Added to the manager's environment, e.g. HTTPS_PROXY to reach workload clusters by their MAAS DNS names. */
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

export interface RunningProvider {
  child: Child;
  webhookPort: number | undefined;
  logPath: string;
}

export async function startProvider(options: ProviderOptions): Promise<RunningProvider> {
  const [probePort, webhookPort] = await freePorts(2);
  const logPath = join(options.dir, "capmaas-manager.log");
  const child = new Child({
    name: "capmaas-manager",
    command: process.execPath,
    args: [
      join(repoRoot, "bin", "capmaas-manager.mjs"),
      `--kubeconfig=${options.kubeconfigPath}`,
      `--health-probe-bind-address=127.0.0.1:${String(probePort)}`,
      "--metrics-bind-address=0",
      ...(options.webhook === undefined ? [] : [`--webhook-port=${String(webhookPort)}`, `--webhook-cert-dir=${options.webhook.certDir}`]),
    ],
    logPath,
    env: { ...options.env, MAAS_ENDPOINT: options.maasEndpoint, MAAS_API_KEY: options.maasApiKey },
  });
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  try {
    await until("capmaas-manager /readyz", deadline, child, logPath, async () => (await httpStatus(`http://127.0.0.1:${String(probePort)}/readyz`)) === 200);
    if (options.webhook !== undefined) {
      const ca = options.webhook.caPem;
      await until("the manager's webhook server", deadline, child, logPath, async () => (await httpsStatus(webhookPort ?? 0, ca)) === 200);
    }
  } catch (err) {
    await child.kill();
    throw err;
  }
  return { child, webhookPort: options.webhook === undefined ? undefined : webhookPort, logPath };
}

async function until(what: string, deadline: number, child: Child, logPath: string, check: () => Promise<boolean>): Promise<void> {
  for (;;) {
    if (child.hasExited) {
      const log = await readFile(logPath, "utf8").catch(() => "");
      throw new Error(`capmaas-manager exited before ${what} answered:\n${log.split("\n").slice(-20).join("\n")}`);
    }
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (log: ${logPath})`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function httpStatus(url: string): Promise<number | undefined> {
  const answer = await fetch(url).catch(() => undefined);
  return answer?.status;
}

function httpsStatus(port: number, ca: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: "/readyz", agent: new Agent({ ca }), timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.once("error", () => resolve(undefined));
    req.once("timeout", () => req.destroy());
    req.end();
  });
}
