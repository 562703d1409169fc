// Operating systems and releases as MAAS derives them from boot resources
// (maas@3.7.0 src/maasserver/utils/osystems.py list_all_usable_osystems,
// forms/__init__.py find_osystem_and_release_from_release_name_or_alias).
import type { Store } from "./store.ts";
import type { SimBootResource } from "./types.ts";

// Ubuntu series MAAS knows, oldest first, with their versions (distro-info).
const UBUNTU_SERIES: ReadonlyArray<readonly [string, string]> = [
  ["precise", "12.04"], ["trusty", "14.04"], ["xenial", "16.04"], ["yakkety", "16.10"], ["zesty", "17.04"],
  ["artful", "17.10"], ["bionic", "18.04"], ["cosmic", "18.10"], ["disco", "19.04"], ["eoan", "19.10"],
  ["focal", "20.04"], ["groovy", "20.10"], ["hirsute", "21.04"], ["impish", "21.10"], ["jammy", "22.04"],
  ["kinetic", "22.10"], ["lunar", "23.04"], ["mantic", "23.10"], ["noble", "24.04"], ["oracular", "24.10"],
  ["plucky", "25.04"], ["questing", "25.10"],
];

const OS_TITLES: Record<string, string> = {
  ubuntu: "Ubuntu", centos: "CentOS", rhel: "Red Hat Enterprise Linux", custom: "Custom", windows: "Windows",
  esxi: "VMware ESXi", ol: "Oracle Linux", suse: "SUSE", opensuse: "openSUSE",
};

export interface OsRelease {
  osystem: string;
  release: string;
  title: string;
  alias: string | null;
  /** One boot resource per architecture. */
  resources: SimBootResource[];
}

export function usableReleases(store: Store): OsRelease[] {
  const byKey = new Map<string, OsRelease>();
  for (const r of store.state.bootResources) {
    const [osystem = "custom", release = r.name] = r.name.includes("/") ? r.name.split("/", 2) : ["custom", r.name];
    const key = `${osystem}/${release}`;
    const existing = byKey.get(key);
    if (existing !== undefined) existing.resources.push(r);
    else byKey.set(key, { osystem, release, title: r.title, alias: r.alias, resources: [r] });
  }
  return [...byKey.values()];
}

/** "jammy", "22.04" or "ubuntu/jammy" → the release, or undefined. */
export function findRelease(store: Store, series: string): OsRelease | undefined {
  const [osName, name] = series.includes("/") ? (series.split("/", 2) as [string, string]) : [undefined, series];
  return usableReleases(store).find((r) => (osName === undefined || r.osystem === osName) && (r.release === name || r.alias === name));
}

/**
 * The distro_series choices MAAS lists in its "is not a valid distro_series"
 * error: '' first, then "os/release" sorted by OS title and release title
 * (utils/osystems.py list_release_choices).
 */
export function distroSeriesChoices(store: Store): string[] {
  const releases = usableReleases(store).sort((a, b) => {
    const ta = OS_TITLES[a.osystem] ?? a.osystem;
    const tb = OS_TITLES[b.osystem] ?? b.osystem;
    return ta === tb ? compare(a.title, b.title) : compare(ta, tb);
  });
  return ["", ...releases.map((r) => `${r.osystem}/${r.release}`)];
}

/** The Ubuntu version of a series ("jammy" → "22.04"), from distro-info or the resource alias. */
export function ubuntuVersion(store: Store, series: string): string | undefined {
  const known = UBUNTU_SERIES.find(([name, version]) => name === series || version === series);
  if (known !== undefined) return known[1];
  const alias = findRelease(store, `ubuntu/${series}`)?.alias;
  return alias !== null && alias !== undefined && /^\d+\.\d+$/.test(alias) ? alias : undefined;
}

/** release_a_newer_than_b(series, "bionic") for the 2.7–3.4 ephemeral check. */
export function isBionicOrNewer(store: Store, osystem: string, series: string): boolean {
  if (osystem !== "ubuntu") return false; // non-Ubuntu names parse as platforms, i.e. older
  const version = ubuntuVersion(store, series);
  return version !== undefined && Number(version) >= 18.04;
}

/**
 * OSReleaseArchitecture.can_deploy_to_memory (maas@3.5.0+ utils/osystems.py):
 * synced images need a squashfs; uploaded ones a root-tgz or root-txz. dd images never.
 */
export function canDeployToMemory(resource: SimBootResource): boolean {
  if (resource.type === "Synced") return resource.filetype === "squashfs";
  return resource.filetype === "root-tgz" || resource.filetype === "root-txz";
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
