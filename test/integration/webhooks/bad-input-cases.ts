// The table of bad input for the four kinds: the cases generated from each kind's schema
// (schema-cases.ts), then hand-written ones a schema cannot express — values MAAS would
// refuse (its name rules, read in canonical/maas: maasserver/fields.py MODEL_NAME_VALIDATOR
// for zones and pools, models/tag.py for tags, maascommon/utils/dns.py for domain labels),
// values that are well-typed but wrong (memory as a quantity, an endpoint host with a
// scheme, a path or a port, a provider ID of another form), typos of field names, and the
// changes an update may not make. Beside them, good values that must pass, so the
// refusals are not blanket. A machine case is written once, relative to a MaasMachineSpec,
// and placed at `spec` and at `spec.template.spec`; a cluster case likewise.
import {
  maasClusterCrdSource,
  maasClusterTemplateCrdSource,
  maasMachineCrdSource,
  maasMachineTemplateCrdSource,
  toStructuralSchema,
  type CrdSource,
} from "../../../src/api/v1beta1/index.ts";
import { casesFromSchema, edited, uniqueCases, type BadCase, type Json } from "./schema-cases.ts";

/** A hand-written case: values set (undefined removes) at paths relative to the spec it is placed in. */
export interface HandCase {
  what: string;
  set: Record<string, Json | undefined>;
  /** The field the refusal names, relative like `set`. */
  field: string;
  mentions?: readonly string[];
}

/** A machine that names every field, so every field's bad values can be generated from it. */
export const GOOD_MACHINE_SPEC: Json = {
  minCPU: 2,
  minMemory: 32_768,
  minDiskSize: 40,
  image: "ubuntu/jammy",
  resourcePool: "default",
  tags: ["control-plane"],
  failureDomain: "zone-a",
  providerID: "maas:///zone-a/abc123",
  systemID: "abc123",
  ephemeral: true,
  releasePolicy: "none",
  deployInMemory: true,
};

export const GOOD_CLUSTER_SPEC: Json = { dnsDomain: "maas.test", controlPlaneEndpoint: { host: "cp.maas.test", port: 6443 }, failureDomains: ["zone-a", "zone-b"] };

const GOOD_TEMPLATE_METADATA: Json = { labels: { role: "control-plane" }, annotations: { note: "made by the bad-input test" } };

const ZONE_FIX = ["`maas <profile> zones read`"];
const POOL_FIX = ["`maas <profile> resource-pools read`"];
const HOST_FIX = ["without a scheme or a port", "controlPlaneEndpoint.port"];
const PROVIDER_ID_FIX = ["maas:///<zone>/<system-id>", "leave providerID unset"];
const LABEL_FIX = ["Cluster API copies it onto every object made from this template"];

const one = (field: string, value: Json | undefined, what: string, mentions: readonly string[] = []): HandCase => ({ what, set: { [field]: value }, field, mentions });

