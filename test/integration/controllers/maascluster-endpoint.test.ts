// The MaasCluster controller against a real kube-apiserver and the MAAS simulator: the
// control-plane endpoint (a DNS resource it creates or adopts, or the user's), the
// failure domains from MAAS zones, and what it says when MAAS cannot be used.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  ControlPlaneEndpointGivenReason,
  DNSResourceReadyCondition,
  FailureDomainNotFoundReason,
  FailureDomainsReadyCondition,
  MAAS_CLUSTER,
  MaasClusterFinalizer,
  MaasNotConfiguredReason,
  MaasReachableCondition,
  MaasUnavailableReason,
  ReadyCondition,
} from "../../../src/api/v1beta1/index.ts";
import { DNSResourceAdoptedAnnotation, DNSResourceCreatedAnnotation } from "../../../src/controllers/maascluster/index.ts";
import {
  DOMAIN,
  condition,
  createCluster,
  createMaasCluster,
  dnsWrites,
  settle,
  simRecords,
  startHarness,
  uniqueName,
  waitForGone,
  waitForMaasCluster,
  type Harness,
} from "./maascluster-support.ts";

const provisioned = (c: { status?: { initialization?: { provisioned?: boolean } } }): boolean => c.status?.initialization?.provisioned === true;

describe("MaasCluster controller: the control-plane endpoint and failure domains", () => {
  let h: Harness;

  before(async () => {
    h = await startHarness("maascluster-endpoint");
  });
  after(async () => {
    await h?.stop();
  });

  describe("when spec.controlPlaneEndpoint is not given", () => {
    it("creates the MAAS DNS resource <cluster>.<dnsDomain>, makes it the endpoint on port 6443 and reports provisioned and Ready", async () => {
      const name = uniqueName("c");
      // Named unlike its Cluster, as ClusterClass names it: the record follows the Cluster's name.
      const cluster = await createCluster(h, name, { infraName: `${name}-infra` });
      await createMaasCluster(h, cluster, { name: `${name}-infra` });

      const done = await waitForMaasCluster(h, `${name}-infra`, (c) => provisioned(c) && condition(c, ReadyCondition)?.status === "True", "provisioned and Ready");
      const fqdn = `${name}.${DOMAIN}`;
      assert.deepEqual(done.spec.controlPlaneEndpoint, { host: fqdn, port: 6443 });
      assert.equal(done.status?.dnsName, fqdn);
      assert.equal(done.status?.ready, true);
      assert.ok(done.metadata.finalizers?.includes(MaasClusterFinalizer));
      assert.deepEqual(simRecords(h).get(fqdn), [], "the record exists before any control-plane machine");
      const created = h.sim.state().dnsResources.find((r) => r.name === name);
      assert.equal(done.metadata.annotations?.[DNSResourceCreatedAnnotation], String(created?.id));
      assert.equal(condition(done, DNSResourceReadyCondition)?.status, "True");
      assert.equal(condition(done, MaasReachableCondition)?.status, "True");
    });

    it("keeps a port given without a host", async () => {
      const name = uniqueName("port");
      await createMaasCluster(h, await createCluster(h, name), { spec: { controlPlaneEndpoint: { port: 7443 } } });
      const done = await waitForMaasCluster(h, name, provisioned, "provisioned");
      assert.deepEqual(done.spec.controlPlaneEndpoint, { host: `${name}.${DOMAIN}`, port: 7443 });
    });

    it("creates the record once: later passes find it and write nothing", async () => {
      const name = uniqueName("once");
      await createMaasCluster(h, await createCluster(h, name));
      await waitForMaasCluster(h, name, provisioned, "provisioned");
      const writes = dnsWrites(h);
      // A change to the object brings another pass.
      await h.kube.patch(MAAS_CLUSTER, { namespace: h.ns, name }, { metadata: { labels: { touched: "yes" } } }, { type: "merge" });
      await settle();
      assert.equal(dnsWrites(h), writes);
      assert.equal(h.sim.state().dnsResources.filter((r) => r.name === name).length, 1);
    });
  });

  describe("when spec.controlPlaneEndpoint has a host", () => {
    it("uses it as given with port 6443 and creates no DNS resource", async () => {
      const name = uniqueName("given");
      await createMaasCluster(h, await createCluster(h, name), { spec: { controlPlaneEndpoint: { host: "10.0.0.100" } } });
      const done = await waitForMaasCluster(h, name, provisioned, "provisioned");
      assert.deepEqual(done.spec.controlPlaneEndpoint, { host: "10.0.0.100", port: 6443 });
      assert.equal(simRecords(h).has(`${name}.${DOMAIN}`), false);
      assert.equal(done.metadata.annotations?.[DNSResourceCreatedAnnotation], undefined);
      assert.equal(condition(done, DNSResourceReadyCondition)?.reason, ControlPlaneEndpointGivenReason);
      assert.equal(condition(done, ReadyCondition)?.status, "True");
    });
  });

  describe("when the Cluster has a spec.controlPlaneEndpoint of its own", () => {
    it("takes it as the user's endpoint and creates no DNS resource CAPI would never use", async () => {
      const name = uniqueName("on-cluster");
      await createMaasCluster(h, await createCluster(h, name, { controlPlaneEndpoint: { host: "api.example.com", port: 443 } }));
      const done = await waitForMaasCluster(h, name, provisioned, "provisioned");
      assert.deepEqual(done.spec.controlPlaneEndpoint, { host: "api.example.com", port: 443 });
      assert.equal(simRecords(h).has(`${name}.${DOMAIN}`), false);
    });
  });

  describe("when the DNS record already exists in MAAS", () => {
    it("adopts it as it is and leaves it in MAAS when the cluster is deleted", async () => {
      const name = uniqueName("adopt");
      const fqdn = `${name}.${DOMAIN}`;
      const existing = await h.maas.dnsResources.create({ fqdn, ipAddresses: [] });
      await createMaasCluster(h, await createCluster(h, name));
      const done = await waitForMaasCluster(h, name, provisioned, "provisioned");
      assert.deepEqual(done.spec.controlPlaneEndpoint, { host: fqdn, port: 6443 });
      assert.equal(done.metadata.annotations?.[DNSResourceAdoptedAnnotation], String(existing.id));
      assert.equal(done.metadata.annotations?.[DNSResourceCreatedAnnotation], undefined);
      assert.equal(h.sim.state().dnsResources.filter((r) => r.name === name).length, 1, "no second record");

      await h.kube.delete(MAAS_CLUSTER, { namespace: h.ns, name });
      await waitForGone(h, name);
      assert.deepEqual(simRecords(h).get(fqdn), [], "the adopted record is still in MAAS");
    });

    it("claims the record its own create made when the answer was lost, and deletes it with the cluster", async () => {
      const name = uniqueName("lost");
      const fqdn = `${name}.${DOMAIN}`;
      // As a crash between the create and the write of its id leaves things.
      const made = await h.maas.dnsResources.create({ fqdn, ipAddresses: [] });
      await createMaasCluster(h, await createCluster(h, name), { annotations: { [DNSResourceCreatedAnnotation]: "creating" } });
      const done = await waitForMaasCluster(h, name, provisioned, "provisioned");
      assert.equal(done.metadata.annotations?.[DNSResourceCreatedAnnotation], String(made.id));
      assert.equal(done.metadata.annotations?.[DNSResourceAdoptedAnnotation], undefined);

      await h.kube.delete(MAAS_CLUSTER, { namespace: h.ns, name });
      await waitForGone(h, name);
      assert.equal(simRecords(h).has(fqdn), false);
    });
  });

  describe("failure domains", () => {
    it("offers no failure domain when spec.failureDomains is empty, so MAAS picks the zone (never an empty one)", async () => {
      const name = uniqueName("fd-none");
      await createMaasCluster(h, await createCluster(h, name));
      const done = await waitForMaasCluster(h, name, provisioned, "provisioned");
      assert.equal(done.status?.failureDomains, undefined);
      assert.equal(condition(done, FailureDomainsReadyCondition)?.status, "True");
      assert.match(condition(done, FailureDomainsReadyCondition)?.message ?? "", /MAAS picks each machine's zone/);
    });

    it("offers only the named zones", async () => {
      const name = uniqueName("fd-some");
      await createMaasCluster(h, await createCluster(h, name), { spec: { failureDomains: ["zone-b"] } });
      const done = await waitForMaasCluster(h, name, provisioned, "provisioned");
      assert.deepEqual(done.status?.failureDomains, [{ name: "zone-b", controlPlane: true }]);
    });

    it("names a zone MAAS does not have in FailureDomainsReady, leaves it out, and is not Ready", async () => {
      const name = uniqueName("fd-typo");
      await createMaasCluster(h, await createCluster(h, name), { spec: { failureDomains: ["zone-a", "zone-q"] } });
      const done = await waitForMaasCluster(h, name, (c) => condition(c, FailureDomainsReadyCondition) !== undefined, "FailureDomainsReady");
      const fd = condition(done, FailureDomainsReadyCondition);
      assert.equal(fd?.status, "False");
      assert.equal(fd?.reason, FailureDomainNotFoundReason);
      assert.match(fd?.message ?? "", /"zone-q"/);
      assert.doesNotMatch(fd?.message ?? "", /"zone-a"/);
      assert.deepEqual(done.status?.failureDomains, [{ name: "zone-a", controlPlane: true }]);
      assert.equal(condition(done, ReadyCondition)?.reason, FailureDomainNotFoundReason);
    });
  });

  describe("when MAAS cannot be used", () => {
    it("says MaasNotConfigured while there are no credentials, and provisions once they come", async () => {
      h.connection.unconfigure("MAAS credentials Secret capmaas-system/maas-credentials not found");
      try {
        const name = uniqueName("nocreds");
        await createMaasCluster(h, await createCluster(h, name));
        const waiting = await waitForMaasCluster(h, name, (c) => condition(c, MaasReachableCondition) !== undefined, "MaasReachable");
        assert.equal(condition(waiting, MaasReachableCondition)?.reason, MaasNotConfiguredReason);
        assert.equal(condition(waiting, ReadyCondition)?.reason, MaasNotConfiguredReason);
        assert.match(condition(waiting, ReadyCondition)?.message ?? "", /maas-credentials not found/);
        assert.equal(provisioned(waiting), false);

        h.configureMaas();
        await waitForMaasCluster(h, name, provisioned, "provisioned once MAAS is configured");
      } finally {
        h.configureMaas();
      }
    });

    it("says MaasUnavailable while MAAS answers 503, and recovers when it answers again", async () => {
      h.sim.setFaults([{ method: "GET", path: "^/zones/$", kind: "unavailable" }]);
      try {
        const name = uniqueName("down");
        // Zones are listed only to check the ones spec.failureDomains names.
        await createMaasCluster(h, await createCluster(h, name), { spec: { failureDomains: ["zone-a"] } });
        const down = await waitForMaasCluster(h, name, (c) => condition(c, FailureDomainsReadyCondition) !== undefined, "FailureDomainsReady");
        assert.equal(condition(down, FailureDomainsReadyCondition)?.reason, MaasUnavailableReason);
        assert.equal(condition(down, MaasReachableCondition)?.status, "False");
        assert.equal(provisioned(down), false);

        h.sim.clearFaults();
        const up = await waitForMaasCluster(h, name, (c) => condition(c, MaasReachableCondition)?.status === "True", "MaasReachable again");
        assert.equal(condition(up, FailureDomainsReadyCondition)?.status, "True");
        assert.equal(provisioned(up), true);
      } finally {
        h.sim.clearFaults();
      }
    });
  });
});
