// The call log of MAAS API requests (admin API GET /_sim/requests, requestLog()).
// Bounded so a long CI run cannot grow it without limit: at most `maxEntries`
// entries and about `maxBytes` of parameter text (deploys carry user data, up to
// the body limit each, 10 MiB by default), the oldest entries going first. The
// newest entry is always kept, however large, so a test can still see the call it
// just made.
import type { RequestLogEntry } from "./types.ts";

export interface RequestLogLimits {
  maxEntries: number;
  /** Budget for the entries' text (parameters, path), in UTF-16 code units ≈ bytes. */
  maxBytes: number;
}

export const DEFAULT_REQUEST_LOG_LIMITS: Readonly<RequestLogLimits> = { maxEntries: 10_000, maxBytes: 64 * 1024 * 1024 };

export class RequestLog {
  private entries: { entry: RequestLogEntry; size: number }[] = [];
  private bytes = 0;
  private seq = 0;

  constructor(private readonly limits: RequestLogLimits = DEFAULT_REQUEST_LOG_LIMITS) {}

  add(entry: Omit<RequestLogEntry, "seq">): RequestLogEntry {
    const full = { seq: ++this.seq, ...entry };
    const size = sizeOf(full);
    this.entries.push({ entry: full, size });
    this.bytes += size;
    let drop = 0;
    let bytes = this.bytes;
    while (this.entries.length - drop > 1 && (this.entries.length - drop > this.limits.maxEntries || bytes > this.limits.maxBytes)) {
      bytes -= this.entries[drop]?.size ?? 0;
      drop++;
    }
    if (drop > 0) {
      this.entries.splice(0, drop);
      this.bytes = bytes;
    }
    return full;
  }

  list(): RequestLogEntry[] {
    return structuredClone(this.entries.map((e) => e.entry));
  }

  clear(): void {
    this.entries = [];
    this.bytes = 0;
  }
}

function sizeOf(entry: RequestLogEntry): number {
  let size = 128 + entry.path.length + entry.time.length + (entry.op?.length ?? 0) + (entry.user?.length ?? 0);
  for (const [key, value] of Object.entries(entry.params)) {
    size += key.length;
    for (const item of Array.isArray(value) ? value : [value]) size += item.length + 4;
  }
  return size;
}
