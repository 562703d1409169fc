import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, DEFAULT_WEBHOOK_CERT_DIR, MANAGER_HELP, checkWebhookCertDir, parseManagerConfig, type ManagerConfig } from "./manager-config.ts";

const MAAS_ENV = { MAAS_ENDPOINT: "http://maas.example.com:5240/MAAS", MAAS_API_KEY: "ck:tk:ts" };

function parse(argv: readonly string[], env: NodeJS.ProcessEnv = MAAS_ENV): ManagerConfig {
  const result = parseManagerConfig(argv, env);
  assert.notEqual(result, "help");
  return result as ManagerConfig;
}

/** The ConfigError that parsing `argv` with `env` throws (fails the test when it does not throw one). */
function refusal(argv: readonly string[], env: NodeJS.ProcessEnv = MAAS_ENV): ConfigError {
  try {
    parseManagerConfig(argv, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail(`${JSON.stringify(argv)} was accepted`);
}

describe("parseManagerConfig", () => {
  describe("when no flag is given", () => {
    const config = parse([]);

    for (const [field, expected] of [
      ["kubeconfig", undefined],
      ["namespace", undefined],
      ["watchFilter", undefined],
      ["leaderElect", false],
      ["leaderElectNamespace", "capmaas-system"],
      ["leaderElectId", "capmaas-manager-leader"],
      ["syncPeriodMs", 600_000],
      ["maasWatchIntervalMs", 60_000],
      ["machineConcurrency", 10],
      ["clusterConcurrency", 5],
      ["metricsBindAddress", { host: undefined, port: 8080 }],
      ["healthProbeBindAddress", { host: undefined, port: 8081 }],
      ["logLevel", "info"],
      ["maasCredentials", { kind: "env", ...{ endpoint: MAAS_ENV.MAAS_ENDPOINT, apiKey: MAAS_ENV.MAAS_API_KEY } }],
      ["maasCaFile", undefined],
      ["maasInsecureSkipTlsVerify", false],
      ["ephemeralMinMemoryMiB", 16_384],
      ["webhook", { port: 9443, certDir: "/tmp/k8s-webhook-server/serving-certs", certDirGiven: false }],
    ] as const satisfies ReadonlyArray<readonly [keyof ManagerConfig, unknown]>) {
      it(`defaults ${field} to ${JSON.stringify(expected) ?? "undefined"}`, () => {
        assert.deepEqual(config[field], expected);
      });
    }

    it("sets no field beyond those", () => {
      assert.equal(Object.keys(config).length, 18);
    });

    it("takes the Lease namespace from POD_NAMESPACE when it is set", () => {
      assert.equal(parse([], { ...MAAS_ENV, POD_NAMESPACE: "team-a" }).leaderElectNamespace, "team-a");
    });

    it("takes the log level from LOG_LEVEL, and --log-level over it", () => {
      assert.equal(parse([], { ...MAAS_ENV, LOG_LEVEL: "DEBUG" }).logLevel, "debug");
      assert.equal(parse(["--log-level", "warn"], { ...MAAS_ENV, LOG_LEVEL: "debug" }).logLevel, "warn");
    });
  });

  describe("when flags are given", () => {
    it("reads each of them, in both --flag VALUE and --flag=VALUE forms", () => {
      const config = parse([
        "--kubeconfig=/tmp/kc",
        "--namespace",
        "capmaas-system",
        "--watch-filter=team-a",
        "--leader-elect",
        "--leader-elect-namespace=leases",
        "--leader-elect-id",
        "my.lease",
        "--sync-period=30s",
        "--machine-concurrency",
        "3",
        "--cluster-concurrency=2",
        "--metrics-bind-address=127.0.0.1:9090",
        "--health-probe-bind-address",
        "[::1]:9091",
        "--maas-ca-file=/tmp/ca.pem",
        "--maas-insecure-skip-tls-verify",
        "--ephemeral-min-memory=8Gi",
        "--webhook-port",
        "19443",
        "--webhook-cert-dir=/etc/certs",
        "--maas-watch-interval=5s",
      ]);
      assert.deepEqual(config, {
        kubeconfig: "/tmp/kc",
        namespace: "capmaas-system",
        watchFilter: "team-a",
        leaderElect: true,
        leaderElectNamespace: "leases",
        leaderElectId: "my.lease",
        syncPeriodMs: 30_000,
        maasWatchIntervalMs: 5_000,
        machineConcurrency: 3,
        clusterConcurrency: 2,
        metricsBindAddress: { host: "127.0.0.1", port: 9090 },
        healthProbeBindAddress: { host: "::1", port: 9091 },
        logLevel: "info",
        maasCredentials: { kind: "env", endpoint: MAAS_ENV.MAAS_ENDPOINT, apiKey: MAAS_ENV.MAAS_API_KEY },
        maasCaFile: "/tmp/ca.pem",
        maasInsecureSkipTlsVerify: true,
        ephemeralMinMemoryMiB: 8192,
        webhook: { port: 19443, certDir: "/etc/certs", certDirGiven: true },
      });
    });

    it('turns the webhook server off with --webhook-port 0, whatever --webhook-cert-dir says', () => {
      assert.equal(parse(["--webhook-port", "0"]).webhook, undefined);
      assert.equal(parse(["--webhook-port=0", "--webhook-cert-dir", "/nowhere"]).webhook, undefined);
    });

    it("accepts the highest port, 65535", () => {
      assert.equal(parse(["--webhook-port", "65535"]).webhook?.port, 65535);
    });

    it("accepts names at Kubernetes' length limits: a 63-character namespace, a 253-character Lease name", () => {
      const namespace = "a".repeat(63);
      const leaseName = `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`;
      const config = parse(["--namespace", namespace, "--leader-elect-id", leaseName, "--maas-credentials-secret", `${namespace}/creds`]);
      assert.equal(config.namespace, namespace);
      assert.equal(config.leaderElectId.length, 253);
      assert.deepEqual(config.maasCredentials, { kind: "secret", namespace, name: "creds" });
    });

    it('turns the metrics and probe servers off with "0"', () => {
      const config = parse(["--metrics-bind-address=0", "--health-probe-bind-address=0"]);
      assert.equal(config.metricsBindAddress, undefined);
      assert.equal(config.healthProbeBindAddress, undefined);
    });

    for (const [text, ms] of [
      ["1h30m", 5_400_000],
      ["10m", 600_000],
      ["1500ms", 1500],
      ["1.5s", 1500],
      ["2h", 7_200_000],
    ] as const) {
      it(`reads the duration ${text} as ${String(ms)} ms`, () => {
        assert.equal(parse(["--sync-period", text]).syncPeriodMs, ms);
      });
    }

    for (const [text, mib] of [
      ["16Gi", 16_384],
      ["8192Mi", 8192],
      ["16384", 16_384],
      ["1Ti", 1_048_576],
      ["16G", 15_259],
    ] as const) {
      it(`reads the memory size ${text} as ${String(mib)} MiB`, () => {
        assert.equal(parse(["--ephemeral-min-memory", text]).ephemeralMinMemoryMiB, mib);
      });
    }
  });

  describe("when a value is malformed", () => {
    const rows: ReadonlyArray<{ argv: string[]; env?: NodeJS.ProcessEnv; names: string; fix: RegExp }> = [
      { argv: ["--sync-period", "10"], names: "--sync-period", fix: /30s|10m/ },
      { argv: ["--sync-period=-1s"], names: "--sync-period", fix: /30s|10m/ },
      // parseArgs refuses a value that starts with "-" when given as a separate word.
      { argv: ["--sync-period", "-1s"], names: "--sync-period", fix: /--sync-period=-/ },
      { argv: ["--sync-period", "abc"], names: "--sync-period", fix: /30s|10m/ },
      { argv: ["--sync-period", "500ms"], names: "--sync-period", fix: /at least 1s/ },
      { argv: ["--machine-concurrency", "0"], names: "--machine-concurrency", fix: /--machine-concurrency 10/ },
      { argv: ["--machine-concurrency=-1"], names: "--machine-concurrency", fix: /--machine-concurrency 10/ },
      { argv: ["--machine-concurrency", "-1"], names: "--machine-concurrency", fix: /--machine-concurrency=-/ },
      { argv: ["--machine-concurrency", "1.5"], names: "--machine-concurrency", fix: /whole number/ },
      { argv: ["--machine-concurrency", "x"], names: "--machine-concurrency", fix: /whole number/ },
      { argv: ["--cluster-concurrency", "0"], names: "--cluster-concurrency", fix: /--cluster-concurrency 10/ },
      { argv: ["--metrics-bind-address", "8080"], names: "--metrics-bind-address", fix: /:8080/ },
      { argv: ["--metrics-bind-address", ":99999"], names: "--metrics-bind-address", fix: /127\.0\.0\.1:8080/ },
      { argv: ["--metrics-bind-address", "host:"], names: "--metrics-bind-address", fix: /or 0 to turn it off/ },
      { argv: ["--health-probe-bind-address", "8081"], names: "--health-probe-bind-address", fix: /:8080/ },
      { argv: ["--watch-filter", "team a"], names: "--watch-filter", fix: /--watch-filter team-a/ },
      { argv: ["--watch-filter", "a".repeat(64)], names: "--watch-filter", fix: /at most 63/ },
      { argv: ["--watch-filter", ""], names: "--watch-filter", fix: /--watch-filter team-a/ },
      { argv: ["--namespace", "Bad_NS"], names: "--namespace", fix: /--namespace capmaas-system/ },
      { argv: ["--namespace", "a".repeat(64)], names: "--namespace", fix: /--namespace capmaas-system/ },
      { argv: ["--leader-elect-namespace", "Bad_NS"], names: "--leader-elect-namespace", fix: /namespace name/ },
      { argv: ["--leader-elect-namespace", "a".repeat(64)], names: "--leader-elect-namespace", fix: /namespace name/ },
      { argv: ["--leader-elect-id", "Bad Lease"], names: "--leader-elect-id", fix: /capmaas-manager-leader/ },
      { argv: ["--leader-elect-id", "a".repeat(254)], names: "--leader-elect-id", fix: /capmaas-manager-leader/ },
      { argv: ["--log-level", "loud"], names: "--log-level", fix: /debug, info/ },
      { argv: [], env: { ...MAAS_ENV, LOG_LEVEL: "loud" }, names: "LOG_LEVEL", fix: /debug, info/ },
      { argv: ["--maas-credentials-secret", "nope"], names: "--maas-credentials-secret", fix: /capmaas-system\/capmaas-maas-credentials/ },
      { argv: ["--maas-credentials-secret", "ns/"], names: "--maas-credentials-secret", fix: /NAMESPACE\/NAME/ },
      { argv: ["--maas-credentials-secret", "/name"], names: "--maas-credentials-secret", fix: /NAMESPACE\/NAME/ },
      { argv: ["--maas-credentials-secret", "a/b/c"], names: "--maas-credentials-secret", fix: /NAMESPACE\/NAME/ },
      { argv: ["--maas-credentials-secret", `${"a".repeat(64)}/creds`], names: "--maas-credentials-secret", fix: /NAMESPACE\/NAME/ },
      { argv: ["--ephemeral-min-memory", "lots"], names: "--ephemeral-min-memory", fix: /16Gi/ },
      { argv: ["--ephemeral-min-memory", "16GB"], names: "--ephemeral-min-memory", fix: /16Gi/ },
      { argv: ["--kubeconfig", " "], names: "--kubeconfig", fix: /kubeconfig file path/ },
      { argv: ["--webhook-port", "65536"], names: "--webhook-port", fix: /0 to 65535.*--webhook-port 9443/ },
      { argv: ["--webhook-port=-1"], names: "--webhook-port", fix: /0 turns the webhook server off/ },
      { argv: ["--webhook-port", "94.43"], names: "--webhook-port", fix: /--webhook-port 9443/ },
      { argv: ["--webhook-port", "https"], names: "--webhook-port", fix: /--webhook-port 9443/ },
      { argv: ["--webhook-port="], names: "--webhook-port", fix: /--webhook-port 9443/ },
      { argv: ["--webhook-cert-dir="], names: "--webhook-cert-dir", fix: /tls\.crt and tls\.key/ },
      { argv: ["--maas-ca-file="], names: "--maas-ca-file", fix: /PEM file/ },
      { argv: ["--no-such-flag"], names: "--no-such-flag", fix: /--help/ },
      { argv: ["--sync-period"], names: "--sync-period", fix: /--help/ },
      { argv: ["stray"], names: "stray", fix: /--help/ },
    ];
    for (const { argv, env, names, fix } of rows) {
      const label = argv.length === 0 ? `LOG_LEVEL=${String(env?.LOG_LEVEL)}` : argv.map((a) => (a.length > 20 ? `${a.slice(0, 8)}…(${String(a.length)})` : JSON.stringify(a))).join(" ");
      it(`refuses ${label}, naming ${names} and the fix`, () => {
        const error = refusal(argv, env);
        assert.ok(error.message.includes(names), `"${error.message}" does not name ${names}`);
        assert.match(error.message, fix);
        assert.doesNotMatch(error.message, /\n/, "the refusal is one line");
      });
    }
  });

  describe("when MAAS credentials come from the environment", () => {
    it("refuses a missing MAAS_ENDPOINT, naming it and how to set it", () => {
      const error = refusal([], { MAAS_API_KEY: "ck:tk:ts" });
      assert.match(error.message, /MAAS_ENDPOINT/);
      assert.match(error.message, /export MAAS_ENDPOINT=http/);
      assert.match(error.message, /--maas-credentials-secret/);
    });

    it("treats an empty MAAS_ENDPOINT as missing", () => {
      assert.match(refusal([], { ...MAAS_ENV, MAAS_ENDPOINT: "" }).message, /MAAS_ENDPOINT is not set/);
    });

    it("refuses a missing MAAS_API_KEY, naming it and how to set it", () => {
      const error = refusal([], { MAAS_ENDPOINT: MAAS_ENV.MAAS_ENDPOINT });
      assert.match(error.message, /MAAS_API_KEY/);
      assert.match(error.message, /export MAAS_API_KEY=<consumer>:<token>:<secret>/);
      assert.doesNotMatch(error.message, /MAAS_ENDPOINT is not set/);
    });
  });

  describe("when --maas-credentials-secret is given", () => {
    it("needs neither MAAS_ENDPOINT nor MAAS_API_KEY", () => {
      const config = parse(["--maas-credentials-secret", "capmaas-system/maas-creds"], {});
      assert.deepEqual(config.maasCredentials, { kind: "secret", namespace: "capmaas-system", name: "maas-creds" });
    });

    it("wins over the environment, so the Secret is the one source", () => {
      const config = parse(["--maas-credentials-secret=ns/creds.v1"], MAAS_ENV);
      assert.deepEqual(config.maasCredentials, { kind: "secret", namespace: "ns", name: "creds.v1" });
    });
  });

  describe("when --help is given", () => {
    for (const flag of ["--help", "-h"]) {
      it(`returns "help" for ${flag}, whatever else is missing or wrong`, () => {
        assert.equal(parseManagerConfig([flag], {}), "help");
        assert.equal(parseManagerConfig(["--sync-period", "abc", flag], {}), "help");
      });
    }
  });

  describe("checkWebhookCertDir", () => {
    const only = (...present: string[]) => (path: string) => present.includes(path);

    it("serves when both files are in the directory", () => {
      const webhook = { port: 9443, certDir: "/certs", certDirGiven: true };
      assert.deepEqual(checkWebhookCertDir(webhook, only("/certs/tls.crt", "/certs/tls.key")), { serve: true });
    });

    it("refuses a given directory without the key, naming the flag, the file and the way out", () => {
      const webhook = { port: 9443, certDir: "/certs", certDirGiven: true };
      assert.throws(
        () => checkWebhookCertDir(webhook, only("/certs/tls.crt")),
        (err: unknown) => err instanceof ConfigError && /^--webhook-cert-dir \/certs: tls\.key missing; .*--webhook-port 0/.test(err.message) && !err.message.includes("\n"),
      );
    });

    it("refuses a given directory without either file, naming both", () => {
      const webhook = { port: 9443, certDir: "/certs", certDirGiven: true };
      assert.throws(() => checkWebhookCertDir(webhook, only()), /tls\.crt and tls\.key missing/);
    });

    it("only warns, with the directory and the fix, when the default directory is empty", () => {
      const webhook = parse([]).webhook;
      assert.ok(webhook !== undefined);
      const result = checkWebhookCertDir(webhook, only());
      assert.equal(result.serve, false);
      assert.match(result.serve ? "" : result.warning, new RegExp(`^webhooks not served: ${DEFAULT_WEBHOOK_CERT_DIR} has no tls\\.crt or tls\\.key; .*--webhook-cert-dir DIR`));
    });
  });

  it("documents both webhook flags and their defaults in --help", () => {
    assert.match(MANAGER_HELP, /--webhook-port N .*\(default 9443\)/);
    assert.match(MANAGER_HELP, new RegExp(`--webhook-cert-dir DIR[\\s\\S]*tls\\.crt and tls\\.key[\\s\\S]*default ${DEFAULT_WEBHOOK_CERT_DIR}`));
  });
});
