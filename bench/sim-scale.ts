// Benchmark of the simulator at scale: maas-sim with 10,000 machines, as its own
// process (bin/maas-sim.mjs), measured from /proc. Prints its RSS at start and after
// load; requests per second for the calls a provider makes (a batched
// GET machines/?id=… of 200 ids, GET machines/{id}/, allocate, deploy, release) with
// 1 and 32 concurrent keep-alive clients; the request log's size and the RSS as
// 200,000 requests go by (GET version/, the cheapest call the log records); and its
// descriptors while a client opens a connection per request and never closes one.
// The clients share the machine with the simulator; the load average is printed.
// Prints figures; asserts nothing. Run:
//   node --import tsx bench/sim-scale.ts                     # a few minutes
//   SIM_SCALE_QUICK=1 node --import tsx bench/sim-scale.ts   # under a minute
// SIM_SCALE_MACHINES=N changes the inventory size.
import { availableParallelism, loadavg } from "node:os";
import { defaultMaxConnections } from "../src/sim/http/nginx.ts";
import { rawConnection, startSimProcess, until, type RawConnection, type SimProcess } from "../src/sim/test-process.ts";
import { API_KEY, plaintextHeader, type Reply } from "../src/sim/test-support.ts";

const QUICK = process.env.SIM_SCALE_QUICK === "1";
const MACHINES = Number(process.env.SIM_SCALE_MACHINES ?? 10_000);
const SECONDS = QUICK ? 1 : 5;
const CONCURRENCY = [1, 32];
const BATCH = 200;
const LOG_REQUESTS = QUICK ? 20_000 : 200_000;
const LEAK_REQUESTS = QUICK ? 1_000 : 5_000;
const MiB = 1024 * 1024;

interface Run {
  requests: number;
  failures: number;
  seconds: number;
  latenciesMs: number[];
}

/** `clients` loops calling `call` until `seconds` pass or `call` returns null (nothing left to do). */
async function drive(clients: number, seconds: number, call: (client: number) => Promise<Reply> | null): Promise<Run> {
  const run: Run = { requests: 0, failures: 0, seconds: 0, latenciesMs: [] };
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      while (performance.now() < deadline) {
        const t = performance.now();
        const pending = call(client);
        if (pending === null) return;
        const reply = await pending;
        run.latenciesMs.push(performance.now() - t);
        run.requests++;
        if (reply.status !== 200) run.failures++;
      }
    }),
  );
  run.seconds = (performance.now() - started) / 1000;
  return run;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

function row(call: string, clients: number, run: Run): void {
  console.log(
    [
      call.padEnd(30),
      String(clients).padStart(7),
      (run.requests / run.seconds).toFixed(0).padStart(7),
      percentile(run.latenciesMs, 50).toFixed(1).padStart(7),
      percentile(run.latenciesMs, 99).toFixed(1).padStart(7),
      String(run.requests).padStart(8),
      String(run.failures).padStart(8),
    ].join(" | "),
  );
}

const mib = (bytes: number): string => `${(bytes / MiB).toFixed(0)} MiB`;
const load = (): string => `load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}`;

function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

async function rates(sim: SimProcess, ids: string[]): Promise<void> {
  console.log("\ncall                           | clients |   req/s |  p50 ms |  p99 ms | requests | not 200");
  console.log("-------------------------------|---------|---------|---------|---------|----------|---------");
  const c = sim.client;
  for (const clients of CONCURRENCY) {
    let cursor = 0;
    const next = (): string => ids[cursor++ % ids.length] as string;
    row(`GET machines/?id=… (${BATCH} ids)`, clients, await drive(clients, SECONDS, () => c.get("machines/", { id: Array.from({ length: BATCH }, next) })));
    row("GET machines/{id}/", clients, await drive(clients, SECONDS, () => c.get(`machines/${next()}/`)));
    // Each allocated machine is deployed, then released: the provider's life of a machine.
    const allocated: string[] = [];
    const allocate = await drive(clients, SECONDS, () =>
      c.post("machines/", "allocate", { cpu_count: "1", mem: "1024", agent_name: "bench" }).then((r) => {
        if (r.status === 200) allocated.push(r.json<{ system_id: string }>().system_id);
        return r;
      }),
    );
    row("POST machines/?op=allocate", clients, allocate);
    const deployQueue = [...allocated];
    const deployed: string[] = [];
    row("POST machines/{id}/?op=deploy", clients, await drive(clients, SECONDS * 4, () => {
      const id = deployQueue.pop();
      if (id === undefined) return null;
      deployed.push(id);
      return c.post(`machines/${id}/`, "deploy", { distro_series: "jammy", ephemeral_deploy: "true", user_data: "I2Nsb3VkLWNvbmZpZwo=" });
    }));
    // Releasing what was not deployed too, so every machine is Ready again for the next round.
    const releaseQueue = [...deployed, ...deployQueue];
    row("POST machines/{id}/?op=release", clients, await drive(clients, SECONDS * 4, () => {
      const id = releaseQueue.pop();
      return id === undefined ? null : c.post(`machines/${id}/`, "release", {});
    }));
  }
}

