// The boot stage: what a simulated MAAS machine does once it is Deployed and while it
// stays so. A deployed machine's cloud-init runs its user data (cloud-init.ts); when
// that runs `kubeadm init|join --config`, the machine becomes a node of a workload
// cluster (init.ts, join.ts) with real etcd and kube-apiserver processes bound to its
// address. Powering it off stops them and, through another live API server of its
// cluster, marks its Node unreachable as the node-lifecycle controller would; a disk
// machine powered on again restarts them from its disk, an in-memory one has lost
// everything (MAAS boots it from the network again: a new deployment). A release
// stops it and deletes its files. Each machine's events run one after the other; a
// shutdown aborts a boot in progress.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../../observability/index.ts";
import type { MachineObserver, StopReason } from "../lifecycle.ts";
import { resolveMaasName } from "../dns-names.ts";
import { fqdnOf, type Store } from "../store.ts";
import type { SimMachine } from "../types.ts";
import { BootError, type BootContext, type BootMachine } from "./boot-context.ts";
import { CloudInitError, readUserData } from "./cloud-init.ts";
import { ClusterRegistry } from "./clusters.ts";
import { startApiServer, startEtcd, startKubelet } from "./control-plane.ts";
import { kubeadmInit } from "./init.ts";
import { kubeadmJoin } from "./join.ts";
import { KubeadmConfigError, readKubeadmConfig, type ClusterConfig, type KubeadmNode } from "./kubeadm-config.ts";
import { MachineDirs } from "./machine-dirs.ts";
import { PkiInputError } from "./pki.ts";
import { MachineProcesses, type ProcessName } from "./processes.ts";
import { markNodeReady, markNodeUnreachable } from "./workload-objects.ts";

export interface BootStageOptions {
  /** Holds etcd, kube-apiserver and kubelet-stub (hack/testenv/build.sh's bin directory). */
  binDir: string;
  /** machines/<system_id>/ go here. */
  dir: string;
  /** Control-plane machines booting or running at once, at most (each runs an etcd and a kube-apiserver). */
  maxControlPlanes: number;
  store: Store;
  logger: Logger;
  /** Between SIGTERM and SIGKILL when a machine's processes stop; default 10 s. */
  stopGraceMs?: number;
}

export type BootPhase = "booting" | "booted" | "failed" | "nothing-to-boot" | "powered-off" | "stopped";

/** One machine's boot, as GET /_sim/boot shows it. */
export interface MachineBootStatus {
  systemId: string;
  hostname: string;
  address: string;
  phase: BootPhase;
  /** Why nothing booted, what failed, or what a shutdown could not do. */
  message?: string;
  role?: KubeadmNode["role"];
  nodeName?: string;
  cluster?: string;
  /** The step kubeadm is at (booting) or got to. */
  step?: string;
  /** The machine's running processes and their pids. */
  pids: Partial<Record<ProcessName, number>>;
  /** Whether the kubeadm command's `&& echo success > FILE` wrote its file. */
  bootstrapSucceeded: boolean;
  /** ISO times: reached Deployed, and kubeadm done (kubeadm-config written on init). */
  deployedAt: string;
  bootedAt?: string;
  /** Where the script lines the simulator does not run are (runcmd[0], bootcmd[1]); never their text, which is user data. */
  notEmulated: string[];
  warnings: string[];
}

export interface ClusterStatus {
  name: string;
  /** "sha256:…" of its CA's public key. */
  caCertHash: string;
  controlPlaneEndpoint: string;
  /** Whether the simulator serves controlPlaneEndpoint (a VIP no machine holds). */
  endpointServed: boolean;
  members: Array<{ systemId: string; nodeName: string; address: string; controlPlane: boolean; running: boolean }>;
}

export interface BootState {
  machines: MachineBootStatus[];
  clusters: ClusterStatus[];
}

interface MachineRun {
  status: MachineBootStatus;
  dirs: MachineDirs;
  processes: MachineProcesses;
  abort: AbortController;
  chain: Promise<void>;
  /** Set once kubeadm ran to its end: what a restart needs. */
  booted?: { ctx: Omit<BootContext, "signal">; config: ClusterConfig };
}

const isControlPlane = (role: KubeadmNode["role"] | undefined): boolean => role === "init" || role === "control-plane-join";

export class BootStage implements MachineObserver {
  private readonly runs = new Map<string, MachineRun>();
  private readonly clusters = new ClusterRegistry();
  private closing = false;

  constructor(private readonly o: BootStageOptions) {}

