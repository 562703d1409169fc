// KubeadmControlPlane reaches a machine's etcd and kube-apiserver certificate
// through `pods/portforward` on the workload kube-apiserver, which proxies to
// the kubelet at the Node's InternalIP. Here an emulated machine (etcd,
// kube-apiserver and the kubelet stub on its loopback address, started by
// src/sim/boot/processes.ts) must carry such a port-forward to a port on the
// machine, for the real kubectl and for @kubernetes/client-node alike.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { connect } from "node:net";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { CoreV1Api, PortForward, type KubeConfig } from "@kubernetes/client-node";
import { locateBinaries } from "../../testenv/binaries.ts";
import { forwardedPort } from "./workload-access.ts";
import { adminKubeConfig, prepareMachine, randomMachineSubnet, startControlPlane, startEchoServer, type TestMachine } from "./machine.ts";

const POD_NAMESPACE = "kube-system";

/** The Node and the etcd mirror Pod a booted kubeadm machine registers, the Pod Running. */
async function registerNode(kc: KubeConfig, node: string, address: string): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNode({
    body: {
      metadata: { name: node, labels: { "kubernetes.io/hostname": node } },
      status: { addresses: [{ type: "InternalIP", address }, { type: "Hostname", address: node }], daemonEndpoints: { kubeletEndpoint: { Port: 10250 } } },
    },
  });
  const pod = `etcd-${node}`;
  await core.createNamespacedPod({
    namespace: POD_NAMESPACE,
    body: {
      metadata: { name: pod, labels: { component: "etcd", tier: "control-plane" }, annotations: { "kubernetes.io/config.mirror": "emulated" } },
      spec: { nodeName: node, hostNetwork: true, containers: [{ name: "etcd", image: "registry.k8s.io/etcd:3.6.4-0" }] },
    },
  });
  // kubectl port-forward refuses a Pod that is not Running; the API server does not look.
  const created = await core.readNamespacedPod({ name: pod, namespace: POD_NAMESPACE });
  created.status = { phase: "Running" };
  await core.replaceNamespacedPodStatus({ name: pod, namespace: POD_NAMESPACE, body: created });
  return pod;
}

