// The MAAS simulator: an HTTP server that speaks the MAAS 2.0 REST API as a MAAS
// 3.x server does (paths, op= operations, OAuth 1.0, status codes, error texts,
// JSON shapes), so unchanged MAAS clients — ours, gomaasclient/gomaasapi,
// python-libmaas, spectrocloud maas-client-go — run against it. Machines move
// through MAAS's lifecycle on an injectable Clock; faults, per-machine timing
// knobs, a request log and an admin API under /_sim/ make it a test fixture.
// Each MAAS rule it mirrors is commented with the MAAS source it comes from.
export { startSimulator, generateApiKey } from "./simulator.ts";
export { MachineStatus, statusName, type MachineStatusCode } from "./status.ts";
export { parseFaultSpec, FaultRuleError } from "./faults.ts";
export { loadInventoryFile, InventoryError } from "./inventory.ts";
export type {
  FaultKind,
  FaultRule,
  Inventory,
  InventoryBootResource,
  InventoryGenerate,
  InventoryMachine,
  PendingTransition,
  RequestLogEntry,
  RunningSimulator,
  SimBootResource,
  SimDisk,
  SimDnsResource,
  SimDomain,
  SimMachine,
  SimPool,
  SimTag,
  SimUser,
  SimZone,
  SimulatorOptions,
  SimulatorState,
} from "./types.ts";