async function requestLog(sim: SimProcess): Promise<void> {
  console.log(`\nrequest log and RSS while ${LOG_REQUESTS.toLocaleString("en")} GET version/ go by (32 clients):`);
  const adminRequests = sim.client.endpoint.replace(/\/MAAS$/, "/_sim/requests");
  const quarter = LOG_REQUESTS / 4;
  let sent = 0;
  for (let step = 1; step <= 4; step++) {
    await drive(32, Number.POSITIVE_INFINITY, () => (sent >= step * quarter ? null : (sent++, sim.client.get("version/"))));
    const entries = ((await (await fetch(adminRequests)).json()) as unknown[]).length;
    console.log(`  after ${sent.toLocaleString("en").padStart(7)} requests: ${String(entries).padStart(6)} log entries, RSS ${mib(sim.rssBytes())}`);
  }
}

async function leakingClient(sim: SimProcess, ids: string[]): Promise<void> {
  const baseline = sim.fds();
  const leaked: RawConnection[] = [];
  let peak = baseline;
  const started = performance.now();
  try {
    for (let done = 0; done < LEAK_REQUESTS; done += 8) {
      const batch = await Promise.all(
        Array.from({ length: 8 }, (_, i) => {
          const head = [`GET /MAAS/api/2.0/machines/${ids[(done + i) % ids.length] ?? ""}/ HTTP/1.1`, "Host: 127.0.0.1", `Authorization: ${plaintextHeader(API_KEY)}`, "", ""].join("\r\n");
          return rawConnection(sim.port, head);
        }),
      );
      leaked.push(...batch);
      await until(() => batch.every((c) => /\r\n\r\n\{[\s\S]*\}$/.test(c.received()) || c.isClosed()), 30_000, "the answers");
      if (done % 200 === 0) peak = Math.max(peak, sim.fds());
    }
    const seconds = (performance.now() - started) / 1000;
    const open = leaked.filter((c) => !c.isClosed()).length;
    console.log(
      `\nleaking client (a new connection per signed GET machines/{id}/, never closed), ${LEAK_REQUESTS.toLocaleString("en")} requests in ${seconds.toFixed(1)} s:\n` +
        `  simulator descriptors: ${baseline} before, ${peak} at most (cap ${defaultMaxConnections()} = 768 × ${availableParallelism()} CPUs, 5 s keep-alive); ` +
        `${open} of the client's connections still open at the end; RSS ${mib(sim.rssBytes())}`,
    );
  } finally {
    for (const c of leaked) c.socket.destroy();
  }
}

async function main(): Promise<void> {
  console.log(`maas-sim at scale: ${MACHINES.toLocaleString("en")} machines, ${SECONDS} s per rate${QUICK ? " (quick mode)" : ""}; node ${process.version}, ${availableParallelism()} CPUs shared by the simulator and its clients; ${load()}`);
  const started = performance.now();
  const sim = await startSimProcess(["--machines", String(MACHINES), "--deploy-seconds", "0", "--release-seconds", "0"]);
  try {
    const startSeconds = (performance.now() - started) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    console.log(`started in ${startSeconds.toFixed(1)} s; RSS at start ${mib(sim.rssBytes())}`);
    const t = performance.now();
    const all = await sim.client.get("machines/");
    const ids = shuffled(all.json<Array<{ system_id: string }>>().map((m) => m.system_id));
    console.log(`GET machines/ (all ${ids.length.toLocaleString("en")}, ${mib(all.text.length)} of JSON): ${(performance.now() - t).toFixed(0)} ms; RSS ${mib(sim.rssBytes())}`);
    await rates(sim, ids);
    console.log(`\nRSS after the rates: ${mib(sim.rssBytes())}`);
    await requestLog(sim);
    await leakingClient(sim, ids);
    console.log(`\nRSS at the end: ${mib(sim.rssBytes())}; descriptors ${sim.fds()}; ${((performance.now() - started) / 1000).toFixed(0)} s in all; ${load()}`);
  } finally {
    await sim.stop();
  }
}

await main();
