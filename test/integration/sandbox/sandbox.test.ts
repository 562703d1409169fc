// `make run`'s sandbox as a user starts it (hack/sandbox/main.ts, output not a terminal),
// with MAAS deploys shortened to 0.3 s: the example cluster clusterctl makes from
// templates/cluster-template-ephemeral.yaml (1 control-plane machine, 2 workers) must
// deploy every machine into memory, boot them (kubeadm init and join in the simulator)
// and become Available; the workload kubeconfig the sandbox writes, used exactly as it
// prints (kubectl with HTTPS_PROXY at the simulator's DNS proxy), must list three Ready
// Nodes named like the MAAS machines. Ctrl-C must leave nothing behind: exit 0, none of
// the processes it reported alive nor the booted machines' etcd, kube-apiserver and
// kubelet stub, no process naming its directory, and the test's own TMPDIR (where every
// temporary directory of the sandbox goes) empty. With --no-cluster it starts and stops
// the same way, making no cluster.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { runKubectl } from "../../testenv/kubectl.ts";
import { isAlive, killAll, pidsMentioning, waitUntilGone } from "../../testenv/pids.ts";
import { MACHINE_LINE, clusterAvailable, machines, processNames, sandboxDir, startSandboxProcess, waitForLine, type SandboxProcess } from "./sandbox-process.ts";

const WORKLOAD_COMMAND = /^ {2}HTTPS_PROXY=(http:\/\/127\.0\.0\.1:\d+) (\S+\/kubectl) --kubeconfig (\S+) get nodes$/;

interface WorkloadNode {
  metadata: { name: string };
  status?: { conditions?: { type: string; status: string }[] };
}

