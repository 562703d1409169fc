// Provider IDs: `maas:///<zone>/<system-id>` (three slashes, an empty host), the form
// other MAAS tooling parses and the Node's spec.providerID carries.

const PREFIX = "maas:///";

export interface ParsedProviderID {
  zone: string;
  systemId: string;
}

export function formatProviderID(zone: string, systemId: string): string {
  if (zone === "" || zone.includes("/")) throw new RangeError(`invalid MAAS zone for a provider ID: ${JSON.stringify(zone)}`);
  if (systemId === "" || systemId.includes("/")) throw new RangeError(`invalid MAAS system ID: ${JSON.stringify(systemId)}`);
  return `${PREFIX}${zone}/${systemId}`;
}

/** The zone and system ID of `maas:///<zone>/<system-id>`; undefined for anything else. */
export function parseProviderID(providerID: string): ParsedProviderID | undefined {
  if (!providerID.startsWith(PREFIX)) return undefined;
  const parts = providerID.slice(PREFIX.length).split("/");
  if (parts.length !== 2) return undefined;
  const [zone, systemId] = parts;
  if (zone === undefined || zone === "" || systemId === undefined || systemId === "") return undefined;
  return { zone, systemId };
}
