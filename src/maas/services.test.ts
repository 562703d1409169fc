import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MaasBootResourcesService } from "./boot-resources.ts";
import { MaasDnsResourcesService, dnsResourceAddresses } from "./dns-resources.ts";
import { MaasDomainsService } from "./domains.ts";
import { MaasError } from "./errors.ts";
import type { MaasAnswer, MaasRequest, MaasRequester } from "./http.ts";
import { MaasResourcePoolsService } from "./resource-pools.ts";
import { MaasTagsService } from "./tags.ts";
import { MaasVersionService } from "./version.ts";
import { MaasZonesService } from "./zones.ts";

/** Stands in for the wire: records what a service asks for and answers from a script. */
class RecordingRequester implements MaasRequester {
  readonly requests: MaasRequest[] = [];
  constructor(private readonly answer: (request: MaasRequest) => unknown) {}
  request(request: MaasRequest): Promise<MaasAnswer> {
    this.requests.push(request);
    return Promise.resolve({ status: 200, json: this.answer(request) });
  }
}

// Example answers written after MAAS's handlers (maasserver/api/*.py) as documented
// in reference/maas-api.md §4 and §9.
const versionJson = {
  capabilities: ["networks-management", "static-ipaddresses", "ipv6-deployment-ubuntu", "devices-management",
    "storage-deployment-ubuntu", "network-deployment-ubuntu", "bridging-interface-ubuntu", "bridging-automatic-ubuntu", "authenticate-api"],
  version: "3.6.0",
  subversion: "",
};
const zonesJson = [
  { id: 1, name: "default", description: "", resource_uri: "/MAAS/api/2.0/zones/default/" },
  { id: 2, name: "zone-a", description: "rack A", resource_uri: "/MAAS/api/2.0/zones/zone-a/" },
];
const poolsJson = [{ id: 0, name: "default", description: "Default pool", resource_uri: "/MAAS/api/2.0/resourcepool/0/" }];
const domainJson = { authoritative: true, ttl: null, is_default: true, resource_record_count: 3, id: 0, name: "maas", resource_uri: "/MAAS/api/2.0/domains/0/" };
const dnsResourceJson = {
  id: 12,
  fqdn: "capi-cluster.maas",
  address_ttl: 30,
  ip_addresses: [{ alloc_type: 4, alloc_type_name: "User reserved", ip: "10.0.0.11", owner: "admin", subnet: { cidr: "10.0.0.0/24" } }],
  resource_records: [],
  resource_uri: "/MAAS/api/2.0/dnsresources/12/",
};
const bootResourcesJson = [
  { id: 7, type: "Synced", name: "ubuntu/jammy", architecture: "amd64/generic", resource_uri: "/MAAS/api/2.0/boot-resources/7/", subarches: "generic,hwe-22.04", title: "22.04 LTS" },
  { id: 9, type: "Uploaded", name: "custom/k8s-1.30", architecture: "amd64/generic", resource_uri: "/MAAS/api/2.0/boot-resources/9/" },
];
const tagJson = { name: "control-plane", definition: "", comment: "CAPI control plane", kernel_opts: "", resource_uri: "/MAAS/api/2.0/tags/control-plane/" };

describe("VersionService", () => {
  it("reads version, subversion and capabilities from GET version/", async () => {
    const requester = new RecordingRequester(() => versionJson);
    const info = await new MaasVersionService(requester).get();
    assert.deepEqual(requester.requests, [{ method: "GET", path: "version/" }]);
    assert.equal(info.version, "3.6.0");
    assert.equal(info.subversion, "");
    assert.ok(info.capabilities.includes("authenticate-api"));
  });

  it("refuses an answer without a version string", async () => {
    const requester = new RecordingRequester(() => ({ capabilities: [], subversion: "" }));
    await assert.rejects(new MaasVersionService(requester).get(), (error: unknown) => {
      assert.ok(error instanceof MaasError);
      assert.equal(error.code, "Unexpected");
      assert.match(error.message, /field \/version/);
      return true;
    });
  });
});

describe("ZonesService and ResourcePoolsService", () => {
  it("lists and gets zones by name", async () => {
    const requester = new RecordingRequester((r) => (r.path === "zones/" ? zonesJson : zonesJson[1]));
    const zones = new MaasZonesService(requester);
    assert.deepEqual((await zones.list()).map((z) => z.name), ["default", "zone-a"]);
    assert.equal((await zones.get("zone-a")).description, "rack A");
    assert.deepEqual(requester.requests.map((r) => r.path), ["zones/", "zones/zone-a/"]);
  });

  it("lists pools at resourcepools/ and gets one at resourcepool/{id}/", async () => {
    const requester = new RecordingRequester((r) => (r.path === "resourcepools/" ? poolsJson : poolsJson[0]));
    const pools = new MaasResourcePoolsService(requester);
    assert.equal((await pools.list())[0]?.name, "default");
    assert.equal((await pools.get(0)).id, 0);
    assert.deepEqual(requester.requests.map((r) => r.path), ["resourcepools/", "resourcepool/0/"]);
  });
});

