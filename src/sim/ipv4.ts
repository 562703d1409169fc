// IPv4 networks as the simulator's one subnet uses them: parsing a CIDR the way MAAS
// stores it (CIDRField.parse_cidr keeps str(IPNetwork(value).cidr), so host bits are
// cleared: 127.10.5.3/16 is 127.10.0.0/16), and the n-th address of a network.

export interface Ipv4Network {
  /** The network address as a 32-bit number. */
  base: number;
  prefix: number;
  /** Normalised text, e.g. "127.10.0.0/16". */
  cidr: string;
}

// As the inventory has always taken them: up to three digits, leading zeros allowed.
const OCTET = "(25[0-5]|2[0-4]\\d|1?\\d?\\d)";
const IPV4 = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);

export function parseIpv4(text: string): number | null {
  if (!IPV4.test(text)) return null;
  return text.split(".").reduce((acc, part) => acc * 256 + Number(part), 0);
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

/** An IPv4 network with a prefix from `minPrefix` to `maxPrefix`; null when it is not one. */
export function parseCidr(text: string, minPrefix = 0, maxPrefix = 32): Ipv4Network | null {
  const [ip = "", bits = "", extra] = text.split("/");
  const address = parseIpv4(ip);
  if (address === null || extra !== undefined || !/^\d{1,2}$/.test(bits)) return null;
  const prefix = Number(bits);
  if (prefix < minPrefix || prefix > maxPrefix) return null;
  const size = 2 ** (32 - prefix);
  const base = address - (address % size);
  return { base, prefix, cidr: `${formatIpv4(base)}/${prefix}` };
}

export function contains(network: Ipv4Network, ip: string): boolean {
  const value = parseIpv4(ip);
  return value !== null && value >= network.base && value < network.base + 2 ** (32 - network.prefix);
}

/** The n-th address of a network, e.g. (10.20.0.0/16, 10) → 10.20.0.10; null past its last host address. */
export function hostAddress(network: Ipv4Network, n: number): string | null {
  const size = 2 ** (32 - network.prefix);
  if (n < 0 || n >= size - 1) return null;
  return formatIpv4(network.base + n);
}