export const MACHINE_CASES: readonly HandCase[] = [
  // MAAS's allocate reads mem as MiB and cpu_count as a count (api/machines.py, node_constraint_filter_forms.py).
  one("minMemory", -1024, "negative memory"),
  one("minMemory", 0, "no memory at all"),
  one("minMemory", "4Gi", "memory as a quantity where MiB are meant"),
  one("minMemory", "4096", "memory as a string"),
  one("minCPU", 0, "no CPU"),
  one("minCPU", -2, "a negative CPU count"),
  one("minCPU", "2 cores", "CPU count with a unit"),
  one("minDiskSize", -40, "a negative disk size"),
  one("minDiskSize", "40G", "disk size as a quantity where GiB are meant"),
  // deploy's distro_series is `series` or `os/series` (api/machines.py deploy, forms.py).
  ...["ubuntu/jammy/amd64", "ubuntu:jammy", "ubuntu/", "/jammy", "ubuntu//jammy", "Ubuntu Jammy", "ubuntu/jammy ", "https://cloud-images.ubuntu.com/jammy.img"].map((image) =>
    one("image", image, `image ${JSON.stringify(image)}, not a series or <os>/<series>`),
  ),
  // Zones: MODEL_NAME_VALIDATOR ^\w[ \w-]*$ since MAAS 2.4.0.
  ...[" zone-a", "-zone", "zone/a", "zone.a", "zone:a", "zone@a"].map((zone) => one("failureDomain", zone, `zone ${JSON.stringify(zone)}, which MAAS refuses`, ZONE_FIX)),
  ...[" pool", "-pool", "a/b", "pool.1", "pool@x"].map((pool) => one("resourcePool", pool, `resource pool ${JSON.stringify(pool)}, which MAAS refuses`, POOL_FIX)),
  // Tags: models/tag.py _tag_name_regex ^[a-zA-Z0-9_-]+$.
  ...["gpu.large", "gpu:nvidia", "tag/x", "ärger", "a b", "gpu,fast"].map((tag) => one("tags[0]", tag, `tag ${JSON.stringify(tag)}, which MAAS refuses`)),
  one("tags", "gpu", "a tag where a list is meant"),
  one("tags", ["gpu", "gpu"], "the same tag twice"),
  one("tags", Array.from({ length: 65 }, (_, i) => `tag-${i}`), "65 tags (at most 64)"),
  ...[
    "aws:///us-east-1/i-0abc",
    "maas://zone-a/abc123",
    "maas:///abc123",
    "maas:///zone-a/abc123/extra",
    "maas:///zone-a/",
    "maas:////abc123",
    "maas:///zone.a/abc123",
    "maas:///zone-a/abc 123",
    "MAAS:///zone-a/abc123",
  ].map((id) => one("providerID", id, `provider ID ${JSON.stringify(id)}`, PROVIDER_ID_FIX)),
  { what: "a provider ID naming another machine than systemID", set: { providerID: "maas:///zone-a/xyz789" }, field: "providerID", mentions: ["names system ID xyz789 but", "leave both unset"] },
  ...["abc/123", "abc 123", "abc_123", "äbc123"].map((id) => ({ ...one("systemID", id, `system ID ${JSON.stringify(id)}`, ["leave it unset"]), set: { systemID: id, providerID: undefined } })),
  ...["erase", "Quick-Erase", "secure_erase", ""].map((policy) => one("releasePolicy", policy, `release policy ${JSON.stringify(policy)}`)),
  one("ephemeral", "true", "ephemeral as a string"),
  { what: "ephemeral mistyped beside deployInMemory: true (folding must not hide it)", set: { ephemeral: "yes", deployInMemory: true }, field: "ephemeral" },
  one("ephemeral", 1, "ephemeral as a number"),
  { what: "ephemeral: true beside deployInMemory: false", set: { ephemeral: true, deployInMemory: false }, field: "deployInMemory", mentions: ["Remove deployInMemory"] },
  // Typos of field names: with fieldValidation=Strict (kubectl's default) the server refuses them.
  ...["minCpu", "memory", "deployToMemory", "failureDomains", "resourcepool"].map((name) => one(name, 1, `${name}, a field MaasMachineSpec does not have`)),
];

export const CLUSTER_CASES: readonly HandCase[] = [
  // Domain names: maascommon/utils/dns.py LABEL (at most 63 characters per label).
  ...["Maas.Test", "maas..test", ".maas", "maas.", "-maas.test", "maas_test", `${"a".repeat(64)}.test`, "http://maas.test", "maas test", "maas.test/"].map((domain) =>
    one("dnsDomain", domain, `DNS domain ${JSON.stringify(domain)}`),
  ),
  ...[
    "https://10.0.0.1:6443",
    "10.0.0.1:6443",
    "cp.example.com:6443",
    "10.0.0.1/api",
    "cp.example.com/",
    "[fd00::1]",
    "[fd00::1]:6443",
    "cafe:6443",
    "fd00::1::2",
    "256.0.0.1",
    "10.0.0.1.5",
    "6443",
    "cp example.com",
    "cp_1.example.com",
    "-cp.example.com",
  ].map((host) => one("controlPlaneEndpoint.host", host, `endpoint host ${JSON.stringify(host)}`, HOST_FIX)),
  ...[0, 70_000, 65_536, -1, "6443", 6443.5].map((port) => one("controlPlaneEndpoint.port", port, `endpoint port ${JSON.stringify(port)}`)),
  one("controlPlaneEndpoint", {}, "an empty endpoint"),
  one("controlPlaneEndpoint", "10.0.0.1:6443", "the endpoint as one host:port string"),
  ...[" zone-a", "zone/a", "zone.a", "zone:a"].map((zone) => one("failureDomains[1]", zone, `zone ${JSON.stringify(zone)}, which MAAS refuses`, ZONE_FIX)),
  one("failureDomains", "zone-a", "a zone where a list is meant"),
  one("failureDomains", [""], "an empty zone name"),
  one("failureDomains", Array.from({ length: 101 }, (_, i) => `zone-${i}`), "101 zones (at most 100)"),
  ...["dnsdomain", "controlPlaneEndPoint", "failureDomain", "endpoint"].map((name) => one(name, "x", `${name}, a field MaasClusterSpec does not have`)),
];

