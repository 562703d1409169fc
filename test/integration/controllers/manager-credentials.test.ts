// MAAS credentials from a Secret (--maas-credentials-secret): until it exists every
// MaasMachine says MAAS is not configured, and once it is written the same manager,
// without a restart, allocates and deploys.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { MAAS_CLUSTER } from "../../../src/api/v1beta1/index.ts";
import { SECRET } from "../../../src/capi/index.ts";
import { NAMESPACE_KIND, Testbed, createNamespace, waitFor } from "./provider-harness.ts";

describe("MAAS credentials from a Secret", () => {
  const secretNamespace = `capmaas-creds-${randomBytes(3).toString("hex")}`;
  // No CAPI manager: nothing but the Secret can bring the MaasCluster back before the 10-minute resync.
  const bed = new Testbed({ prefix: "mm-creds", capiCore: false, credentialsSecret: { namespace: secretNamespace, name: "maas-credentials" } });
  before(async () => {
    await bed.start();
    await bed.client.create(NAMESPACE_KIND, { metadata: { name: secretNamespace } });
  });
  after(() => bed.stop());

  it("reports MaasNotConfigured until the Secret exists, then provisions and deploys without a restart", async () => {
    const ns = await createNamespace(bed.client, "mm-creds");
    // Provisioning the cluster needs MAAS (zones, DNS): it waits for the credentials too.
    const clusterReady = bed.readyCluster(ns, "c1");
    const waiting = await waitFor("MaasCluster MaasReachable=MaasNotConfigured", async () => {
      const c = await bed.client.get(MAAS_CLUSTER, { namespace: ns, name: "c1" }).catch(() => undefined);
      return c?.status?.conditions?.find((x) => x.type === "MaasReachable" && x.reason === "MaasNotConfigured");
    });
    assert.match(waiting.message ?? "", /credentials/i);
    assert.equal(bed.sim.requestLog().filter((e) => e.user !== null).length, 0, "nothing asked of MAAS");
    const pid = bed.provider?.child.pid;

    await bed.client.create(SECRET, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "maas-credentials", namespace: secretNamespace },
      data: { MAAS_ENDPOINT: Buffer.from(bed.sim.endpoint).toString("base64"), MAAS_API_KEY: Buffer.from(bed.sim.apiKey).toString("base64") },
    });
    await clusterReady;
    await bed.machineWithData(ns, "c1", "m0", { minCPU: 2, minMemory: 4096 });
    const ready = await bed.readyMaasMachine(ns, "m0", 30_000);
    assert.notEqual(ready.spec.systemID, undefined);
    assert.equal(bed.provider?.child.pid, pid, "the same manager process");
    assert.equal(bed.provider?.child.hasExited, false);
  });
});
