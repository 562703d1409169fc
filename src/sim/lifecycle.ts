// Machine state changes that take time: Deploying → Deployed / Failed deployment,
// Releasing → Ready and Disk erasing → Ready. Timers run on the injected Clock,
// so tests advance a FakeClock instead of sleeping. Each pending change is stored
// on the machine (kind + due time) and survives a restart with a state file. An
// observer (the boot stage, boot/boot.ts) hears when a machine's deployed OS starts
// running and when it stops.
import type { Clock, TimerHandle } from "../clock/index.ts";
import type { VersionFeatures } from "./maas-version.ts";
import { Prng } from "./prng.ts";
import { MachineStatus } from "./status.ts";
import type { Store } from "./store.ts";
import type { PendingTransition, SimMachine } from "./types.ts";

/** Why what ran on a machine stopped: released, powered off, booting a new deployment (an in-memory machine powered on), or deleted. */
export type StopReason = "release" | "power-off" | "redeploy" | "delete";

export interface MachineObserver {
  /** The machine reached Deployed: its OS runs, cloud-init with it. */
  deployed(m: SimMachine): void;
  /** What ran on the machine stopped. */
  stopped(m: SimMachine, why: StopReason): void;
  /** A Deployed machine's power came back on without a new deployment (a disk machine boots from its disk). */
  poweredOn(m: SimMachine): void;
}

export interface LifecycleOptions {
  store: Store;
  observer?: MachineObserver;
  clock: Clock;
  features: VersionFeatures;
  deploySeconds: number;
  releaseSeconds: number;
  deployFailureRate: number;
  seed: number;
}

export class Lifecycle {
  private readonly timers = new Map<string, TimerHandle>();
  private readonly failures: Prng;

  constructor(private readonly o: LifecycleOptions) {
    this.failures = new Prng(o.seed, "deploy-failures");
  }

  /**
   * Allocated → Deploying. The outcome is drawn now (failDeployment knob, else
   * deployFailureRate), so a seeded run fails the same deployments every time.
   */
  startDeploy(m: SimMachine): void {
    // Draw even when the knob decides, so the sequence of draws depends only on deploy order.
    const draw = this.failures.next();
    const fail = m.failDeployment || draw < this.o.deployFailureRate;
    if (m.status === MachineStatus.DEPLOYED) this.o.observer?.stopped(m, "redeploy");
    m.status = MachineStatus.DEPLOYING;
    m.statusMessage = "Deploying";
    m.powerState = "on";
    this.schedule(m, { kind: "deploy", dueAtMs: this.o.clock.now() + this.delayMs(m, "deploy"), fail });
  }

  /**
   * MAAS Node.start_releasing / _release / _finalize_release (maas@3.7.0 models/node.py):
   * with erase the machine runs wipe-disks in 14 "Disk erasing" first; otherwise
   * _release() clears the deployment at once (12 "Releasing") and the machine is
   * Ready as soon as it is powered off — at once if it already was off.
   */
  startRelease(m: SimMachine, erase: boolean): void {
    this.cancel(m);
    // Releasing powers the machine off (maas models/node.py Node._release calls _stop): what ran on it stops now.
    if (m.status === MachineStatus.DEPLOYED) this.o.observer?.stopped(m, "release");
    if (erase) {
      m.status = MachineStatus.DISK_ERASING;
      m.statusMessage = "Erasing disk";
      m.powerState = "on";
      this.schedule(m, { kind: "erase", dueAtMs: this.o.clock.now() + this.delayMs(m, "release") });
      return;
    }
    this.clearDeployment(m);
    if (m.powerState === "off") {
      this.finalizeRelease(m);
      return;
    }
    this.schedule(m, { kind: "release", dueAtMs: this.o.clock.now() + this.delayMs(m, "release") });
  }

  /** power_off: a machine waiting in Releasing for its power-off becomes Ready now. */
  powerOff(m: SimMachine): void {
    if (m.powerState === "on" && m.status === MachineStatus.DEPLOYED) this.o.observer?.stopped(m, "power-off");
    m.powerState = "off";
    if (m.status === MachineStatus.RELEASING && m.pending?.kind === "release") {
      this.cancel(m);
      this.finalizeRelease(m);
    }
  }

  /** power_on of a machine that is not re-deployed: the power goes on, and a Deployed one boots from its disk. */
  powerOn(m: SimMachine): void {
    const wasOff = m.powerState !== "on";
    m.powerState = "on";
    if (wasOff && m.status === MachineStatus.DEPLOYED) this.o.observer?.poweredOn(m);
  }