  deployed(m: SimMachine): void {
    if (this.closing) return;
    const dirs = new MachineDirs(join(this.o.dir, "machines", m.systemId));
    const run: MachineRun = {
      status: { systemId: m.systemId, hostname: m.hostname, address: m.ipAddresses[0] ?? m.deployIp, phase: "booting", pids: {}, bootstrapSucceeded: false, deployedAt: new Date().toISOString(), notEmulated: [], warnings: [] },
      dirs,
      processes: new MachineProcesses({ machine: m.hostname, binDir: this.o.binDir, logDir: dirs.logs, stopGraceMs: this.o.stopGraceMs }),
      abort: new AbortController(),
      chain: this.runs.get(m.systemId)?.chain ?? Promise.resolve(),
    };
    this.runs.set(m.systemId, run);
    this.enqueue(run, () => this.boot(run, this.describe(m), m.userData));
  }

  stopped(m: SimMachine, why: StopReason): void {
    const run = this.runs.get(m.systemId);
    if (run === undefined || this.closing) return;
    run.abort.abort();
    // An in-memory machine's files were its memory; a disk machine keeps its disk until released.
    const forget = why !== "power-off" || m.ephemeralDeploy;
    this.enqueue(run, () => this.shutdown(run, why, forget));
  }

  poweredOn(m: SimMachine): void {
    const run = this.runs.get(m.systemId);
    if (run === undefined || this.closing || run.status.phase !== "powered-off" || run.booted === undefined) return;
    run.abort = new AbortController();
    this.enqueue(run, () => this.restart(run));
  }

  state(): BootState {
    const machines = [...this.runs.values()].map((run) => {
      const pids: MachineBootStatus["pids"] = {};
      for (const name of ["etcd", "kube-apiserver", "kubelet-stub"] as const) {
        const pid = run.processes.get(name)?.pid;
        if (pid !== undefined) pids[name] = pid;
      }
      return { ...structuredClone(run.status), pids };
    });
    const clusters = this.clusters.all().map((c) => ({
      name: c.name,
      caCertHash: c.key,
      controlPlaneEndpoint: c.controlPlaneEndpoint,
      endpointServed: c.forwarder !== undefined,
      members: [...c.members.values()].map((m) => ({ systemId: m.systemId, nodeName: m.nodeName, address: m.address, controlPlane: m.apiServerPort !== undefined, running: m.running })),
    }));
    return { machines, clusters };
  }

  /** Stops every machine's processes and the endpoints; files stay where they are. */
  async close(): Promise<void> {
    this.closing = true;
    const runs = [...this.runs.values()];
    for (const run of runs) run.abort.abort();
    // Stopping the processes also ends a start that waits for one of them.
    await Promise.all(runs.map((run) => run.processes.stopAll()));
    await Promise.allSettled(runs.map((run) => run.chain));
    await Promise.all(runs.map((run) => run.processes.stopAll()));
    await this.clusters.close();
  }

  private enqueue(run: MachineRun, step: () => Promise<void>): void {
    run.chain = run.chain.then(step).catch((error: unknown) => {
      this.o.logger.error({ err: error, systemId: run.status.systemId }, "boot stage error");
    });
  }

  private describe(m: SimMachine): BootMachine {
    return {
      systemId: m.systemId,
      hostname: m.hostname,
      fqdn: fqdnOf(this.o.store, m),
      address: m.ipAddresses[0] ?? m.deployIp,
      architecture: m.architecture,
      cpuCount: m.cpuCount,
      memoryMiB: m.memoryMiB,
      osImage: `${m.osystem}/${m.distroSeries}`,
    };
  }

  /** The simulator's own DNS (what MAAS's bind would answer for the name). */
  private resolve(name: string): string[] {
    return resolveMaasName(this.o.store, name);
  }