/** Label and annotation keys and values the API server refuses on the objects a template makes; each replaces the whole map. */
export const TEMPLATE_METADATA_CASES: readonly HandCase[] = [
  ...["bad key", "-role", "a/b/c", "Example.com/role", "k".repeat(64), "example.com/", "/role"].map((key) =>
    one("labels", { [key]: "x" }, `label key ${JSON.stringify(key)}`, LABEL_FIX),
  ),
  ...["bad value", "-x", "x".repeat(64), "a/b"].map((value) => one("labels", { role: value }, `label value ${JSON.stringify(value)}`, LABEL_FIX)),
  ...["bad key", "a/b/c", "-note"].map((key) => one("annotations", { [key]: "x" }, `annotation key ${JSON.stringify(key)}`, LABEL_FIX)),
  one("annotations", { note: "x".repeat(256 * 1024) }, "annotations over 256 KiB", LABEL_FIX),
  one("labels", ["role"], "labels as a list"),
];

/** A hand-written case placed in `goodSpec` under `base` (e.g. `template.spec`), naming `spec.<base>.<field>`. */
export function placed(hand: HandCase, goodSpec: Json, base: string): BadCase {
  const at = (path: string): string => (base === "" ? path : `${base}.${path}`);
  let spec = goodSpec;
  for (const [path, value] of Object.entries(hand.set)) spec = edited(spec, at(path), value);
  return { what: hand.what, field: `spec.${at(hand.field)}`, spec, mentions: hand.mentions ?? [], origin: "hand-written" };
}

export type KindName = "MaasMachine" | "MaasMachineTemplate" | "MaasCluster" | "MaasClusterTemplate";

export interface KindTable {
  kind: KindName;
  plural: "maasmachines" | "maasmachinetemplates" | "maasclusters" | "maasclustertemplates";
  goodSpec: Json;
  /**
   * The stored object every bad value is sent as an update of: the good spec without the
   * fields fixed once set (systemID, providerID), whose schema rule `self == oldSelf`
   * would otherwise answer before the value checks do.
   */
  updateBase: Json;
  cases: BadCase[];
  generated: number;
  handWritten: number;
  /** Every field path of the schema, with how many generated cases it got. */
  fields: ReadonlyMap<string, number>;
}

function table(source: CrdSource, plural: KindTable["plural"], goodSpec: Json, hand: BadCase[], machineAt?: string): KindTable {
  const generated = casesFromSchema(toStructuralSchema(source.spec), goodSpec);
  const cases = uniqueCases([...hand, ...generated.cases]);
  const handWritten = cases.filter((c) => c.origin === "hand-written").length;
  const prefix = machineAt === undefined || machineAt === "" ? "" : `${machineAt}.`;
  const updateBase = machineAt === undefined ? goodSpec : edited(edited(goodSpec, `${prefix}systemID`, undefined), `${prefix}providerID`, undefined);
  return { kind: source.kind as KindName, plural, goodSpec, updateBase, cases, generated: cases.length - handWritten, handWritten, fields: generated.fields };
}

/** The four kinds' tables, in a fixed order. */
export function badInputTables(): KindTable[] {
  const machineTemplate: Json = { template: { metadata: GOOD_TEMPLATE_METADATA, spec: GOOD_MACHINE_SPEC } };
  const clusterTemplate: Json = { template: { metadata: GOOD_TEMPLATE_METADATA, spec: GOOD_CLUSTER_SPEC } };
  return [
    table(maasMachineCrdSource, "maasmachines", GOOD_MACHINE_SPEC, MACHINE_CASES.map((c) => placed(c, GOOD_MACHINE_SPEC, "")), ""),
    table(
      maasMachineTemplateCrdSource,
      "maasmachinetemplates",
      machineTemplate,
      [...MACHINE_CASES.map((c) => placed(c, machineTemplate, "template.spec")), ...TEMPLATE_METADATA_CASES.map((c) => placed(c, machineTemplate, "template.metadata"))],
      "template.spec",
    ),
    table(maasClusterCrdSource, "maasclusters", GOOD_CLUSTER_SPEC, CLUSTER_CASES.map((c) => placed(c, GOOD_CLUSTER_SPEC, ""))),
    table(maasClusterTemplateCrdSource, "maasclustertemplates", clusterTemplate, [
      ...CLUSTER_CASES.map((c) => placed(c, clusterTemplate, "template.spec")),
      ...TEMPLATE_METADATA_CASES.map((c) => placed(c, clusterTemplate, "template.metadata")),
    ]),
  ];
}

