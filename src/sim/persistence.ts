// The state file: everything in the store (records, id counters, API keys) as
// JSON. MAAS commits a request's transaction before it answers (regiond wraps
// each API view in transaction.atomic, which commits as the view returns, before
// the response is written: maasserver/utils/views.py), so an answered allocate
// survives a crash of the region. The simulator keeps the same promise: with a state file,
// no answer leaves before every change made so far is durable — written to
// FILE.tmp, fsynced, renamed over FILE, and the directory fsynced — so a
// SIGKILL or power loss leaves the old file or the new one, never a half-written
// one, and never forgets a change a client was told about.
//
// Writes are group commits: one write at a time, each covering every change
// made before it started. Changes that arrive while a write is in flight wait
// for the next write, which covers all of them, so N concurrent requests cost
// about two fsyncs, not N.
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Logger } from "../observability/index.ts";
import type { StoreData } from "./store.ts";

const FORMAT = "maas-sim-state/1";
// Owner-only: the file holds API token secrets.
const FILE_MODE = 0o600;

export class StateFileError extends Error {}

interface StateFile {
  format: string;
  data: StoreData;
}

interface Waiter {
  /** The change count this waiter needs on disk. */
  upTo: number;
  resolve(): void;
  reject(error: unknown): void;
}

/** One fixed name: a crashed run's leftover is found (and overwritten) by the next run. */
export function temporaryPathOf(path: string): string {
  return `${path}.tmp`;
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

/**
 * Removes temporary files a crashed run left beside the state file: FILE.tmp and
 * the FILE.<pid>.tmp of earlier versions. Each is a full copy of the state, API
 * keys included, and nothing else would ever remove it.
 */
export function removeStaleTemporaryFiles(path: string): void {
  const dir = dirname(path);
  const legacy = new RegExp(`^${escapeRegExp(basename(path))}\\.\\d+\\.tmp$`);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // no directory yet: nothing left behind
  }
  for (const name of names) {
    if (name === basename(temporaryPathOf(path)) || legacy.test(name)) rmSync(join(dir, name), { force: true });
  }
}

export class StatePersistence {
  /** Store changes seen so far. */
  private changes = 0;
  /** Store changes the file on disk holds; -1 before the first write, so start writes even an unchanged store. */
  private saved = -1;
  private loop: Promise<void> | null = null;
  private waiters: Waiter[] = [];

  constructor(
    private readonly path: string,
    private readonly data: StoreData,
    private readonly logger: Logger,
  ) {}

  /** A store change: written by the next write, which starts soon even if nobody waits for it. */
  changed(): void {
    this.changes++;
    this.kick();
  }

  /** Resolves once every change made so far is on disk; rejects if the write that should hold it fails. */
  commit(): Promise<void> {
    if (this.saved >= this.changes) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ upTo: this.changes, resolve, reject }));
    this.kick();
    return done;
  }

  /** Waits for the write in flight and writes what is left; a failure is logged, not thrown (nobody is left to answer). */
  async close(): Promise<void> {
    try {
      await this.commit();
    } catch {
      // Already logged by the write that failed.
    }
  }

  private kick(): void {
    this.loop ??= this.run().then((ok) => {
      this.loop = null;
      // A change made between the loop's last check and here still needs its write.
      if (ok && this.saved < this.changes) this.kick();
    });
  }

  /** Writes until the file holds every change; false when a write failed. */
  private async run(): Promise<boolean> {
    // Let the request that called changed() finish its synchronous work first:
    // a handler may change several records, and one write should hold them all.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.saved < this.changes) {
      const upTo = this.changes;
      // Serialised now, so the write holds exactly the changes counted up to here.
      const text = JSON.stringify({ format: FORMAT, data: this.data } satisfies StateFile, null, 2);
      const startedMs = performance.now();
      try {
        await this.write(text);
      } catch (error) {
        this.logger.error({ err: error, path: this.path }, "cannot write the simulator state file");
        // Everyone waiting is told; the next change (or close) tries again.
        this.settle(Number.POSITIVE_INFINITY, error);
        return false;
      }
      // changes per write shows the group commit at work (bench/sim-durability.ts counts these).
      this.logger.debug({ stateWrite: { changes: upTo - Math.max(this.saved, 0), ms: Math.round(performance.now() - startedMs) } }, "state file written");
      this.saved = upTo;
      this.settle(upTo, null);
    }
    return true;
  }

  private settle(upTo: number, error: unknown): void {
    const still: Waiter[] = [];
    for (const waiter of this.waiters) {
      if (waiter.upTo > upTo) still.push(waiter);
      else if (error === null) waiter.resolve();
      else waiter.reject(error);
    }
    this.waiters = still;
  }

  private async write(text: string): Promise<void> {
    const tmp = temporaryPathOf(this.path);
    try {
      // "wx": created new (so with FILE_MODE), and a second simulator writing the same
      // state file fails loudly here instead of renaming our half-written file.
      const handle = await open(tmp, "wx", FILE_MODE);
      try {
        await handle.writeFile(text, "utf8");
        // On disk before the rename, so a power loss leaves the old file or the new one, never an empty one.
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") {
        throw new StateFileError(`${tmp} exists: is another simulator using the state file ${this.path}? Give each its own --state`);
      }
      await rm(tmp, { force: true }).catch(() => undefined);
      throw error;
    }
    await syncDirectory(dirname(this.path));
  }
}

/** The rename is durable once the directory entry is: fsync the directory (POSIX; a no-op where it is not supported). */
async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Windows cannot open a directory; some filesystems refuse fsync on one.
    if (code !== "EISDIR" && code !== "EPERM" && code !== "EINVAL" && code !== "EACCES") throw error;
  } finally {
    await handle?.close();
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
