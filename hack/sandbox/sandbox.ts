// One local sandbox: control plane, MAAS simulator, Cluster API, the provider and an
// example cluster, started in that order; stop() undoes what was started, last first.
// Everything lives in one temporary directory that stop() removes (and the last-resort
// cleanup of test/testenv/children.ts removes too if this process dies before it can).
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { MAAS_MACHINE } from "../../src/api/v1beta1/index.ts";
import { CAPI_CLUSTER, CAPI_MACHINE, SECRET } from "../../src/capi/index.ts";
import { createLogger } from "../../src/observability/index.ts";
import { KubeClient, KubeTransport } from "../../src/runtime/index.ts";
import { startCapiManagers } from "../../test/testenv/capi-managers.ts";
import { disownDir, ownDir } from "../../test/testenv/children.ts";
import { startTestEnv, type TestEnv } from "../../test/testenv/index.ts";
import { pidsMentioning } from "../../test/testenv/pids.ts";
import { sandboxBinaries } from "./binaries.ts";
import { clusterctlVariables, generateCluster, prepareDocuments, templatePath, toYaml, type ExampleClusterSpec } from "./example-cluster.ts";
import type { Observation } from "./live-view.ts";
import { SANDBOX_MAAS_VERSION, startSandboxMaas } from "./maas.ts";
import type { SandboxOptions } from "./options.ts";
import { startProvider, type RunningProvider } from "./provider.ts";
import { managerServesWebhooks, webhookConfigurations, writeWebhookCertDir } from "./webhooks.ts";

export const CLUSTER_NAME = "sandbox";
export const CLUSTER_NAMESPACE = "default";

export interface RunningSandbox {
  dir: string;
  kubeconfigPath: string;
  maasEndpoint: string;
  maasApiKey: string;
  /** The simulator's DNS proxy (http://127.0.0.1:port): HTTPS_PROXY for whatever talks to a workload cluster by its MAAS DNS name. */
  dnsProxyUrl: string;
  /** The control plane's kubectl, which works for the workload cluster too. */
  kubectlPath: string;
  /** The example cluster; undefined with --no-cluster. */
  cluster: { namespace: string; name: string } | undefined;
  /** Every long-running process started, by name (the booted machines' come and go; sim.bootState() has them). */
  pids: { name: string; pid: number }[];
  webhooks: boolean;
  provider: RunningProvider;
  /** The example cluster's objects and the simulator's boot state, for the live view. */
  observe(): Promise<Observation>;
  /** The workload cluster's kubeconfig: the `<cluster>-kubeconfig` Secret Cluster API writes, key `value`. */
  workloadKubeconfig(): Promise<string>;
  stop(): Promise<void>;
}

/** Cleanups in start order; run last first, each one even when an earlier one failed. */
class Teardown {
  private readonly steps: { what: string; run: () => Promise<void> }[] = [];

  add(what: string, run: () => Promise<void>): void {
    this.steps.push({ what, run });
  }