describe("DomainsService", () => {
  it("lists, gets and creates domains", async () => {
    const requester = new RecordingRequester((r) => (r.path === "domains/" && r.method === "GET" ? [domainJson] : domainJson));
    const domains = new MaasDomainsService(requester);
    assert.equal((await domains.list())[0]?.ttl, null);
    assert.equal((await domains.get(0)).name, "maas");
    await domains.create({ name: "example.com", authoritative: true, ttlSeconds: 60 });
    assert.deepEqual(requester.requests[2], { method: "POST", path: "domains/", form: { name: "example.com", authoritative: true, ttl: 60 } });
  });
});

describe("DnsResourcesService", () => {
  it("filters the list by fqdn and reads IP address objects", async () => {
    const requester = new RecordingRequester(() => [dnsResourceJson]);
    const [record] = await new MaasDnsResourcesService(requester).list({ fqdn: "capi-cluster.maas" });
    assert.deepEqual(requester.requests[0], { method: "GET", path: "dnsresources/", query: { fqdn: "capi-cluster.maas", all: undefined } });
    assert.ok(record);
    assert.deepEqual(dnsResourceAddresses(record), ["10.0.0.11"]);
    assert.deepEqual(record.resource_records, []);
  });

  it("creates with space-separated ip_addresses and updates with PUT", async () => {
    const requester = new RecordingRequester(() => ({ ...dnsResourceJson, ip_addresses: ["10.0.0.11", "10.0.0.12"] }));
    const dns = new MaasDnsResourcesService(requester);
    const created = await dns.create({ fqdn: "capi-cluster.maas", ipAddresses: ["10.0.0.11", "10.0.0.12"], addressTtlSeconds: 30 });
    assert.deepEqual(dnsResourceAddresses(created), ["10.0.0.11", "10.0.0.12"]);
    await dns.update(12, { ipAddresses: ["10.0.0.13"] });
    assert.deepEqual(requester.requests, [
      { method: "POST", path: "dnsresources/", form: { fqdn: "capi-cluster.maas", ip_addresses: "10.0.0.11 10.0.0.12", address_ttl: 30 } },
      { method: "PUT", path: "dnsresources/12/", route: "dnsresources/{id}/", form: { fqdn: undefined, ip_addresses: "10.0.0.13", address_ttl: undefined } },
    ]);
  });

  it("treats an empty answer to DELETE as success", async () => {
    const requester = new RecordingRequester(() => undefined);
    await new MaasDnsResourcesService(requester).delete(12);
    assert.deepEqual(requester.requests, [{ method: "DELETE", path: "dnsresources/12/", route: "dnsresources/{id}/" }]);
  });
});

describe("BootResourcesService", () => {
  it("lists images with their name, architecture and type", async () => {
    const resources = await new MaasBootResourcesService(new RecordingRequester(() => bootResourcesJson)).list();
    assert.deepEqual(resources.map((r) => [r.name, r.architecture, r.type]), [
      ["ubuntu/jammy", "amd64/generic", "Synced"],
      ["custom/k8s-1.30", "amd64/generic", "Uploaded"],
    ]);
    assert.equal(resources[0]?.title, "22.04 LTS");
  });
});

describe("TagsService", () => {
  it("creates, gets, lists and deletes tags", async () => {
    const requester = new RecordingRequester((r) => (r.method === "DELETE" ? undefined : r.path === "tags/" && r.method === "GET" ? [tagJson] : tagJson));
    const tags = new MaasTagsService(requester);
    await tags.create({ name: "control-plane", comment: "CAPI control plane", kernelOpts: "console=ttyS0" });
    assert.equal((await tags.get("control-plane")).comment, "CAPI control plane");
    assert.equal((await tags.list()).length, 1);
    await tags.delete("control-plane");
    assert.deepEqual(requester.requests.map((r) => `${r.method} ${r.path}`), ["POST tags/", "GET tags/control-plane/", "GET tags/", "DELETE tags/control-plane/"]);
    assert.deepEqual(requester.requests[0]?.form, { name: "control-plane", comment: "CAPI control plane", definition: undefined, kernel_opts: "console=ttyS0" });
  });

  it("adds and removes machines through op=update_nodes", async () => {
    const requester = new RecordingRequester((r) => ({ added: r.form?.add === undefined ? 0 : 2, removed: r.form?.remove === undefined ? 0 : 1 }));
    const tags = new MaasTagsService(requester);
    assert.deepEqual(await tags.addMachines("cp", ["a1", "b2"]), { added: 2, removed: 0 });
    assert.deepEqual(await tags.removeMachines("cp", ["a1"]), { added: 0, removed: 1 });
    assert.deepEqual(requester.requests, [
      { method: "POST", path: "tags/cp/", route: "tags/{name}/", op: "update_nodes", form: { add: ["a1", "b2"] } },
      { method: "POST", path: "tags/cp/", route: "tags/{name}/", op: "update_nodes", form: { remove: ["a1"] } },
    ]);
  });
});