/** Sends text over a TCP connection to 127.0.0.1:port and resolves with what comes back once it has as much. */
function echoThrough(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let received = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no echo after 30 s (got ${JSON.stringify(received)})`));
    }, 30_000);
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("utf8");
      if (received.length >= text.length) {
        clearTimeout(timer);
        socket.end();
        resolve(received);
      }
    });
    socket.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.write(text);
  });
}

/** Runs `kubectl port-forward pod/<pod> :<port>` and resolves with its local port and a stop that ends it by pid. */
async function kubectlPortForward(kubeconfigPath: string, pod: string, port: number, env: Record<string, string>) {
  const { kubectl } = await locateBinaries();
  const proc = spawn(kubectl, ["--kubeconfig", kubeconfigPath, "-n", POD_NAMESPACE, "port-forward", `pod/${pod}`, `:${String(port)}`, "--address", "127.0.0.1"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  return forwardedPort(proc, 30_000);
}

/** client-node's PortForward without retries, which answers with the websocket itself. */
async function openPortForward(kc: KubeConfig, pod: string, port: number, output: PassThrough, errors: PassThrough, input: PassThrough) {
  const ws = await new PortForward(kc).portForward(POD_NAMESPACE, pod, [port], output, errors, input, 0);
  if (typeof ws === "function") throw new Error("PortForward answered a reconnecting handle although retries are off");
  return ws;
}

describe("a port on an emulated machine, through its kube-apiserver and kubelet stub", () => {
  let machine: TestMachine | undefined;
  let kc: KubeConfig;
  let kubeconfigPath: string;
  let pod: string;
  let echo: Awaited<ReturnType<typeof startEchoServer>> | undefined;

  before(async () => {
    const address = `${randomMachineSubnet()}.2`;
    const name = `machine-${address.split(".").slice(2).join("-")}`;
    machine = await prepareMachine(name, address);
    await startControlPlane(machine);
    // The kubelet requires the API server's kubelet-client certificate, as kubeadm's kubelet (x509 client CA) does.
    await machine.processes.startKubeletStub({
      address,
      certFile: machine.pki.kubelet.certFile,
      keyFile: machine.pki.kubelet.keyFile,
      clientCaFile: join(machine.pki.dir, "ca.crt"),
    });
    echo = await startEchoServer(address);
    kc = await adminKubeConfig(machine);
    kubeconfigPath = join(machine.dir, "admin.kubeconfig");
    await writeFile(kubeconfigPath, kc.exportConfig(), { mode: 0o600 });
    pod = await registerNode(kc, name, address);
  });

  after(async () => {
    echo?.server.close();
    await machine?.destroy();
  });

  describe("with kubectl port-forward", () => {
    // [how kubectl talks to the API server, its environment]
    const cases: [string, Record<string, string>][] = [
      ["over a websocket the API server turns into SPDY (kubectl's default; KCP's first choice)", {}],
      ["over SPDY end to end (KCP's fallback)", { KUBECTL_PORT_FORWARD_WEBSOCKETS: "false" }],
    ];
    for (const [how, env] of cases) {
      it(`reaches the port ${how}`, async () => {
        assert.ok(echo);
        const forward = await kubectlPortForward(kubeconfigPath, pod, echo.port, env);
        try {
          assert.equal(await echoThrough(forward.localPort, "ping over kubectl"), "ping over kubectl");
          // Each connection is a new stream on the same forward.
          assert.equal(await echoThrough(forward.localPort, "second connection"), "second connection");
        } finally {
          await forward.stop();
        }
      });
    }
  });

  describe("when a client other than the API server calls the kubelet stub", () => {
    // [client, its client certificate, expected status]: kubelet x509 authentication against ca.crt.
    const cases: [string, "admin" | undefined, number][] = [
      ["without a client certificate", undefined, 401],
      ["with a client certificate of the cluster CA", "admin", 400],
    ];
    for (const [who, cert, status] of cases) {
      it(`answers port-forward ${who} with ${String(status)}`, async () => {
        assert.ok(machine);
        const client = cert === undefined ? {} : { cert: await readFile(machine.pki.admin.certFile, "utf8"), key: await readFile(machine.pki.admin.keyFile, "utf8") };
        // The protocol header without the upgrade: authenticated, it gets as far as the SPDY upgrade (400).
        const answer = await new Promise<number>((resolve, reject) => {
          const url = `https://${machine?.address ?? ""}:10250/portForward/${POD_NAMESPACE}/${pod}`;
          const req = request(url, { ...client, rejectUnauthorized: false, agent: false, headers: { "X-Stream-Protocol-Version": "portforward.k8s.io" } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.setTimeout(15_000, () => req.destroy(new Error("no answer in 15 s")));
          req.once("error", reject);
          req.end();
        });
        assert.equal(answer, status);
      });
    }
  });

  describe("with @kubernetes/client-node's PortForward", () => {
    it("reaches the port over the channel websocket the API server hands to the kubelet", async () => {
      assert.ok(echo);
      const output = new PassThrough();
      const errors = new PassThrough();
      const input = new PassThrough();
      let received = "";
      let errorText = "";
      output.on("data", (chunk: Buffer) => (received += chunk.toString("utf8")));
      errors.on("data", (chunk: Buffer) => (errorText += chunk.toString("utf8")));
      const ws = await openPortForward(kc, pod, echo.port, output, errors, input);
      try {
        input.write("ping over client-node");
        const deadline = Date.now() + 30_000;
        while (received.length < "ping over client-node".length && errorText === "" && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        assert.equal(errorText, "");
        assert.equal(received, "ping over client-node");
      } finally {
        input.end();
        ws.close();
      }
    });

    it("reports the dial error when nothing listens on the port", async () => {
      assert.ok(machine);
      const closed = await startEchoServer(machine.address);
      await new Promise((resolve) => closed.server.close(resolve));
      const errors = new PassThrough();
      const input = new PassThrough();
      let errorText = "";
      errors.on("data", (chunk: Buffer) => (errorText += chunk.toString("utf8")));
      const ws = await openPortForward(kc, pod, closed.port, new PassThrough(), errors, input);
      try {
        input.write("anyone?");
        const deadline = Date.now() + 30_000;
        while (errorText === "" && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
        assert.match(errorText, new RegExp(`error forwarding port ${String(closed.port)} to pod ${pod}.*connection refused`));
      } finally {
        input.end();
        ws.close();
      }
    });
  });
});