  async run(log: (line: string) => void): Promise<void> {
    for (const step of this.steps.reverse()) {
      try {
        await step.run();
      } catch (err) {
        log(`stopping ${step.what} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    this.steps.length = 0;
  }
}

export async function startSandbox(options: SandboxOptions, log: (line: string) => void, abort: AbortSignal): Promise<RunningSandbox> {
  const teardown = new Teardown();
  const step = (): void => {
    if (abort.aborted) throw new Error("interrupted while starting");
  };
  const dir = await mkdtemp(join(tmpdir(), "capmaas-sandbox-"));
  ownDir(dir);
  teardown.add("the sandbox directory", async () => {
    await rm(dir, { recursive: true, force: true, maxRetries: 5 });
    disownDir(dir);
  });
  try {
    const binaries = await sandboxBinaries(log);
    step();
    const template = options.createCluster ? templatePath(options) : undefined;
    const env: TestEnv = await startTestEnv({ dir: join(dir, "control-plane"), log: (line) => log(`control plane: ${line}`) });
    teardown.add("the control plane", () => env.stop());
    step();

    const simLog = createWriteStream(join(dir, "maas-sim.log"), { flags: "a" });
    teardown.add("the simulator log", () => new Promise((resolve) => simLog.end(resolve)));
    const sim = await startSandboxMaas(options, { binDir: binaries.binDir, dir: join(dir, "boot") }, createLogger({ name: "maas-sim", level: "info", destination: simLog }));
    teardown.add("the MAAS simulator and its booted machines", () => sim.close());
    const dnsProxyUrl = sim.dnsProxyUrl ?? "";
    log(`MAAS simulator: ${String(options.machines)} machines of ${String(options.machineMemoryGiB)} GiB on ${sim.state().subnet.cidr}, MAAS ${SANDBOX_MAAS_VERSION}, deploys take ${String(options.deploySeconds)} s; deployed machines boot (logs: boot/machines/*/log/)`);
    step();

    // Cluster API and the provider reach a workload cluster by its MAAS DNS name, which only the simulator's DNS proxy resolves.
    // Loopback addresses (the management API server) are never proxied, so NO_PROXY needs nothing.
    const proxyEnv = { HTTPS_PROXY: dnsProxyUrl, NO_PROXY: "" };
    const capi = await startCapiManagers({ kubeconfigPath: env.kubeconfigPath, managers: ["core", "kubeadm-bootstrap", "kubeadm-control-plane"], env: proxyEnv });
    teardown.add("the Cluster API managers", () => capi.stop());
    step();

    const caPem = await readFile(join(env.dir, "ca.crt"), "utf8");
    const webhooks = managerServesWebhooks();
    const certDir = join(dir, "webhook-certs");
    if (webhooks) await writeWebhookCertDir(env.dir, certDir);
    const provider = await startProvider({
      dir,
      kubeconfigPath: env.kubeconfigPath,
      maasEndpoint: sim.endpoint,
      maasApiKey: sim.apiKey,
      env: proxyEnv,
      ...(webhooks ? { webhook: { certDir, caPem } } : {}),
    });
    teardown.add("capmaas-manager", async () => {
      await provider.child.stop(15_000);
    });
    log(`capmaas-manager ready${webhooks ? `, webhooks on https://127.0.0.1:${String(provider.webhookPort)}` : " (this manager has no webhooks)"}`);
    step();

    if (provider.webhookPort !== undefined) {
      await apply(env, webhookConfigurations(provider.webhookPort, caPem).map((d) => JSON.stringify(d)).join("\n"), "the webhook configurations");
    }
    const spec: ExampleClusterSpec = {
      name: CLUSTER_NAME,
      namespace: CLUSTER_NAMESPACE,
      kubernetesVersion: binaries.versions.kubernetes,
      maasEndpoint: sim.endpoint,
      maasApiKey: sim.apiKey,
    };
    if (template !== undefined) {
      const generated = await generateCluster({
        clusterctl: binaries.capi.clusterctl, template, kubeconfigPath: env.kubeconfigPath, dir,
        variables: clusterctlVariables(spec, options), spec, sandbox: options,
      });
      const manifest = toYaml(prepareDocuments(generated));
      await writeFile(join(dir, "cluster.yaml"), manifest, { mode: 0o600 });
      await apply(env, manifest, `the example cluster from ${basename(template)}`);
      log(`example cluster ${spec.namespace}/${spec.name} applied: clusterctl generate cluster --from ${options.template} (manifest: ${join(dir, "cluster.yaml")})`);
    }

    const client = new KubeClient({ transport: new KubeTransport({ kubeConfig: env.kubeConfig() }), fieldManager: "capmaas-sandbox" });
    for (const kind of [MAAS_MACHINE, CAPI_MACHINE, CAPI_CLUSTER, SECRET]) client.registerKind(kind);
    const namespace = CLUSTER_NAMESPACE;
    const known = new Map<number, string>([[env.etcdPid, "etcd"], [env.apiServerPid, "kube-apiserver"], [provider.child.pid, "capmaas-manager"]]);
    // The Cluster API managers' pids are not handed out by their starter; each has our kubeconfig on its command line.
    for (const pid of pidsMentioning(env.kubeconfigPath)) if (!known.has(pid)) known.set(pid, await commandName(pid));
    let stopping: Promise<void> | undefined;
    return {
      dir,
      kubeconfigPath: env.kubeconfigPath,
      maasEndpoint: sim.endpoint,
      maasApiKey: sim.apiKey,
      dnsProxyUrl,
      kubectlPath: binaries.kubectl,
      cluster: template === undefined ? undefined : { namespace, name: CLUSTER_NAME },
      pids: [...known].map(([pid, name]) => ({ name, pid })),
      webhooks: provider.webhookPort !== undefined,
      provider,
      observe: async () => {
        const [maasMachines, machines, cluster] = await Promise.all([
          client.list(MAAS_MACHINE, { namespace }),
          client.list(CAPI_MACHINE, { namespace }),
          template === undefined ? undefined : client.get(CAPI_CLUSTER, { namespace, name: CLUSTER_NAME }).catch(() => undefined),
        ]);
        return { maasMachines: maasMachines.items, machines: machines.items, cluster, boot: sim.bootState() };
      },
      workloadKubeconfig: async () => {
        const secret = await client.get(SECRET, { namespace, name: `${CLUSTER_NAME}-kubeconfig` });
        return Buffer.from(secret.data?.value ?? "", "base64").toString("utf8");
      },
      stop: () => (stopping ??= teardown.run(log)),
    };
  } catch (err) {
    await teardown.run(log);
    throw err;
  }
}

async function apply(env: TestEnv, manifest: string, what: string): Promise<void> {
  const result = await env.kubectl(["apply", "-f", "-"], { input: manifest });
  if (result.code !== 0) throw new Error(`kubectl apply of ${what} failed: ${result.stderr.trim() || result.stdout.trim()}`);
}

async function commandName(pid: number): Promise<string> {
  const cmdline = await readFile(`/proc/${String(pid)}/cmdline`, "utf8").catch(() => "");
  return basename(cmdline.split("\0")[0] ?? "") || "process";
}
