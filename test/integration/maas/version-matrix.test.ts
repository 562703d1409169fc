// The client decides from MAAS's version and the image whether deploying to memory can
// work (src/maas/version.ts supportsEphemeralDeploy); the simulator enforces each
// version's rules (src/sim/maas-version.ts, src/sim/deploy.ts startChecks). Both are
// written from reference/maas-api.md §1, separately, so this runs one against the other
// at each version where the rules or the machine JSON change, and fails when they drift.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { FakeClock } from "../../../src/clock/index.ts";
import { startSimulator } from "../../../src/sim/index.ts";
import type { InventoryBootResource } from "../../../src/sim/index.ts";
import {
  MaasBadRequestError,
  MachineStatus,
  deploymentTarget,
  isAtLeast,
  supportsEphemeralDeploy,
  type MaasClient,
} from "../../../src/maas/index.ts";
import { clientFor, type Simulator } from "./sim-harness.ts";

interface ImageCase {
  image: string;
  resource: InventoryBootResource;
  /** A dd image (ddgz, ddraw, ...): a disk image that cannot run from memory. */
  dd?: boolean;
}

const IMAGES: ImageCase[] = [
  { image: "ubuntu/jammy", resource: { name: "ubuntu/jammy", alias: "22.04" } },
  { image: "ubuntu/xenial", resource: { name: "ubuntu/xenial", alias: "16.04" } },
  { image: "centos/8", resource: { name: "centos/8", type: "uploaded", filetype: "root-tgz" } },
  { image: "rhel/9", resource: { name: "rhel/9", type: "uploaded", filetype: "root-txz" } },
  { image: "custom/k8s-tgz", resource: { name: "custom/k8s-tgz", type: "uploaded", filetype: "root-tgz" } },
  { image: "custom/k8s-dd", resource: { name: "custom/k8s-dd", type: "uploaded", filetype: "ddgz" }, dd: true },
];

// Where the rules change: 2.6 (first with the parameter), 2.7–3.4 (Ubuntu ≥ Bionic),
// 3.5 (any image that can run from memory), and for the JSON field 3.3.7 / 3.4.2 / 3.5.
const DEPLOY_SECONDS = 30;

const VERSIONS = ["2.6.0", "2.9.2", "3.3.6", "3.3.7", "3.4.0", "3.4.2", "3.5.0", "3.6.0"];

/** reference §1: the field came with the LP#2033632 fix, in 3.3.7, 3.4.2 and 3.5.0. */
const WITH_EPHEMERAL_FIELD = new Set(["3.3.7", "3.4.2", "3.5.0", "3.6.0"]);

/**
 * Where the client's answer and MAAS's acceptance of the request differ on purpose:
 * - 3.5+ with a dd image: the answer depends on the image's files, which the API does
 *   not show, so the client says yes and MAAS answers 400 "Deployment to memory not
 *   supported for …" (documented on supportsEphemeralDeploy).
 * - 2.6 with a non-Ubuntu image: MAAS accepts the flag, but an ephemeral deploy boots
 *   the commissioning preseed with the commissioning OS (maas@2.6.0
 *   src/maasserver/preseed.py get_preseed), so the machine would not run the image:
 *   the client says no.
 */
function documentedException(version: string, c: ImageCase): "dd-image" | "2.6-non-ubuntu" | undefined {
  if (isAtLeast(version, "3.5.0") && c.dd === true) return "dd-image";
  if (!isAtLeast(version, "2.7.0") && !c.image.startsWith("ubuntu/")) return "2.6-non-ubuntu";
  return undefined;
}

/** The 400 text/plain MAAS refuses with, by version (reference §1). */
function refusalText(version: string, c: ImageCase): string {
  if (isAtLeast(version, "3.5.0")) return `Deployment to memory not supported for ${c.image} on amd64/generic`;
  return "Ephemeral deployments only supported on Ubuntu Bionic 18.04+";
}