/** A change an update may not make: `set` applied to the stored good spec. */
export interface UpdateTable {
  kind: KindName;
  cases: BadCase[];
}

const ROLL = ["cannot change once set", "create a new MaasMachineTemplate"];

const MACHINE_UPDATES: readonly HandCase[] = [
  one("image", "ubuntu/noble", "a new image", ROLL),
  one("minCPU", 4, "more CPUs", ROLL),
  one("minMemory", 65_536, "more memory", ROLL),
  one("minDiskSize", 80, "a bigger disk", ROLL),
  one("minDiskSize", undefined, "the disk size removed", ROLL),
  { what: "moved from memory to disk", set: { ephemeral: false, deployInMemory: undefined }, field: "ephemeral", mentions: ROLL },
  { what: "another system ID", set: { systemID: "def456", providerID: "maas:///zone-a/def456" }, field: "systemID", mentions: ["immutable once set"] },
  one("providerID", "maas:///zone-b/abc123", "another provider ID", ["immutable once set"]),
];

const TEMPLATE_CHANGES: readonly [string, Json | undefined][] = [
  ["image", "ubuntu/noble"],
  ["minCPU", 4],
  ["minMemory", 65_536],
  ["minDiskSize", 80],
  ["resourcePool", "pool-b"],
  ["tags", ["worker"]],
  ["failureDomain", "zone-b"],
  ["releasePolicy", "quick-erase"],
];

const CLUSTER_UPDATES: readonly HandCase[] = [
  one("dnsDomain", "other.test", "another DNS domain", ["cannot change", "create a new cluster"]),
  { ...one("controlPlaneEndpoint.host", "10.9.9.9", "another endpoint host", ["cannot change once set", "move the address behind that name"]), field: "controlPlaneEndpoint" },
  { ...one("controlPlaneEndpoint.port", 7443, "another endpoint port", ["cannot change once set"]), field: "controlPlaneEndpoint" },
  one("controlPlaneEndpoint", undefined, "the endpoint removed", ["cannot change once set"]),
];

/** The updates refused because a field is fixed; the MaasClusterTemplate has none (it stays mutable). */
export function fixedFieldTables(): UpdateTable[] {
  const machineTemplate: Json = { template: { metadata: GOOD_TEMPLATE_METADATA, spec: GOOD_MACHINE_SPEC } };
  const templateCases = [
    ...TEMPLATE_CHANGES.map(([field, value]) => ({ ...one(field, value, `${field} changed`), mentions: [`changed: ${field}`, "create a new MaasMachineTemplate"] })),
    { what: "moved from memory to disk", set: { ephemeral: false, deployInMemory: undefined }, field: "", mentions: ["changed: ephemeral"] },
  ].map((c) => ({ ...placed(c, machineTemplate, "template.spec"), field: "spec.template.spec" }));
  return [
    { kind: "MaasMachine", cases: MACHINE_UPDATES.map((c) => placed(c, GOOD_MACHINE_SPEC, "")) },
    { kind: "MaasMachineTemplate", cases: templateCases },
    { kind: "MaasCluster", cases: CLUSTER_UPDATES.map((c) => placed(c, GOOD_CLUSTER_SPEC, "")) },
  ];
}

/** A good value: `set` into the kind's good spec, created, and read back as set. */
export interface GoodCase {
  what: string;
  spec: Json;
  /** Paths (relative to the object's spec) and the values they must read back as; undefined: absent. */
  expect: [string, Json | undefined][];
}

