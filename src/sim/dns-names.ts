// The names MAAS's DNS answers for, from the simulator's records. MAAS writes each
// domain's bind zone from "Node: ip mapping(domain) (which includes dnsresource
// addresses)" (src/maasserver/dns/zonegenerator.py, ZoneGenerator._gen_forward_zones,
// get_hostname_ip_mapping): every node's FQDN (hostname.domain) with the addresses its
// interfaces hold, and every DNS resource's addresses, "@" being the domain itself
// (separate_fqdn).
import type { Store } from "./store.ts";

/** The IPv4 addresses MAAS's DNS would answer for `name` (an FQDN, with or without the trailing dot); [] when it has no record. */
export function resolveMaasName(store: Store, name: string): string[] {
  const fqdn = name.toLowerCase().replace(/\.$/, "");
  const state = store.state;
  const addresses: string[] = [];
  for (const resource of state.dnsResources) {
    const domain = store.domainById(resource.domainId)?.name ?? "";
    const resourceFqdn = resource.name === "@" ? domain : `${resource.name}.${domain}`;
    if (resourceFqdn.toLowerCase() === fqdn) addresses.push(...resource.ipAddresses);
  }
  for (const machine of state.machines) {
    const domain = store.domainById(machine.domainId)?.name;
    if (domain === undefined || `${machine.hostname}.${domain}`.toLowerCase() !== fqdn) continue;
    addresses.push(...machine.ipAddresses);
  }
  return [...new Set(addresses)];
}

/** Whether `address` is one the records hand out: a machine's or a DNS resource's. */
export function isMaasAddress(store: Store, address: string): boolean {
  const state = store.state;
  return state.machines.some((m) => m.ipAddresses.includes(address)) || state.dnsResources.some((r) => r.ipAddresses.includes(address));
}
