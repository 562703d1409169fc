// DNS listing against the simulator, which mirrors MAAS's DNSResourcesQuerySet: with
// all=true MAAS adds implicit records (id -1, ip_addresses null) for node and record
// addresses, and the client must read them rather than refuse the whole list.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { dnsResourceAddresses, type DnsResource, type MaasClient } from "../../../src/maas/index.ts";
import { VIEWER_KEY, clientFor, startTestSimulator, type Simulator } from "./sim-harness.ts";

/** The A/AAAA data of a record's resource_records (where implicit records keep their addresses). */
function rrdata(record: DnsResource | undefined): unknown[] {
  const records = record?.resource_records;
  return Array.isArray(records) ? records.map((rr: { rrdata?: unknown }) => rr.rrdata) : [];
}

describe("DNS resources against the simulator", () => {
  let sim: Simulator;
  let maas: MaasClient;
  let viewer: MaasClient;
  let deployedIp: string;
  let storedId: number;

  before(async () => {
    sim = await startTestSimulator();
    maas = clientFor(sim);
    viewer = clientFor(sim, { apiKey: VIEWER_KEY });
    const allocated = await maas.machines.allocate({ name: "cp-1" });
    const deployed = await maas.machines.deploy(allocated.system_id, { distroSeries: "jammy" });
    deployedIp = deployed.ip_addresses[0] ?? "";
    assert.notEqual(deployedIp, "");
    storedId = (await maas.dnsResources.create({ fqdn: "api.example.com", ipAddresses: ["10.20.0.90"] })).id;
  });
  after(async () => {
    maas.close();
    viewer.close();
    await sim.close();
  });

  describe("when listing without all", () => {
    it("does not list implicit records, only the stored ones", async () => {
      const records = await maas.dnsResources.list();
      assert.deepEqual(records.map((r) => [r.id, r.fqdn]), [[storedId, "api.example.com"]]);
    });
  });

  describe("when listing with all=true", () => {
    it("reads a deployed machine's implicit record (id -1, ip_addresses null) as a record without addresses", async () => {
      const records = await maas.dnsResources.list({ all: true });
      const implicit = records.find((r) => r.fqdn === "cp-1.example.com");
      assert.ok(implicit, "the machine's implicit record is listed");
      assert.equal(implicit.id, -1);
      assert.equal(implicit.ip_addresses, null);
      assert.deepEqual(dnsResourceAddresses(implicit), []);
      assert.deepEqual(rrdata(implicit), [deployedIp]);
    });

    it("lists a stored record with addresses twice: as an implicit record, then as itself", async () => {
      const records = await maas.dnsResources.list({ all: true });
      const api = records.filter((r) => r.fqdn === "api.example.com");
      assert.deepEqual(api.map((r) => r.id), [-1, storedId]);
      assert.deepEqual(rrdata(api[0]), ["10.20.0.90"]);
      assert.deepEqual(dnsResourceAddresses(api[1] as DnsResource), ["10.20.0.90"]);
    });

    it("narrows implicit records to the fqdn's name", async () => {
      const records = await maas.dnsResources.list({ fqdn: "cp-1.example.com", all: true });
      assert.deepEqual(records.map((r) => [r.id, r.fqdn]), [[-1, "cp-1.example.com"]]);
    });

    it("hides from a non-admin the implicit records of addresses other users hold", async () => {
      const records = await viewer.dnsResources.list({ all: true });
      assert.deepEqual(records.map((r) => [r.id, r.fqdn]), [[storedId, "api.example.com"]]);
    });
  });
});
