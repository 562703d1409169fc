// No secret reaches any output of the manager. A whole cluster is created and deleted
// at debug level while MAAS fails about one call in four; everything the manager says
// along the way (its log, its Events, every status it wrote, its /metrics) is then
// searched for the MAAS API key and each of its parts, the OAuth header, and the
// bootstrap data in plain text and base64.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { MAAS_CLUSTER, MAAS_MACHINE, kindSpec } from "../../../src/api/v1beta1/index.ts";
import { CAPI_CLUSTER, CAPI_MACHINE, SECRET } from "../../../src/capi/index.ts";
import type { KindSpec, KubeObject } from "../../../src/runtime/index.ts";
import { freePorts } from "../../testenv/ports.ts";
import { Testbed, bootstrapSecret, createNamespace, machineObject, maasMachineObject, waitFor } from "./provider-harness.ts";

const EVENT = kindSpec<KubeObject>({ group: "events.k8s.io", version: "v1", kind: "Event", plural: "events", namespaced: true });
const CORE_EVENT = kindSpec<KubeObject>({ group: "", version: "v1", kind: "Event", plural: "events", namespaced: true });

const FAKE_TOKEN = "abcdef.0123456789abcdef";
// A private key block that is fake but looks like one, unique to this run.
const FAKE_KEY_BODY = randomBytes(96).toString("base64");
const FAKE_KEY = `-----BEGIN RSA PRIVATE KEY-----\n${FAKE_KEY_BODY.slice(0, 64)}\n${FAKE_KEY_BODY.slice(64)}\n-----END RSA PRIVATE KEY-----`;
const BOOTSTRAP_DATA = [
  "#cloud-config",
  "write_files:",
  "  - path: /etc/kubernetes/bootstrap-token.yaml",
  "    content: |",
  `      token: ${FAKE_TOKEN}`,
  "  - path: /etc/kubernetes/pki/sa.key",
  "    permissions: '0600'",
  "    content: |",
  ...FAKE_KEY.split("\n").map((line) => `      ${line}`),
  "runcmd:",
  `  - [sh, -c, 'kubeadm join capmaas-secret-probe.invalid:6443 --token ${FAKE_TOKEN}']`,
  "",
].join("\n");

const [metricsPort = 0] = await freePorts(1);

/** Base64 text that appears inside any base64 encoding of a buffer containing `text`, at each of the three byte alignments. */
function base64Cores(text: string): string[] {
  const bytes = Buffer.from(text);
  const cores: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString("base64");
    // The first group mixes in the padding bytes, the last one depends on what follows.
    const start = shift === 0 ? 0 : 4;
    const end = Math.floor((shift + bytes.length) / 3) * 4;
    const core = encoded.slice(start, end);
    if (core.length >= 8) cores.push(core);
  }
  return cores;
}

interface Needle {
  what: string;
  text: string;
}

function secretNeedles(apiKey: string): Needle[] {
  const [consumerKey = "", tokenKey = "", tokenSecret = ""] = apiKey.split(":");
  assert.ok(consumerKey.length >= 8 && tokenKey.length >= 8 && tokenSecret.length >= 8, "the simulator's key has three long parts");
  const needles: Needle[] = [
    { what: "the MAAS API key", text: apiKey },
    { what: "the consumer key", text: consumerKey },
    { what: "the token key", text: tokenKey },
    { what: "the token secret", text: tokenSecret },
    { what: "an OAuth header", text: "OAuth " },
    { what: "an OAuth signature", text: "oauth_signature" },
    { what: "an OAuth token field", text: "oauth_token=" },
    { what: "the bootstrap data", text: BOOTSTRAP_DATA },
    { what: "the bootstrap data in base64", text: Buffer.from(BOOTSTRAP_DATA).toString("base64") },
    // As it travels in MAAS's form body: base64, then percent-encoded.
    { what: "the bootstrap data as a form field", text: encodeURIComponent(Buffer.from(BOOTSTRAP_DATA).toString("base64")) },
    { what: "the fake bootstrap token", text: FAKE_TOKEN },
    { what: "the fake private key", text: FAKE_KEY },
    { what: "the fake private key's body", text: FAKE_KEY_BODY.slice(0, 64) },
  ];
  // Lines that say something of their own (not bare YAML keys) in plain text and base64.
  for (const line of BOOTSTRAP_DATA.split("\n").map((l) => l.trim())) {
    if (line.length <= 12) continue;
    needles.push({ what: `bootstrap line ${JSON.stringify(line)}`, text: line });
    for (const core of base64Cores(line)) {
      needles.push({ what: `bootstrap line ${JSON.stringify(line)} in base64`, text: core });
      if (encodeURIComponent(core) !== core) needles.push({ what: `bootstrap line ${JSON.stringify(line)} in a form field`, text: encodeURIComponent(core) });
    }
  }
  return needles;
}

