import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { buildStoreData } from "./inventory.ts";
import { InventoryError } from "./inventory-schema.ts";
import { StateFileError } from "./persistence.ts";
import { startSimulator } from "./simulator.ts";
import { API_KEY, startHarness } from "./test-support.ts";
import type { Inventory, SimulatorOptions } from "./types.ts";

const admin = { username: "admin", consumerKey: "a", tokenKey: "b", tokenSecret: "c" };
const build = (inventory: Inventory, subnet?: string, machines = 2) => buildStoreData({ inventory, machines, seed: 1, maasVersion: "3.6.0", admin, subnet });

interface Link {
  ip_address?: string;
  subnet: { cidr: string; gateway_ip: string; name: string };
}
interface MachineView {
  status_name: string;
  ip_addresses: string[];
  interface_set: Array<{ links: Link[] }>;
  boot_interface: { links: Link[] };
  default_gateways: { ipv4: { gateway_ip: string | null } };
}

describe("the machines' subnet", () => {
  describe("with a loopback subnet given as the subnet option", () => {
    it("reports a deployed machine's addresses, interface link and gateway from it", async () => {
      const h = await startHarness({ subnet: "127.10.0.0/16", machines: 2, deploySeconds: 1 });
      try {
        const [first] = h.sim.state().machines;
        const id = first?.systemId ?? "";
        assert.equal((await h.client.post(`machines/${id}/`, "deploy", {})).status, 200);
        await h.clock.advance(1_000);
        const m = (await h.client.get(`machines/${id}/`)).json<MachineView>();
        assert.equal(m.status_name, "Deployed");
        assert.deepEqual(m.ip_addresses, ["127.10.0.10"]);
        for (const link of [m.interface_set[0]?.links[0], m.boot_interface.links[0]]) {
          assert.equal(link?.ip_address, "127.10.0.10");
          assert.deepEqual([link?.subnet.cidr, link?.subnet.name, link?.subnet.gateway_ip], ["127.10.0.0/16", "127.10.0.0/16", "127.10.0.1"]);
        }
        assert.equal(m.default_gateways.ipv4.gateway_ip, "127.10.0.1");
      } finally {
        await h.sim.close();
      }
    });
  });

  describe("where it comes from", () => {
    const cases: Array<[string, Inventory, string | undefined, { cidr: string; gateway: string; addresses: string[] }]> = [
      ["the default", {}, undefined, { cidr: "10.20.0.0/16", gateway: "10.20.0.1", addresses: ["10.20.0.10", "10.20.0.11"] }],
      ["the inventory", { subnet: { cidr: "127.10.0.0/16", gateway: "127.10.0.254" } }, undefined, { cidr: "127.10.0.0/16", gateway: "127.10.0.254", addresses: ["127.10.0.10", "127.10.0.11"] }],
      ["the subnet option", {}, "127.20.3.0/24", { cidr: "127.20.3.0/24", gateway: "127.20.3.1", addresses: ["127.20.3.10", "127.20.3.11"] }],
      ["the option, host bits cleared as MAAS stores a CIDR", {}, "127.10.5.3/16", { cidr: "127.10.0.0/16", gateway: "127.10.0.1", addresses: ["127.10.0.10", "127.10.0.11"] }],
      ["the inventory, with a machine's own address in it", { subnet: { cidr: "127.10.0.0/16" }, machines: [{ ip: "127.10.9.9" }, {}] }, undefined, { cidr: "127.10.0.0/16", gateway: "127.10.0.1", addresses: ["127.10.9.9", "127.10.0.11"] }],
    ];
    for (const [name, inventory, subnet, expected] of cases) {
      it(`takes it from ${name}`, () => {
        const { state } = build(inventory, subnet);
        assert.deepEqual(state.subnet, { cidr: expected.cidr, gateway: expected.gateway });
        assert.deepEqual(state.machines.map((m) => m.deployIp), expected.addresses);
      });
    }
  });

  describe("a subnet MAAS would not have", () => {
    const cases: Array<[string, Inventory, string | undefined, number, RegExp]> = [
      ["set by both the inventory and the option", { subnet: { cidr: "10.1.0.0/16" } }, "127.10.0.0/16", 2, /subnet is set both here and by the subnet option \(--subnet\); keep one/],
      ["with a gateway outside it", { subnet: { cidr: "127.10.0.0/16", gateway: "10.0.0.1" } }, undefined, 2, /subnet\.gateway is invalid .*Gateway IP must be within CIDR range \(127\.10\.0\.0\/16\)/],
      ["with a machine address outside it", { subnet: { cidr: "127.10.0.0/16" }, machines: [{ ip: "10.20.0.5" }] }, undefined, 1, /machines\[0\]\.ip 10\.20\.0\.5 is outside the subnet 127\.10\.0\.0\/16/],
      ["too small for the machines", {}, "127.10.0.0/24", 246, /machines\[245\]: the subnet 127\.10\.0\.0\/24 has no address left .*use a larger network/],
      ["with a /30 prefix", { subnet: { cidr: "127.10.0.0/30" } }, undefined, 1, /subnet\.cidr is invalid .*\/8 to \/24 prefix/],
      ["with an octet out of range", {}, "127.300.0.0/16", 1, /subnet 127\.300\.0\.0\/16: write an IPv4 network/],
    ];
    for (const [name, inventory, subnet, machines, message] of cases) {
      it(`is refused ${name}, naming the field`, () => {
        assert.throws(() => build(inventory, subnet, machines), (e: unknown) => e instanceof InventoryError && message.test(e.message));
      });
    }

    it("fills a /24 up to its last address before the broadcast", () => {
      const { state } = build({}, "127.10.0.0/24", 245);
      assert.equal(state.machines.at(-1)?.deployIp, "127.10.0.254");
    });
  });

  describe("with a state file", () => {
    const dir = mkdtempSync(join(tmpdir(), "maas-sim-subnet-"));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const start = (options: SimulatorOptions) => startSimulator({ apiKey: API_KEY, machines: 1, port: 0, ...options });

    it("keeps the subnet it was made with, and refuses another one", async () => {
      const stateFile = join(dir, "state.json");
      await (await start({ stateFile, subnet: "127.10.0.0/16" })).close();
      const again = await start({ stateFile, subnet: "127.10.0.0/16" });
      assert.equal(again.state().subnet.cidr, "127.10.0.0/16");
      await again.close();
      const other = await start({ stateFile, subnet: "127.11.0.0/16" }).then(
        async (sim) => {
          await sim.close(); // it should not have started; stop it so the failure is reported, not a hang
          return null;
        },
        (error: unknown) => error,
      );
      assert.ok(other instanceof StateFileError, "refused as a state file problem");
      assert.match(other.message, /holds machines with addresses in 127\.10\.0\.0\/16, not in the subnet asked for \(127\.11\.0\.0\/16\)/);
    });
  });

  describe("machines added while it runs (POST /_sim/machines)", () => {
    it("refuses an address outside the subnet and adds none of the batch", async () => {
      const h = await startHarness({ subnet: "127.10.0.0/16", machines: 1 });
      try {
        const res = await fetch(`${h.sim.adminUrl}/machines`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ machines: [{ hostname: "fine" }, { ip: "10.0.0.9" }] }) });
        assert.equal(res.status, 400);
        assert.match(await res.text(), /machines\[1\]\.ip 10\.0\.0\.9 is outside the subnet 127\.10\.0\.0\/16/);
        assert.equal(h.sim.state().machines.length, 1);
      } finally {
        await h.sim.close();
      }
    });
  });
});
