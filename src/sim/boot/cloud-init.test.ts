import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { describe, it } from "node:test";
import { CloudInitError, readUserData, userDataAsServed, type UserDataReading } from "./cloud-init.ts";
import { CA_FILES, cabpkUserData, clusterConfiguration, gzipBase64, initConfiguration, joinConfiguration, storedUserData, type CabpkInput } from "./test-support.ts";

const identity = { systemId: "abc123", fqdn: "brave-otter.maas.test" };
const read = (text: string): UserDataReading => readUserData(storedUserData(text), identity);

function booted(text: string): Extract<UserDataReading, { kind: "kubeadm" }> {
  const reading = read(text);
  assert.equal(reading.kind, "kubeadm", reading.kind === "nothing-to-boot" ? reading.reason : "");
  return reading as Extract<UserDataReading, { kind: "kubeadm" }>;
}

const fileText = (reading: Extract<UserDataReading, { kind: "kubeadm" }>, path: string): string | undefined => reading.files.get(path)?.content.toString("utf8");

/** A small kubeadm cloud-config around `writeFiles` (YAML list items) and `runcmd`. */
function cloudConfig(writeFiles: string, runcmd = "  - kubeadm init --config /run/kubeadm/kubeadm.yaml\n"): string {
  return `#cloud-config\nwrite_files:\n  - path: /run/kubeadm/kubeadm.yaml\n    content: kind\n${writeFiles}runcmd:\n${runcmd}`;
}

