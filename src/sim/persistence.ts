// The state file: everything in the store (records, id counters, API keys) as
// JSON. Written atomically — a temporary file in the same directory, then
// rename — shortly after each change and again on close, so a crash never
// leaves a half-written file.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import type { Logger } from "../observability/index.ts";
import type { StoreData } from "./store.ts";

const FORMAT = "maas-sim-state/1";
const DEBOUNCE_MS = 20;

export class StateFileError extends Error {}

interface StateFile {
  format: string;
  data: StoreData;
}

/** Reads a state file, or returns null when there is none. */
export function loadStateFile(path: string): StoreData | null {
  if (!existsSync(path)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new StateFileError(`state file ${path} is not readable JSON (${(error as Error).message}); delete it to start fresh`);
  }
  const file = parsed as Partial<StateFile>;
  if (file.format !== FORMAT || typeof file.data !== "object" || file.data === null) {
    throw new StateFileError(`state file ${path} is not a ${FORMAT} file; delete it or point --state elsewhere`);
  }
  return file.data;
}

export class StatePersistence {
  // Debounced with Node's own timer: writing files is I/O pacing, not simulated time.
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly path: string,
    private readonly data: StoreData,
    private readonly logger: Logger,
  ) {}

  schedule(): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.writeNow();
    }, DEBOUNCE_MS);
    this.timer.unref();
  }

  /** Writes now and cancels any pending write. */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.writeNow();
  }

  private writeNow(): void {
    const tmp = `${this.path}.${process.pid}.tmp`;
    try {
      // The file holds API token secrets: owner-only permissions. "w" truncates a
      // temporary file a crashed run left behind.
      const fd = openSync(tmp, "w", 0o600);
      try {
        writeSync(fd, JSON.stringify({ format: FORMAT, data: this.data } satisfies StateFile, null, 2));
        // On disk before the rename, so a power loss leaves the old file or the new one, never an empty one.
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.path);
    } catch (error) {
      rmSync(tmp, { force: true });
      this.logger.error({ err: error, path: this.path }, "cannot write the simulator state file");
    }
  }
}
