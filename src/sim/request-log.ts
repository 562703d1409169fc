// The call log of MAAS API requests (admin API GET /_sim/requests, requestLog()).
// Bounded so a long CI run cannot grow it without limit; the oldest entries go first.
import type { RequestLogEntry } from "./types.ts";

const LIMIT = 10_000;

export class RequestLog {
  private entries: RequestLogEntry[] = [];
  private seq = 0;

  add(entry: Omit<RequestLogEntry, "seq">): RequestLogEntry {
    const full = { seq: ++this.seq, ...entry };
    this.entries.push(full);
    if (this.entries.length > LIMIT) this.entries.splice(0, this.entries.length - LIMIT);
    return full;
  }

  list(): RequestLogEntry[] {
    return structuredClone(this.entries);
  }

  clear(): void {
    this.entries = [];
  }
}