describe("make run: the local sandbox", () => {
  let tmp = "";
  let sandbox: SandboxProcess | undefined;
  let reportedPids: number[] = [];
  let dir = "";

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "sandbox-test-"));
  });

  afterEach(async () => {
    // Only when a test failed half-way: stop the sandbox, then anything it left, by pid.
    if (sandbox !== undefined && sandbox.proc.exitCode === null && sandbox.proc.signalCode === null) {
      sandbox.proc.kill("SIGINT");
      const gone = await Promise.race([sandbox.exit.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 30_000))]);
      if (gone !== true) sandbox.proc.kill("SIGKILL");
    }
    killAll(reportedPids.filter(isAlive));
    if (dir !== "") killAll(pidsMentioning(dir));
    sandbox = undefined;
    reportedPids = [];
    dir = "";
  });

  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  /** Starts the sandbox and waits until it is ready: the pids line and its directory. */
  const start = async (args: readonly string[]): Promise<SandboxProcess> => {
    sandbox = startSandboxProcess(tmp, args);
    const running = sandbox;
    const pidLine = await waitForLine(running, "the pids line", (lines) => lines.find((l) => l.startsWith("pids: ")), 180_000);
    reportedPids = [...pidLine.matchAll(/=(\d+)/g)].map((m) => Number(m[1]));
    for (const name of ["etcd", "kube-apiserver", "capmaas-manager", "cluster-api-controller", "kubeadm-bootstrap-controller", "kubeadm-control-plane-controller"]) {
      assert.match(pidLine, new RegExp(`\\b${name}=\\d+`), `${name} is among the processes reported`);
    }
    dir = await waitForLine(running, "the sandbox directory", sandboxDir, 10_000);
    assert.ok(dir.startsWith(tmp), `the sandbox directory ${dir} is under TMPDIR ${tmp}`);
    assert.ok(running.lines.some((l) => /^ {2}KUBECONFIG=\S+/.test(l)), "prints KUBECONFIG=");
    assert.ok(running.lines.some((l) => /^ {2}MAAS_ENDPOINT=http:\/\/127\.0\.0\.1:\d+\/MAAS$/.test(l)), "prints MAAS_ENDPOINT=");
    assert.ok(running.lines.some((l) => /^ {2}MAAS_API_KEY=[^:\s]+:[^:\s]+:[^:\s]+$/.test(l)), "prints MAAS_API_KEY=");
    return running;
  };

  /** Ctrl-C: exit 0, and nothing of the sandbox left running or on disk. */
  const stopAndCheckNothingLeft = async (running: SandboxProcess, alsoGone: readonly number[], diagnostic: (text: string) => void): Promise<void> => {
    const stopAt = Date.now();
    running.proc.kill("SIGINT");
    const exit = await Promise.race([running.exit, new Promise<"still running">((resolve) => setTimeout(() => resolve("still running"), 90_000).unref())]);
    diagnostic(`SIGINT → exit: ${((Date.now() - stopAt) / 1000).toFixed(1)} s`);
    assert.deepEqual(exit, { code: 0, signal: null }, running.lines.join("\n"));
    assert.deepEqual(await waitUntilGone([...reportedPids, ...alsoGone], 5000), [], "no reported or booted process outlives the sandbox");
    assert.deepEqual(pidsMentioning(dir), [], "no process names the sandbox directory");
    assert.equal(existsSync(dir), false, "the sandbox directory is removed");
    // tsx keeps its compile cache in $TMPDIR/tsx-<uid> on purpose; everything else must be gone.
    assert.deepEqual((await readdir(tmp)).filter((entry) => !/^tsx-\d+$/.test(entry)), [], "nothing of the sandbox is left in TMPDIR");
  };

  it("boots the example cluster's machines from memory until the Cluster is Available, writes a workload kubeconfig that lists their Nodes, and Ctrl-C stops everything it started", async (t) => {
    const running = await start(["--deploy-seconds", "0.3"]);

    const firstInMemory = await waitForLine(running, "a machine Deployed in memory", (lines) => {
      for (const [name, m] of machines(lines)) if (m.state === "Deployed" && m.target === "ephemeral") return name;
      return undefined;
    }, 180_000);
    const firstMs = Date.now() - running.startedAt;
    const command = await waitForLine(running, "the Cluster Available and the workload command", (lines) => {
      for (const line of lines) {
        const m = WORKLOAD_COMMAND.exec(line);
        if (m !== null) return { proxy: m[1] ?? "", kubectl: m[2] ?? "", kubeconfig: m[3] ?? "" };
      }
      return undefined;
    }, 600_000);
    const availableMs = Date.now() - running.startedAt;
    assert.equal(clusterAvailable(running.lines), "True", "the live view shows the Cluster Available");
    const shown = machines(running.lines);
    assert.equal(shown.size, 3, "the example cluster has exactly 3 machines");
    assert.deepEqual([...shown.values()].map((m) => m.role).sort(), ["control-plane", "worker", "worker"]);
    for (const [name, m] of shown) {
      assert.equal(m.state, "Deployed", `${name} is Deployed`);
      assert.equal(m.target, "ephemeral", "every machine of the ephemeral flavor runs from memory");
      assert.equal(m.boot, "booted", `${name} booted`);
    }
    t.diagnostic(`start → first machine Deployed in memory (${firstInMemory}): ${(firstMs / 1000).toFixed(1)} s; → Cluster Available: ${(availableMs / 1000).toFixed(1)} s (deploy latency 0.3 s)`);
    // A live view that prints on change only: one line per state a machine goes through, not one per poll.
    assert.ok(running.lines.filter((l) => MACHINE_LINE.test(l)).length <= 3 * 16, running.lines.join("\n"));

    assert.equal(command.kubeconfig, join(dir, "workload.kubeconfig"), "the workload kubeconfig is in the sandbox directory");
    assert.equal((await stat(command.kubeconfig)).mode & 0o777, 0o600, "the workload kubeconfig is readable by its owner only");
    const envFile = await readFile(join(dir, "env"), "utf8");
    assert.match(envFile, new RegExp(`^export WORKLOAD_KUBECONFIG=${command.kubeconfig}$`, "m"));
    assert.match(envFile, new RegExp(`^export SANDBOX_DNS_PROXY=${command.proxy}$`, "m"));
    assert.doesNotMatch(envFile, /^export (HTTPS_PROXY|https_proxy)=/m, "the env file does not send the user's https traffic through the proxy");

    // The printed command, with -o json.
    const listed = await runKubectl(command.kubectl, command.kubeconfig, ["--kubeconfig", command.kubeconfig, "get", "nodes", "-o", "json"], { env: { HTTPS_PROXY: command.proxy, NO_PROXY: "" } });
    assert.equal(listed.code, 0, listed.stderr);
    const nodes = (JSON.parse(listed.stdout) as { items: WorkloadNode[] }).items;
    const management = await runKubectl(command.kubectl, join(dir, "control-plane", "kubeconfig"), ["get", "maasmachines", "-n", "default", "-o", "json"]);
    assert.equal(management.code, 0, management.stderr);
    const hostnames = (JSON.parse(management.stdout) as { items: { status?: { hostname?: string } }[] }).items.map((m) => m.status?.hostname ?? "");
    assert.deepEqual(nodes.map((n) => n.metadata.name).sort(), hostnames.sort(), "one Node per MaasMachine, named like its MAAS machine");
    for (const node of nodes) assert.equal(node.status?.conditions?.find((c) => c.type === "Ready")?.status, "True", `${node.metadata.name} is Ready`);
    for (const [name, m] of shown) assert.equal(m.node, m.host, `the live view shows ${name}'s Node, named like its MAAS machine`);

    for (const pid of reportedPids) assert.ok(isAlive(pid), `pid ${String(pid)} runs while the sandbox does`);
    const booted = await processNames(pidsMentioning(join(dir, "boot")));
    assert.deepEqual([...new Set(booted.map((p) => p.name))].sort(), ["etcd", "kube-apiserver", "kubelet-stub"], "the control-plane machine runs etcd, kube-apiserver and the kubelet stub");
    await stopAndCheckNothingLeft(running, booted.map((p) => p.pid), (text) => t.diagnostic(text));
  });

  it("with --no-cluster: starts everything but makes no cluster, and Ctrl-C stops everything it started", async (t) => {
    const running = await start(["--no-cluster"]);
    const envFile = await readFile(join(dir, "env"), "utf8");
    assert.match(envFile, /^export SANDBOX_DNS_PROXY=http:\/\/127\.0\.0\.1:\d+$/m, "the DNS proxy is there for clusters the user makes");
    assert.doesNotMatch(envFile, /WORKLOAD_KUBECONFIG=/, "no example cluster, no workload kubeconfig");
    // A few polls of the live view.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.deepEqual(running.lines.filter((l) => l.startsWith("machine ") || l.startsWith("cluster ")), [], "no machine and no Cluster shown");
    await stopAndCheckNothingLeft(running, [], (text) => t.diagnostic(text));
  });
});
