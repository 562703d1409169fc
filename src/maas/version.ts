// MAAS's version and what it implies. `GET version/` has no capability string for
// deploying to memory (maas 3.x api/version.py: the capability list is fixed), so
// support is decided from the version number and the image, per the MAAS history in
// reference/maas-api.md §1.
import { Type } from "@sinclair/typebox";
import { callFields, type CallOptions, type MaasRequester } from "./http.ts";
import { openObject, type MaasObject } from "./validate.ts";
import { requestObject } from "./typed-request.ts";

const VersionInfoSchema = openObject({
  version: Type.String(),
  subversion: Type.String(),
  capabilities: Type.Array(Type.String()),
});

/** `GET version/`: e.g. `{ version: "3.5.4", subversion: "", capabilities: [...] }`. */
export type MaasVersionInfo = MaasObject<typeof VersionInfoSchema>;

export interface VersionService {
  get(call?: CallOptions): Promise<MaasVersionInfo>;
}

export class MaasVersionService implements VersionService {
  readonly #http: MaasRequester;

  constructor(http: MaasRequester) {
    this.#http = http;
  }

  async get(call?: CallOptions): Promise<MaasVersionInfo> {
    return requestObject(this.#http, VersionInfoSchema, { method: "GET", path: "version/", ...callFields(call) });
  }
}

/** A parsed MAAS version: `3.5.4`, `3.0.0~beta1`, `2.5.0 from source`. */
export interface MaasVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** Pre-release qualifier after '~' (e.g. "beta1"); sorts before the release. */
  readonly prerelease: string | undefined;
  readonly raw: string;
}

const VERSION_PATTERN = /^\s*(\d+)\.(\d+)(?:\.(\d+))?(?:~([0-9A-Za-z.+-]+))?/;

/** Parses the leading `major.minor[.patch][~qualifier]`; undefined when there is none. */
export function parseMaasVersion(text: string): MaasVersion | undefined {
  const match = VERSION_PATTERN.exec(text);
  if (match === null) return undefined;
  return {
    major: Number(match[1]),
    minor: Number(match[2]),
    patch: match[3] === undefined ? 0 : Number(match[3]),
    prerelease: match[4],
    raw: text.trim(),
  };
}

/** Negative, zero or positive as `a` is older than, equal to or newer than `b` (Debian '~' rule). */
export function compareMaasVersions(a: MaasVersion | string, b: MaasVersion | string): number {
  const left = toVersion(a);
  const right = toVersion(b);
  const numeric = left.major - right.major || left.minor - right.minor || left.patch - right.patch;
  if (numeric !== 0) return Math.sign(numeric);
  if (left.prerelease === right.prerelease) return 0;
  if (left.prerelease === undefined) return 1;
  if (right.prerelease === undefined) return -1;
  return Math.sign(left.prerelease.localeCompare(right.prerelease, "en", { numeric: true }));
}

export function isAtLeast(version: MaasVersion | string, minimum: string): boolean {
  return compareMaasVersions(version, minimum) >= 0;
}

/** An image as given to deploy: `ubuntu/jammy`, `jammy` (Ubuntu), `centos/8`, `custom/foo`. */
export interface ImageName {
  osystem: string;
  series: string;
}

/**
 * Splits an image into OS and series the way MAAS's deploy form does: a bare series
 * belongs to the default OS, which is Ubuntu on every MAAS unless an admin changed it.
 */
export function parseImageName(image: string): ImageName {
  const trimmed = image.trim();
  const slash = trimmed.indexOf("/");
  if (slash < 0) return { osystem: "ubuntu", series: trimmed };
  return { osystem: trimmed.slice(0, slash).toLowerCase(), series: trimmed.slice(slash + 1) };
}

/** Ubuntu series older than Bionic 18.04, which MAAS 2.7–3.4 refuse to run from memory. */
const UBUNTU_BEFORE_BIONIC = new Set(["warty", "hoary", "breezy", "dapper", "edgy", "feisty", "gutsy", "hardy",
  "intrepid", "jaunty", "karmic", "lucid", "maverick", "natty", "oneiric", "precise", "quantal", "raring",
  "saucy", "trusty", "utopic", "vivid", "wily", "xenial", "yakkety", "zesty", "artful"]);

/**
 * Whether this MAAS accepts `ephemeral_deploy=true` for this image:
 * - before 2.6.0: the parameter does not exist;
 * - 2.6.x: Ubuntu only (storage checks were skipped only for osystem "ubuntu");
 * - 2.7.0–3.4.x: Ubuntu Bionic 18.04 or newer (Node.start raised for older series);
 * - 3.5.0 and later: any image that can run from memory. That depends on the image's
 *   files (a squashfs or root-tgz/root-txz; dd images cannot), which the API does not
 *   show, so this says yes and MAAS answers 400 "Deployment to memory not supported
 *   for ..." for an image that cannot.
 * A version that cannot be parsed is treated as unsupported.
 */
export function supportsEphemeralDeploy(version: MaasVersion | string, image: string): boolean {
  const parsed = typeof version === "string" ? parseMaasVersion(version) : version;
  if (parsed === undefined) return false;
  if (isAtLeast(parsed, "3.5.0")) return true;
  if (!isAtLeast(parsed, "2.6.0")) return false;
  const { osystem, series } = parseImageName(image);
  if (osystem !== "ubuntu") return false;
  if (!isAtLeast(parsed, "2.7.0")) return true;
  return !UBUNTU_BEFORE_BIONIC.has(series.toLowerCase());
}

function toVersion(value: MaasVersion | string): MaasVersion {
  if (typeof value !== "string") return value;
  const parsed = parseMaasVersion(value);
  if (parsed === undefined) throw new RangeError(`not a MAAS version: "${value}"`);
  return parsed;
}
