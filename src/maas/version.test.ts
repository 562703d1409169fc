import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { compareMaasVersions, parseImageName, parseMaasVersion, supportsEphemeralDeploy } from "./version.ts";

describe("parseMaasVersion", () => {
  it("reads major.minor.patch and a ~qualifier", () => {
    assert.deepEqual(parseMaasVersion("3.5.4"), { major: 3, minor: 5, patch: 4, prerelease: undefined, raw: "3.5.4" });
    assert.deepEqual(parseMaasVersion("3.0.0~beta1"), { major: 3, minor: 0, patch: 0, prerelease: "beta1", raw: "3.0.0~beta1" });
    assert.equal(parseMaasVersion("2.5.0 from source")?.minor, 5);
    assert.equal(parseMaasVersion("3.6")?.patch, 0);
  });
  it("gives undefined for text that is not a version", () => {
    assert.equal(parseMaasVersion(""), undefined);
    assert.equal(parseMaasVersion("latest"), undefined);
  });
});

describe("compareMaasVersions", () => {
  const ascending = ["2.5.0", "2.6.0~alpha1", "2.6.0~beta2", "2.6.0~beta10", "2.6.0~rc1", "2.6.0", "2.6.1", "2.10.0", "3.0.0~beta1", "3.0.0", "3.5.4", "3.6.0"];
  it("orders versions numerically, with ~ pre-releases before their release", () => {
    const shuffled = [...ascending].reverse();
    assert.deepEqual(shuffled.sort(compareMaasVersions), ascending);
  });
  it("treats equal versions as equal", () => {
    assert.equal(compareMaasVersions("3.5.0", "3.5"), 0);
  });
  it("throws on text that is not a version", () => {
    assert.throws(() => compareMaasVersions("x", "3.5.0"), RangeError);
  });
});

describe("parseImageName", () => {
  it("splits os/series and treats a bare series as Ubuntu", () => {
    assert.deepEqual(parseImageName("ubuntu/jammy"), { osystem: "ubuntu", series: "jammy" });
    assert.deepEqual(parseImageName("jammy"), { osystem: "ubuntu", series: "jammy" });
    assert.deepEqual(parseImageName("custom/my-image"), { osystem: "custom", series: "my-image" });
  });
});

describe("supportsEphemeralDeploy", () => {
  const table: [string, string, boolean][] = [
    ["2.5.3", "ubuntu/jammy", false],
    ["2.6.0~beta1", "ubuntu/bionic", false],
    ["2.6.0", "ubuntu/bionic", true],
    ["2.6.0", "ubuntu/xenial", true],
    ["2.6.2", "centos/7", false],
    ["2.7.0", "ubuntu/xenial", false],
    ["2.9.2", "bionic", true],
    ["3.4.2", "ubuntu/jammy", true],
    ["3.4.2", "jammy", true],
    ["3.4.2", "ubuntu/trusty", false],
    ["3.4.2", "centos/8", false],
    ["3.4.2", "custom/k8s-image", false],
    ["3.5.0~rc1", "rhel/9", false],
    ["3.5.0", "rhel/9", true],
    ["3.5.0", "custom/k8s-image", true],
    ["3.6.0", "ubuntu/noble", true],
    ["not-a-version", "ubuntu/jammy", false],
  ];
  for (const [version, image, expected] of table) {
    it(`MAAS ${version} with ${image}: ${expected ? "supported" : "not supported"}`, () => {
      assert.equal(supportsEphemeralDeploy(version, image), expected);
    });
  }
  it("accepts a parsed version", () => {
    const parsed = parseMaasVersion("3.5.4");
    assert.ok(parsed);
    assert.equal(supportsEphemeralDeploy(parsed, "windows/win2019"), true);
  });
});