describe("deploying to memory across MAAS versions: the client's table against the simulator", () => {
  for (const version of VERSIONS) {
    describe(`on MAAS ${version}`, () => {
      let sim: Simulator;
      let maas: MaasClient;
      // The simulator's lifecycle runs on this clock, so Deploying ends when the test says.
      const clock = new FakeClock();
      let reported: string;

      before(async () => {
        sim = await startSimulator({
          port: 0,
          seed: 1,
          maasVersion: version,
          clock,
          deploySeconds: DEPLOY_SECONDS,
          releaseSeconds: 0,
          inventory: {
            bootResources: IMAGES.map((c) => c.resource),
            machines: [...IMAGES.map((_, i) => ({ hostname: `mem-${i}` })), { hostname: "disk-0" }],
          },
        });
        maas = clientFor(sim);
        // The version the client would decide from is the one MAAS reports.
        reported = (await maas.version.get()).version;
      });
      after(async () => {
        maas.close();
        await sim.close();
      });

      IMAGES.forEach((c, i) => {
        const predicted = supportsEphemeralDeploy(version, c.image);
        const exception = documentedException(version, c);
        const accepted = exception === undefined ? predicted : !predicted;
        const name =
          exception === "dd-image"
            ? `refuses ${c.image} although the client says yes: the dd image cannot run from memory (the documented exception)`
            : exception === "2.6-non-ubuntu"
              ? `accepts ${c.image} although the client says no: 2.6 would boot the commissioning OS (the documented exception)`
              : `${accepted ? "deploys" : "refuses"} ${c.image} to memory, as supportsEphemeralDeploy says`;
        it(name, async () => {
          assert.equal(supportsEphemeralDeploy(reported, c.image), predicted, "decided from /version/ as from the table");
          const allocated = await maas.machines.allocate({ name: `mem-${i}` });
          const deploy = maas.machines.deploy(allocated.system_id, { distroSeries: c.image, ephemeralDeploy: true });
          if (accepted) {
            const deploying = await deploy;
            assert.equal(deploying.status, MachineStatus.Deploying);
            await clock.advance(DEPLOY_SECONDS * 1000);
            const deployed = await maas.machines.get(allocated.system_id);
            assert.equal(deployed.status, MachineStatus.Deployed);
            assert.equal(deploymentTarget(deployed), WITH_EPHEMERAL_FIELD.has(version) ? "memory" : undefined);
          } else {
            await assert.rejects(deploy, (error: unknown) => {
              assert.ok(error instanceof MaasBadRequestError, String(error));
              assert.equal(error.status, 400);
              assert.equal(error.body, refusalText(version, c));
              return true;
            });
            assert.equal((await maas.machines.get(allocated.system_id)).status, MachineStatus.Allocated, "a refused deploy changes nothing");
          }
          await maas.machines.release(allocated.system_id);
        });
      });

      if (WITH_EPHEMERAL_FIELD.has(version)) {
        it("shows ephemeral_deploy in the machine JSON, and deploymentTarget() reads it", async () => {
          const [ready] = await maas.machines.list({ hostnames: ["disk-0"] });
          assert.equal(ready?.ephemeral_deploy, false);
          const allocated = await maas.machines.allocate({ name: "disk-0" });
          const onDisk = await maas.machines.deploy(allocated.system_id, { distroSeries: "ubuntu/jammy" });
          assert.equal(onDisk.ephemeral_deploy, false);
          assert.equal(deploymentTarget(onDisk), "disk");
          await maas.machines.release(allocated.system_id);
        });
      } else {
        it("has no ephemeral_deploy in the machine JSON, so deploymentTarget() cannot tell", async () => {
          const allocated = await maas.machines.allocate({ name: "disk-0" });
          const onDisk = await maas.machines.deploy(allocated.system_id, { distroSeries: "ubuntu/jammy" });
          assert.ok(!("ephemeral_deploy" in onDisk), "no ephemeral_deploy key");
          assert.equal(deploymentTarget(onDisk), undefined);
          for (const machine of await maas.machines.list()) assert.ok(!("ephemeral_deploy" in machine), machine.hostname);
          await maas.machines.release(allocated.system_id);
        });
      }
    });
  }
});