describe("reading a machine's user data as its cloud-init would", () => {
  describe("from the kubeadm bootstrap provider", () => {
    const kinds: Array<[string, CabpkInput, "init" | "join", string]> = [
      ["a control-plane init (v1beta4)", { kind: "init", documents: [clusterConfiguration("v1beta4"), initConfiguration("v1beta4")] }, "init", "/run/kubeadm/kubeadm.yaml"],
      ["a control-plane init (v1beta3)", { kind: "init", documents: [clusterConfiguration("v1beta3"), initConfiguration("v1beta3")] }, "init", "/run/kubeadm/kubeadm.yaml"],
      ["a control-plane join", { kind: "control-plane-join", documents: [joinConfiguration("v1beta4", { controlPlane: true })] }, "join", "/run/kubeadm/kubeadm-join-config.yaml"],
      ["a worker join (v1beta4)", { kind: "worker-join", documents: [joinConfiguration("v1beta4")] }, "join", "/run/kubeadm/kubeadm-join-config.yaml"],
      ["a worker join (v1beta3)", { kind: "worker-join", documents: [joinConfiguration("v1beta3")] }, "join", "/run/kubeadm/kubeadm-join-config.yaml"],
    ];
    for (const [name, input, phase, configPath] of kinds) {
      describe(name, () => {
        const reading = booted(cabpkUserData(input));

        it(`recognises kubeadm ${phase} --config ${configPath} and the success sentinel it writes`, () => {
          assert.deepEqual(reading.kubeadm, { phase, configPath, args: [phase, "--config", configPath], where: "runcmd[0]", sentinelPath: "/run/cluster-api/bootstrap-success.complete" });
          assert.deepEqual(reading.notEmulated, []);
          assert.deepEqual(reading.warnings, []);
        });

        it("renders {{ v1.local_hostname }} in the kubeadm config to the MAAS hostname", () => {
          assert.match(fileText(reading, configPath) ?? "", /\n {2}name: 'brave-otter'\n/);
        });

        const withCAs = input.kind !== "worker-join";
        it(withCAs ? "writes the cluster's CA files with CABPK's owner and modes" : "writes no CA file", () => {
          for (const name of CA_FILES) {
            const file = reading.files.get(`/etc/kubernetes/pki/${name}`);
            if (!withCAs) {
              assert.equal(file, undefined);
              continue;
            }
            assert.equal(file?.content.toString(), `placeholder for ${name}\nsecond line\n`);
            assert.equal(file?.owner, "root:root");
            assert.equal(file?.permissions, name.endsWith(".crt") || name.endsWith(".pub") ? 0o640 : 0o600);
          }
          assert.equal(reading.files.get("/run/cluster-api/placeholder")?.permissions, 0o640);
        });
      });
    }

    it("keeps bootcmd and the commands around kubeadm as not emulated, in script order, with kubeadm's flags", () => {
      const reading = booted(cabpkUserData({
        kind: "init",
        documents: [clusterConfiguration("v1beta4"), initConfiguration("v1beta4")],
        bootCommands: ["echo boot"],
        preKubeadmCommands: ["/usr/local/sbin/capmaas-install-kubernetes \"v1.34.2\""],
        postKubeadmCommands: ["echo 'done'"],
        verbosity: "--v 5",
      }));
      assert.deepEqual(reading.kubeadm.args, ["init", "--config", "/run/kubeadm/kubeadm.yaml", "--v", "5"]);
      assert.equal(reading.kubeadm.where, "runcmd[1]");
      assert.deepEqual(reading.notEmulated, [
        { where: "bootcmd[0]", command: "echo boot" },
        { where: "runcmd[0]", command: '/usr/local/sbin/capmaas-install-kubernetes "v1.34.2"' },
        { where: "runcmd[2]", command: "echo 'done'" },
      ]);
    });

    it("decodes the files CABPK writes with an encoding", () => {
      const reading = booted(cabpkUserData({
        kind: "worker-join",
        documents: [joinConfiguration("v1beta4")],
        files: [
          { path: "/etc/b64", encoding: "base64", content: Buffer.from("plain\n").toString("base64") },
          { path: "/etc/gzb64", encoding: "gzip+base64", content: gzipBase64("zipped\n") },
        ],
      }));
      assert.equal(fileText(reading, "/etc/b64"), "plain\n");
      assert.equal(fileText(reading, "/etc/gzb64"), "zipped\n");
    });
  });

  describe("write_files as cloud-init writes them", () => {
    const gz = gzipSync(Buffer.from("raw gzip\n")).toString("base64");
    const cases: Array<[string, string, string, { content?: string; owner?: string; permissions?: number }]> = [
      ["b64", "encoding: b64\n    content: YWJj", "/etc/f", { content: "abc" }],
      ["gz+b64 in capitals", `encoding: GZ+B64\n    content: ${gzipBase64("x")}`, "/etc/f", { content: "x" }],
      ["gzip of YAML binary", `encoding: gzip\n    content: !!binary ${gz}`, "/etc/f", { content: "raw gzip\n" }],
      ["gz of YAML binary", `encoding: gz\n    content: !!binary ${gz}`, "/etc/f", { content: "raw gzip\n" }],
      ["text/plain", "encoding: text/plain\n    content: as is", "/etc/f", { content: "as is" }],
      ["no content", "owner: ubuntu:ubuntu", "/etc/f", { content: "", owner: "ubuntu:ubuntu", permissions: 0o644 }],
      ["YAML 1.1 octal permissions", "permissions: 0600\n    content: x", "/etc/f", { permissions: 0o600 }],
      ["0o permissions text", "permissions: '0o750'\n    content: x", "/etc/f", { permissions: 0o750 }],
      ["decimal permissions", "permissions: 420\n    content: x", "/etc/f", { permissions: 420 }],
    ];
    for (const [name, fields, path, expected] of cases) {
      it(`writes a file with ${name}`, () => {
        const reading = booted(cloudConfig(`  - path: /etc/f\n    ${fields}\n`));
        const file = reading.files.get(path);
        if (expected.content !== undefined) assert.equal(file?.content.toString(), expected.content);
        if (expected.owner !== undefined) assert.equal(file?.owner, expected.owner);
        if (expected.permissions !== undefined) assert.equal(file?.permissions, expected.permissions);
      });
    }

    it("appends with append: true, replaces otherwise, and writes deferred files last", () => {
      const reading = booted(cloudConfig([
        "  - {path: /etc/log, content: \"b\\n\", append: true, defer: true}",
        "  - {path: /etc/log, content: \"a\\n\"}",
        "  - {path: /etc/log, content: \"c\\n\", append: yes, defer: true}",
        "  - {path: /etc/other, content: old}",
        "  - {path: etc/../etc/other, content: new, permissions: '0600'}",
        "",
      ].join("\n")));
      assert.equal(fileText(reading, "/etc/log"), "a\nb\nc\n");
      assert.equal(fileText(reading, "/etc/other"), "new");
      assert.equal(reading.files.get("/etc/other")?.permissions, 0o600);
    });

    const warned: Array<[string, string, RegExp]> = [
      ["a missing path", "  - content: x\n", /write_files\[1\]\.path is missing; cloud-init skips the entry/],
      ["permissions that are not octal", "  - {path: /etc/f, permissions: rw-r--r--}\n", /write_files\[1\]\.permissions is not an octal mode .*uses 0644/],
      ["an unknown encoding", "  - {path: /etc/f, encoding: rot13, content: x}\n", /write_files\[1\]\.encoding is not one cloud-init knows/],
      ["a source URL", "  - {path: /etc/f, source: {uri: 'http://example.com/x'}, content: x}\n", /write_files\[1\]\.source is not fetched/],
    ];
    for (const [name, entry, warning] of warned) {
      it(`warns about ${name} and goes on, as cloud-init does`, () => {
        const reading = booted(cloudConfig(entry));
        assert.equal(reading.warnings.length, 1);
        assert.match(reading.warnings[0] ?? "", warning);
      });
    }
  });

  describe("user data that boots nothing", () => {
    const cases: Array<[string, string | null, RegExp]> = [
      ["no user data", null, /deployed without user data/],
      ["a shell script", storedUserData("#!/bin/sh\nkubeadm init --config /x\n"), /not a cloud-config \(it starts with "#!"\)/],
      ["a cloud-config without kubeadm", storedUserData("#cloud-config\nruncmd:\n  - echo hi\n"), /runcmd runs no `kubeadm init --config FILE`/],
      ["a cloud-config without runcmd", storedUserData("#cloud-config\npackages: [jq]\n"), /runcmd runs no/],
      ["a kubeadm phase, not a whole init", storedUserData("#cloud-config\nruncmd: ['kubeadm init phase certs all --config /x']\n"), /runcmd runs no/],
      ["kubeadm init without --config", storedUserData("#cloud-config\nruncmd: ['kubeadm init --pod-network-cidr 10.0.0.0/16']\n"), /runcmd runs no/],
      ["kubeadm behind bash -c", storedUserData("#cloud-config\nruncmd: ['bash -c \"kubeadm init --config /x\"']\n"), /runcmd runs no/],
      ["a cloud-config-archive", storedUserData("#cloud-config-archive\n- type: text/x-shellscript\n"), /not a cloud-config \(it starts with "#cloud-config-archive"\)/],
      ["MIME multi-part data", storedUserData("Content-Type: multipart/mixed; boundary=x\nMIME-Version: 1.0\n\n--x\n"), /MIME multi-part user data is not emulated/],
      ["text MAAS serves as it is", "hello, not base64", /not a cloud-config \(it starts with something else\)/],
      ["YAML cloud-init cannot load", storedUserData("#cloud-config\nruncmd: [\n  - secret-token-value: [\n"), /not valid YAML \([A-Z_]+ at line \d+, column \d+\)/],
      ["a cloud-config that is a list", storedUserData("#cloud-config\n- a\n"), /not a mapping of modules/],
      ["runcmd that is not a list", storedUserData("#cloud-config\nruncmd: kubeadm init --config /x\n"), /runcmd: must be a list of commands/],
      ["a runcmd entry shellify refuses", storedUserData("#cloud-config\nruncmd:\n  - kubeadm init --config /x\n  - {a: 1}\n"), /runcmd\[1\]: must be a command line/],
      ["a Jinja template cloud-init cannot render", storedUserData("## template: jinja\n#cloud-config\nruncmd: ['{{ v1.local_hostname | upper }}']\n"), /cannot render the Jinja template: line 2: only variable lookups/],
      ["a Jinja template rendering a script", storedUserData("## template: jinja\n#!/bin/sh\necho {{ v1.local_hostname }}\n"), /not a cloud-config \(it starts with "#!"\)/],
      ["a cloud-config without kubeadm using a variable MAAS lacks", storedUserData("## template: jinja\n#cloud-config\nruncmd: ['echo {{ ds.meta_data.hostname }}']\n"), /runcmd runs no/],
      ["gzip data that does not decompress", Buffer.from([0x1f, 0x8b, 1, 2, 3]).toString("base64"), /gzip-compressed but does not decompress/],
    ];
    for (const [name, stored, reason] of cases) {
      it(`says why for ${name}, without throwing`, () => {
        const reading = readUserData(stored, identity);
        assert.equal(reading.kind, "nothing-to-boot");
        assert.match(reading.kind === "nothing-to-boot" ? reading.reason : "", reason);
      });
    }

    it("never quotes the user data in its reason", () => {
      const reading = readUserData(storedUserData("#cloud-config\nwrite_files:\n  - content: secret-token-value\n    path: [\n"), identity);
      assert.equal(reading.kind, "nothing-to-boot");
      assert.doesNotMatch(reading.kind === "nothing-to-boot" ? reading.reason : "", /secret-token-value/);
    });
  });

  describe("kubeadm user data the simulator cannot follow", () => {
    const init = (files: string, runcmd?: string): string => storedUserData(cloudConfig(files, runcmd));
    const cases: Array<[string, string, string, RegExp]> = [
      ["a Jinja variable MAAS does not give", storedUserData(`## template: jinja\n${cloudConfig("  - {path: /etc/n, content: '{{ ds.meta_data.hostname }} {{ v1.region }}'}\n")}`), "## template: jinja", /uses \{\{ ds\.meta_data\.hostname \}\}, \{\{ v1\.region \}\}, which a MAAS machine's cloud-init does not have .*use \{\{ v1\.local_hostname \}\}/],
      ["content that is not base64", init("  - {path: /etc/pki/ca.key, encoding: base64, content: 'c2VjcmV0LWtleQ'}\n"), "write_files[1].content", /is not valid base64/],
      ["content that is not gzip", init(`  - {path: /etc/pki/ca.key, encoding: gzip+base64, content: '${Buffer.from("secret-key").toString("base64")}'}\n`), "write_files[1].content", /is not gzip data/],
      ["content that is not text", init("  - {path: /etc/f, content: {a: secret-key}}\n"), "write_files[1].content", /must be text/],
      ["a path that is not text", init("  - {path: [a], content: secret-key}\n"), "write_files[1].path", /must be text/],
      ["a --config file nothing writes", init("", "  - kubeadm init --config /run/kubeadm/other.yaml\n"), "runcmd[0]", /names a file no write_files entry writes/],
      ["two kubeadm commands", init("", "  - kubeadm init --config /run/kubeadm/kubeadm.yaml\n  - kubeadm join --config /run/kubeadm/kubeadm.yaml\n"), "runcmd[1]", /runs kubeadm join after runcmd\[0\] already ran kubeadm/],
    ];
    for (const [name, stored, field, message] of cases) {
      it(`refuses ${name}, naming ${field} and never the content`, () => {
        assert.throws(() => readUserData(stored, identity), (e: unknown) => {
          assert.ok(e instanceof CloudInitError);
          assert.equal(e.field, field);
          assert.match(e.message, message);
          assert.doesNotMatch(e.message, /secret-key|c2VjcmV0/);
          return true;
        });
      });
    }
  });

  describe("recognising the kubeadm command", () => {
    const cases: Array<[string, string, { configPath: string; sentinelPath: string | null; notEmulated: string[] }]> = [
      ["with sudo and an absolute path, --config=", "  - sudo /usr/bin/kubeadm init --config=run/kubeadm/kubeadm.yaml\n", { configPath: "/run/kubeadm/kubeadm.yaml", sentinelPath: null, notEmulated: [] }],
      ["as a list of words", "  - [kubeadm, init, --config, /run/kubeadm/kubeadm.yaml]\n", { configPath: "/run/kubeadm/kubeadm.yaml", sentinelPath: null, notEmulated: [] }],
      ["with other commands on its line", "  - cd / && kubeadm init --config /run/kubeadm/kubeadm.yaml && echo ok > /tmp/s; touch /x\n", { configPath: "/run/kubeadm/kubeadm.yaml", sentinelPath: "/tmp/s", notEmulated: ["cd / ; touch /x"] }],
    ];
    for (const [name, runcmd, expected] of cases) {
      it(`finds it ${name}`, () => {
        const reading = booted(cloudConfig("", runcmd));
        assert.equal(reading.kubeadm.configPath, expected.configPath);
        assert.equal(reading.kubeadm.sentinelPath, expected.sentinelPath);
        assert.deepEqual(reading.notEmulated.map((n) => n.command), expected.notEmulated);
      });
    }

    it("reads a gzip-compressed cloud-config", () => {
      const stored = gzipSync(Buffer.from(cloudConfig(""))).toString("base64");
      assert.equal(readUserData(stored, identity).kind, "kubeadm");
    });

    it("reads y and n as text and yes as a boolean, as PyYAML does", () => {
      const reading = booted(cloudConfig("", "  - kubeadm init --config /run/kubeadm/kubeadm.yaml\n  - [echo, y, n, yes]\n"));
      assert.deepEqual(reading.notEmulated, [{ where: "runcmd[1]", command: "'echo' 'y' 'n' 'True'" }]);
    });

    it("lists the cloud-config keys no emulated module reads", () => {
      assert.deepEqual(booted(`${cloudConfig("")}ntp: {enabled: true}\nusers: []\n`).ignoredKeys, ["ntp", "users"]);
    });
  });
});

describe("user data as MAAS's metadata service serves it", () => {
  const cases: Array<[string, string, string]> = [
    ["base64 is decoded", Buffer.from("#cloud-config\n").toString("base64"), "#cloud-config\n"],
    ["base64 broken over lines is decoded", "I2Nsb3VkLWNv\nbmZpZwo=\n", "#cloud-config\n"],
    ["text that is not base64 is served as it is", "#cloud-config\nruncmd: []\n", "#cloud-config\nruncmd: []\n"],
    ["base64 that does not re-encode the same is served as it is", "YR==", "YR=="],
  ];
  for (const [name, stored, served] of cases) {
    it(name, () => assert.equal(userDataAsServed(stored).toString("latin1"), served));
  }
});