  private async boot(run: MachineRun, machine: BootMachine, userData: string | null): Promise<void> {
    const status = run.status;
    const signal = run.abort.signal;
    try {
      const reading = readUserData(userData, { systemId: machine.systemId, fqdn: machine.fqdn });
      if (reading.kind === "nothing-to-boot") {
        Object.assign(status, { phase: "nothing-to-boot", message: reading.reason });
        return;
      }
      status.notEmulated = reading.notEmulated.map((n) => n.where);
      status.warnings = reading.warnings;
      const file = reading.files.get(reading.kubeadm.configPath);
      const node = readKubeadmConfig(file?.content.toString("utf8") ?? "", { phase: reading.kubeadm.phase, source: reading.kubeadm.configPath, hostname: machine.hostname });
      Object.assign(status, { role: node.role, nodeName: node.nodeName, cluster: node.cluster?.clusterName });
      if (isControlPlane(node.role)) this.checkControlPlaneBound(run);
      await run.dirs.create();
      await run.dirs.writeFiles(reading.files);
      const base: Omit<BootContext, "signal"> = {
        machine,
        dirs: run.dirs,
        files: reading.files,
        command: reading.kubeadm,
        node,
        processes: run.processes,
        clusters: this.clusters,
        resolve: (name) => this.resolve(name),
        isMachineAddress: (ip) => this.o.store.state.machines.some((m) => m.deployIp === ip),
        step: (name) => (status.step = name),
      };
      const { cluster, config } = node.role === "init" ? await kubeadmInit({ ...base, signal }) : await kubeadmJoin({ ...base, signal });
      run.booted = { ctx: base, config };
      Object.assign(status, { phase: "booted", cluster: cluster.name, step: "done", bootedAt: new Date().toISOString(), bootstrapSucceeded: reading.kubeadm.sentinelPath !== null });
      this.o.logger.info({ systemId: machine.systemId, nodeName: node.nodeName, role: node.role, cluster: cluster.name }, "machine booted");
    } catch (error) {
      if (signal.aborted) return;
      const known = error instanceof BootError || error instanceof CloudInitError || error instanceof KubeadmConfigError || error instanceof PkiInputError;
      Object.assign(status, { phase: "failed", message: (error as Error).message });
      // A failed kubeadm leaves what it started running, as its static Pods would.
      this.o.logger.warn({ systemId: machine.systemId, step: status.step, ...(known ? {} : { err: error }) }, `machine boot failed: ${(error as Error).message}`);
    }
  }

  private checkControlPlaneBound(run: MachineRun): void {
    const others = [...this.runs.values()].filter((r) => r !== run && isControlPlane(r.status.role) && (r.status.phase === "booting" || r.processes.get("kube-apiserver") !== undefined || r.processes.get("etcd") !== undefined));
    if (others.length >= this.o.maxControlPlanes) {
      throw new BootError(`the simulator runs at most ${this.o.maxControlPlanes} control-plane machines at once (--max-control-planes), and ${others.map((r) => r.status.hostname).join(", ")} already run; release one or raise the bound`);
    }
  }

  private async shutdown(run: MachineRun, why: StopReason, forget: boolean): Promise<void> {
    const status = run.status;
    await run.processes.stopAll();
    const found = this.clusters.memberOf(status.systemId);
    const problems: string[] = [];
    if (found !== undefined) {
      found.member.running = false;
      const api = this.clusters.api(found.cluster, { except: status.systemId });
      if (api === undefined) problems.push(`no other API server of cluster ${found.cluster.name} runs to record Node ${found.member.nodeName} as unreachable`);
      else {
        try {
          await markNodeUnreachable(api, found.member.nodeName, new Date());
        } catch (error) {
          problems.push(`marking Node ${found.member.nodeName} unreachable failed: ${(error as Error).message}`);
        }
      }
    }
    if (forget) {
      await this.clusters.removeMember(status.systemId);
      await run.dirs.remove();
      run.booted = undefined;
    }
    Object.assign(status, { phase: why === "power-off" ? "powered-off" : "stopped", message: problems.length > 0 ? problems.join("; ") : `machine ${why}` });
    this.o.logger.info({ systemId: status.systemId, why }, "machine stopped");
  }

  /** A disk machine back on: the kubelet starts its static Pods from the disk and posts Ready again. */
  private async restart(run: MachineRun): Promise<void> {
    const booted = run.booted;
    const found = this.clusters.memberOf(run.status.systemId);
    if (booted === undefined || found === undefined) return;
    const signal = run.abort.signal;
    const ctx: BootContext = { ...booted.ctx, signal };
    Object.assign(run.status, { phase: "booting", step: "restart", message: undefined });
    try {
      if (isControlPlane(booted.ctx.node.role)) {
        this.checkControlPlaneBound(run);
        await startEtcd(ctx, booted.config);
        await startApiServer(ctx, booted.config);
        await startKubelet(ctx, booted.config);
      }
      found.member.running = true;
      const api = this.clusters.api(found.cluster, { signal });
      if (api !== undefined) await markNodeReady(api, found.member.nodeName, new Date());
      Object.assign(run.status, { phase: "booted", step: "done" });
    } catch (error) {
      if (signal.aborted) return;
      Object.assign(run.status, { phase: "failed", message: `restart: ${(error as Error).message}` });
    }
  }
}

/** A fresh directory for machines' files when the simulator keeps no state file; removed by the caller. */
export async function removeBootDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}