const GOOD_MACHINE_VALUES: readonly HandCase[] = [
  ...[1, 2 ** 31 - 1].map((n) => one("minCPU", n, `minCPU ${n}`)),
  one("minMemory", 1, "minMemory 1"),
  one("minDiskSize", 1, "minDiskSize 1"),
  ...["jammy", "ubuntu/jammy", "rhel/rocky-92", "custom/name", "centos/centos7", "custom/my_image.v2"].map((image) => one("image", image, `image ${image}`)),
  ...["Default pool", "pool_1", "pöol", "1st-pool"].map((pool) => one("resourcePool", pool, `resource pool ${JSON.stringify(pool)}`)),
  ...["default", "zone a", "zöne", "rack_1", "_z"].map((zone) => one("failureDomain", zone, `zone ${JSON.stringify(zone)}`)),
  one("tags", ["gpu", "rack-1", "a_b", "UPPER", "x"], "MAAS tag names"),
  { what: "a six-character system ID and its provider ID in a zone with a space", set: { systemID: "4y3h7n", providerID: "maas:///zone a/4y3h7n" }, field: "systemID" },
  {
    what: "a pre-2.0 system ID (node-<uuid>)",
    set: { systemID: "node-2b4f1c0e-0b6d-11e4-8d3e-00163e002a36", providerID: "maas:///default/node-2b4f1c0e-0b6d-11e4-8d3e-00163e002a36" },
    field: "systemID",
  },
  { what: "no system ID or provider ID yet", set: { systemID: undefined, providerID: undefined }, field: "systemID" },
  ...["none", "quick-erase", "secure-erase"].map((policy) => one("releasePolicy", policy, `releasePolicy ${policy}`)),
  { what: "deployed to disk", set: { ephemeral: false, deployInMemory: undefined }, field: "ephemeral" },
];

const GOOD_CLUSTER_VALUES: readonly HandCase[] = [
  ...["maas", "a-b.example.com", `${"x".repeat(63)}.test`, "0.example"].map((domain) => one("dnsDomain", domain, `DNS domain ${domain}`)),
  ...["10.0.0.1", "fd00::10", "::1", "cp.example.com", "cp", "CP.Example.com", "cp.example.com.", "1cp.example.com", "cp-1"].map((host) =>
    one("controlPlaneEndpoint.host", host, `endpoint host ${host}`),
  ),
  ...[1, 65_535].map((port) => one("controlPlaneEndpoint.port", port, `endpoint port ${port}`)),
  one("controlPlaneEndpoint", undefined, "no endpoint (the controller fills it in)"),
  one("failureDomains", ["zone a", "zöne", "rack_1"], "MAAS zone names"),
  one("failureDomains", [], "no zones"),
];

const GOOD_METADATA_VALUES: readonly HandCase[] = [
  one("labels", { "cluster.x-k8s.io/role": "control-plane", app: "", "a.b_c-d": "V.1_x-y" }, "qualified label keys and values"),
  one("annotations", { "example.com/note": "any text at all, spaces and ✓ included", "Upper/Case": "x" }, "annotations with free-form values"),
];

function good(hand: HandCase, goodSpec: Json, base: string): GoodCase {
  const bad = placed(hand, goodSpec, base);
  const at = (path: string): string => (base === "" ? path : `${base}.${path}`);
  return { what: hand.what, spec: bad.spec, expect: Object.entries(hand.set).map(([path, value]) => [at(path), value]) };
}

/** Good values per kind, each on its own object. */
export function goodValueTables(): { kind: KindName; plural: KindTable["plural"]; cases: GoodCase[] }[] {
  const machineTemplate: Json = { template: { metadata: GOOD_TEMPLATE_METADATA, spec: GOOD_MACHINE_SPEC } };
  const clusterTemplate: Json = { template: { metadata: GOOD_TEMPLATE_METADATA, spec: GOOD_CLUSTER_SPEC } };
  return [
    { kind: "MaasMachine", plural: "maasmachines", cases: GOOD_MACHINE_VALUES.map((c) => good(c, GOOD_MACHINE_SPEC, "")) },
    {
      kind: "MaasMachineTemplate",
      plural: "maasmachinetemplates",
      cases: [...GOOD_MACHINE_VALUES.map((c) => good(c, machineTemplate, "template.spec")), ...GOOD_METADATA_VALUES.map((c) => good(c, machineTemplate, "template.metadata"))],
    },
    { kind: "MaasCluster", plural: "maasclusters", cases: GOOD_CLUSTER_VALUES.map((c) => good(c, GOOD_CLUSTER_SPEC, "")) },
    {
      kind: "MaasClusterTemplate",
      plural: "maasclustertemplates",
      cases: [...GOOD_CLUSTER_VALUES.map((c) => good(c, clusterTemplate, "template.spec")), ...GOOD_METADATA_VALUES.map((c) => good(c, clusterTemplate, "template.metadata"))],
    },
  ];
}