/** `text` with every needle replaced, longest first, so a report of a leak leaks nothing. */
function mask(text: string, needles: readonly Needle[]): string {
  let out = text;
  for (const needle of [...needles].sort((x, y) => y.text.length - x.text.length)) out = out.split(needle.text).join("<secret>");
  return out;
}

/** Every needle found in `haystack`, each with the masked line(s) around it. */
function leaks(source: string, haystack: string, needles: readonly Needle[]): string[] {
  const found: string[] = [];
  for (const needle of needles) {
    const at = haystack.indexOf(needle.text);
    if (at < 0) continue;
    // Whole lines are masked before they are cut, so no part of a secret is left at an edge.
    const end = haystack.indexOf("\n", at + needle.text.length);
    const lines = mask(haystack.slice(haystack.lastIndexOf("\n", at) + 1, end < 0 ? haystack.length : end), needles);
    const first = lines.indexOf("<secret>");
    found.push(`${source} contains ${needle.what}: …${lines.slice(Math.max(0, first - 100), first + 140)}…`);
  }
  return found;
}

describe("no secret in any output of the manager", () => {
  const bed = new Testbed({
    prefix: "no-secrets",
    // Deploys long enough that the manager reads each machine several times, under faults.
    simulator: { deploySeconds: 2 },
    managerArgs: ["--log-level=debug", `--metrics-bind-address=127.0.0.1:${String(metricsPort)}`, "--maas-watch-interval=2s"],
  });
  before(() => bed.start());
  after(() => bed.stop());

  it("keeps the API key, OAuth headers and bootstrap data out of the log, Events, status and metrics through create → delete under MAAS faults", async (t) => {
    const ns = await createNamespace(bed.client, "no-secrets");
    const cluster = "c1";
    const names = ["cp-0", "md-0", "md-1"];
    // Every version the manager writes of its objects, as the API server hands them out
    // (a watch from before the first create sees each write, not only the last).
    const versions: string[] = [];
    const watching = new AbortController();
    // The watch's promise is wrapped: an async function returning it bare would wait for its end.
    const watchAll = async <T extends KubeObject>(kind: KindSpec<T>): Promise<{ done: Promise<unknown> }> => {
      const { resourceVersion } = await bed.client.list(kind, { namespace: ns });
      const options = { namespace: ns, resourceVersion, timeoutSeconds: 900, allowWatchBookmarks: false, signal: watching.signal };
      return { done: bed.client.watch(kind, options, (event) => versions.push(JSON.stringify(event.object))).catch((err: unknown) => err) };
    };
    const watches = [await watchAll(MAAS_MACHINE), await watchAll(MAAS_CLUSTER)];
    let metricsText = "";
    let watchOutcomes: unknown[] = [];
    try {
      bed.sim.setFaults(
        [
          { kind: "unavailable", retryAfterSeconds: 1, probability: 0.16 },
          { kind: "reset", probability: 0.12 },
          { kind: "timeout", latencyMs: 1000, probability: 0.06 },
        ],
        23,
      );
      // No controlPlaneEndpoint: the MaasCluster takes its endpoint from a MAAS DNS record.
      await bed.readyCluster(ns, cluster, { controlPlaneEndpoint: undefined });
      for (const name of names) {
        await bed.client.create(SECRET, bootstrapSecret(ns, `${name}-bootstrap`, cluster, BOOTSTRAP_DATA));
        await bed.client.create(
          CAPI_MACHINE,
          machineObject({
            filter: bed.filter,
            namespace: ns,
            name,
            cluster,
            dataSecretName: `${name}-bootstrap`,
            ...(name.startsWith("cp") ? { labels: { "cluster.x-k8s.io/control-plane": "" } } : {}),
          }),
        );
        await bed.client.create(MAAS_MACHINE, maasMachineObject(bed.filter, ns, name, { minCPU: 2, minMemory: 4096, ephemeral: name === "cp-0" }));
      }
      const ready = [];
      for (const name of names) ready.push(await bed.readyMaasMachine(ns, name, 180_000));
      assert.deepEqual(ready.map((m) => m.status?.deploymentTarget), ["memory", "disk", "disk"]);
      const maasCluster = await bed.client.get(MAAS_CLUSTER, { namespace: ns, name: cluster });
      assert.equal(maasCluster.spec.controlPlaneEndpoint?.host, `${cluster}.maas.test`, "the endpoint is MAAS's DNS name");
      const systemIds = ready.map((m) => m.spec.systemID ?? "");

      metricsText = await fetch(`http://127.0.0.1:${String(metricsPort)}/metrics`).then((r) => r.text());
      assert.match(metricsText, /# TYPE/, "/metrics answered");

      await bed.client.delete(CAPI_CLUSTER, { namespace: ns, name: cluster });
      await waitFor("the Cluster, its Machines, MaasMachines and MaasCluster gone", async () => {
        const left = await Promise.all([
          bed.client.list(CAPI_CLUSTER, { namespace: ns }),
          bed.client.list(CAPI_MACHINE, { namespace: ns }),
          bed.client.list(MAAS_MACHINE, { namespace: ns }),
          bed.client.list(MAAS_CLUSTER, { namespace: ns }),
        ]);
        return left.every((page) => page.items.length === 0);
      }, 240_000);
      bed.sim.clearFaults();
      await waitFor("every MAAS machine released", () => systemIds.every((id) => bed.sim.state().machines.find((m) => m.systemId === id)?.owner === null), 30_000);
      assert.equal(bed.sim.state().dnsResources.some((r) => r.name === cluster), false, "the DNS record is deleted");
    } finally {
      bed.sim.clearFaults();
      watching.abort();
      watchOutcomes = await Promise.all(watches.map((w) => w.done));
    }

    for (const outcome of watchOutcomes) assert.equal(outcome, undefined, `a watch of MaasMachines or MaasClusters failed: ${String(outcome)}`);
    const log = await bed.provider?.logText() ?? "";
    const events = [
      ...(await bed.client.list(EVENT, { namespace: ns })).items,
      ...(await bed.client.list(CORE_EVENT, { namespace: ns })).items,
    ];
    const requests = bed.sim.requestLog();

    const needles = secretNeedles(bed.sim.apiKey);
    const faulted = requests.filter((e) => e.fault !== null).length;
    t.diagnostic(
      `searched ${String(log.split("\n").length)} log lines, ${String(events.length)} Events, ${String(versions.length)} object versions, ${String(metricsText.length)} bytes of /metrics ` +
        `for ${String(needles.length)} secrets; ${String(faulted)} of ${String(requests.length)} MAAS calls faulted`,
    );
    // What was searched is real: debug lines of MAAS calls, faults that fired, Events and conditions.
    assert.ok(log.split("\n").some((l) => l.includes('"level":20') && l.includes('"msg":"MAAS request"') && l.includes('"op":"allocate"')), "the log has allocate calls at debug level");
    assert.ok(log.includes('"msg":"retrying MAAS request"'), "the log has retries of failed MAAS calls");
    assert.ok(requests.some((e) => e.fault === "unavailable" && e.status === 503), "MAAS answered 503");
    assert.ok(requests.some((e) => e.fault === "reset"), "MAAS reset connections");
    assert.ok(events.length >= names.length, `Events were recorded (${String(events.length)})`);
    assert.ok(versions.length > names.length * 2, `each object was seen in several versions (${String(versions.length)})`);
    assert.ok(versions.some((v) => v.includes('"message":"Deployed ')), "condition messages were captured");
    // The bootstrap data did reach MAAS, so it passed through the manager.
    assert.ok(requests.some((e) => e.op === "deploy" && e.params.user_data === Buffer.from(BOOTSTRAP_DATA).toString("base64")), "the bootstrap data was deployed");

    const found = [
      ...leaks("the manager's log", log, needles),
      ...leaks("an Event", JSON.stringify(events), needles),
      ...leaks("a MaasMachine or MaasCluster", versions.join("\n"), needles),
      ...leaks("/metrics", metricsText, needles),
    ];
    assert.deepEqual(found, [], found.join("\n"));
  });
});
