// What the boot tests stand on: a loopback machine address of their own, an
// emulated control-plane machine's PKI and processes (src/sim/boot/processes.ts
// started from the testenv's binaries), an admin KubeConfig for its
// kube-apiserver, and a TCP echo server standing for a port on the machine.
import { randomInt } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { MachineProcesses } from "../../../src/sim/boot/processes.ts";
import { locateBinaries } from "../../testenv/binaries.ts";
import { disownDir, ownDir } from "../../testenv/children.ts";
import { mintMachinePki, type MachinePki } from "./kubeadm-pki.ts";

/** "127.10.N" with a random N: a /24 of machine addresses, so concurrent runs on one host do not share any. */
export function randomMachineSubnet(): string {
  return `127.10.${String(randomInt(1, 255))}`;
}

export interface TestMachine {
  name: string;
  address: string;
  dir: string;
  pki: MachinePki;
  processes: MachineProcesses;
  /** Stops every process by pid and removes the directory. */
  destroy(): Promise<void>;
}

/** A machine's directory, PKI and (not yet started) processes; destroy() cleans up whatever was started. */
export async function prepareMachine(name: string, address: string, shareCasFrom?: TestMachine): Promise<TestMachine> {
  const binaries = await locateBinaries();
  const dir = await mkdtemp(join(tmpdir(), `boot-${name}-`));
  ownDir(dir);
  const processes = new MachineProcesses({ machine: name, binDir: binaries.binDir, logDir: dir, stopGraceMs: 5000 });
  const destroy = async (): Promise<void> => {
    await processes.stopAll();
    await rm(dir, { recursive: true, force: true, maxRetries: 5 });
    disownDir(dir);
  };
  try {
    const pki = await mintMachinePki(join(dir, "pki"), { name, address }, shareCasFrom?.pki.dir);
    return { name, address, dir, pki, processes, destroy };
  } catch (err) {
    await destroy();
    throw err;
  }
}

/** etcd, then kube-apiserver on it, as `kubeadm init` brings them up. */
export async function startControlPlane(machine: TestMachine): Promise<void> {
  const certificatesDir = machine.pki.dir;
  await machine.processes.startEtcd({ name: machine.name, address: machine.address, dataDir: join(machine.dir, "etcd"), certificatesDir });
  await machine.processes.startApiServer({
    address: machine.address,
    certificatesDir,
    serviceSubnet: "10.96.0.0/12",
    dnsDomain: "cluster.local",
    probeClient: machine.pki.admin,
  });
}

/** The admin's KubeConfig (admin.conf's client certificate) for the machine's kube-apiserver. */
export async function adminKubeConfig(machine: TestMachine): Promise<KubeConfig> {
  const base64 = async (path: string): Promise<string> => (await readFile(path)).toString("base64");
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "machine", server: `https://${machine.address}:6443`, caData: await base64(join(machine.pki.dir, "ca.crt")) }],
    users: [{ name: "admin", certData: await base64(machine.pki.admin.certFile), keyData: await base64(machine.pki.admin.keyFile) }],
    contexts: [{ name: "admin@machine", cluster: "machine", user: "admin" }],
    currentContext: "admin@machine",
  });
  return kc;
}

/** Answers every connection with what it receives, on address:<any port>. */
export async function startEchoServer(address: string): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    socket.on("error", () => undefined);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, address, resolve);
  });
  const bound = server.address();
  if (bound === null || typeof bound === "string") throw new Error("echo server has no TCP address");
  return { server, port: bound.port };
}