  /** The machine is deleted: whatever ran on it stops. */
  forget(m: SimMachine): void {
    this.cancel(m);
    if (m.status === MachineStatus.DEPLOYED) this.o.observer?.stopped(m, "delete");
  }

  cancel(m: SimMachine): void {
    const timer = this.timers.get(m.systemId);
    if (timer !== undefined) this.o.clock.clearTimeout(timer);
    this.timers.delete(m.systemId);
    m.pending = null;
  }

  /**
   * Re-arms the timers of pending transitions loaded from a state file, and starts
   * the transition of a machine an inventory lists as Deploying, Releasing or Disk erasing.
   */
  restore(): void {
    const now = this.o.clock.now();
    for (const m of this.o.store.state.machines) {
      if (m.pending !== null) this.schedule(m, m.pending);
      else if (m.status === MachineStatus.DEPLOYING) this.startDeploy(m);
      else if (m.status === MachineStatus.RELEASING) this.schedule(m, { kind: "release", dueAtMs: now + this.delayMs(m, "release") });
      else if (m.status === MachineStatus.DISK_ERASING) this.schedule(m, { kind: "erase", dueAtMs: now + this.delayMs(m, "release") });
    }
  }

  close(): void {
    for (const timer of this.timers.values()) this.o.clock.clearTimeout(timer);
    this.timers.clear();
  }

  private schedule(m: SimMachine, pending: PendingTransition): void {
    const existing = this.timers.get(m.systemId);
    if (existing !== undefined) this.o.clock.clearTimeout(existing);
    m.pending = pending;
    const systemId = m.systemId;
    const delay = Math.max(0, pending.dueAtMs - this.o.clock.now());
    this.timers.set(systemId, this.o.clock.setTimeout(() => this.fire(systemId, pending), delay));
  }

  private fire(systemId: string, pending: PendingTransition): void {
    this.timers.delete(systemId);
    const m = this.o.store.machine(systemId);
    if (m === undefined || m.pending !== pending) return;
    m.pending = null;
    if (pending.kind === "deploy") this.completeDeploy(m, pending.fail === true);
    else if (pending.kind === "erase") {
      // wipe-disks done: the disks are blank, then the normal release runs.
      m.osOnDisk = null;
      this.clearDeployment(m);
      this.finalizeRelease(m);
    } else this.finalizeRelease(m);
    this.o.store.changed();
  }

  private completeDeploy(m: SimMachine, fail: boolean): void {
    if (fail || m.powerState !== "on") {
      m.status = MachineStatus.FAILED_DEPLOYMENT;
      m.statusMessage = fail ? "Failed deployment" : "Node operation 'Deploying' timed out";
      return;
    }
    m.status = MachineStatus.DEPLOYED;
    m.statusMessage = "Deployed";
    // An ephemeral machine keeps booting from the network (node.py _get_boot_order).
    m.netboot = m.ephemeralDeploy;
    if (!m.ephemeralDeploy) m.osOnDisk = `${m.osystem}/${m.distroSeries}`;
    this.o.observer?.deployed(m);
  }

  /** Node._release(): what is cleared as soon as the release starts. */
  private clearDeployment(m: SimMachine): void {
    const f = this.o.features;
    m.status = MachineStatus.RELEASING;
    m.statusMessage = "Releasing";
    m.agentName = "";
    m.netboot = true;
    m.osystem = "";
    m.distroSeries = "";
    m.hweKernel = null;
    m.installKvm = false;
    m.registerVmhost = false;
    m.enableHwSync = false;
    m.installationResultId = null;
    // 2.6–3.4 _release() calls set_ephemeral_deploy(): off, or on for diskless
    // machines from 2.7; 3.5.0 removed the call, so the flag survives a release.
    if (f.releaseClearsEphemeral) m.ephemeralDeploy = f.ephemeralKeptForDiskless && m.disks.length === 0;
  }

  /** Node._finalize_release(): Ready, unowned, addresses and owner data gone. */
  private finalizeRelease(m: SimMachine): void {
    m.status = MachineStatus.READY;
    m.statusMessage = "Released";
    m.owner = null;
    m.powerState = "off";
    m.ipAddresses = [];
    m.ownerData = {};
    m.pending = null;
  }

  private delayMs(m: SimMachine, kind: "deploy" | "release"): number {
    const seconds = kind === "deploy" ? (m.deploySeconds ?? this.o.deploySeconds) : (m.releaseSeconds ?? this.o.releaseSeconds);
    return Math.max(0, seconds * 1000);
  }
}
