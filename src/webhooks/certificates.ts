// The serving certificate, read from `<dir>/tls.crt` and `<dir>/tls.key` and read again
// when they change: cert-manager renews the Secret and the kubelet swaps the mounted
// files (a symlink flip), so a long-running manager must pick up the new pair without a
// restart. A directory watch notices the swap at once; a poll covers file systems where
// watches miss it. A half-written or mismatched pair is never served: the old one stays
// until a pair that Node accepts as a TLS context is in place.
import { createHash } from "node:crypto";
import { watch, type FSWatcher } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createSecureContext, type SecureContextOptions } from "node:tls";

export const CERT_FILE = "tls.crt";
export const KEY_FILE = "tls.key";

export interface CertificatePair {
  cert: Buffer;
  key: Buffer;
  /** sha256 of cert and key, to tell a new pair from the one already served. */
  digest: string;
}

/** Reads and checks the pair; throws an Error naming the file and the problem. */
export async function readCertificatePair(dir: string): Promise<CertificatePair> {
  const read = async (name: string): Promise<Buffer> => {
    try {
      return await readFile(join(dir, name));
    } catch (err) {
      throw new Error(`cannot read ${join(dir, name)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
    }
  };
  const [cert, key] = await Promise.all([read(CERT_FILE), read(KEY_FILE)]);
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new Error(`${join(dir, CERT_FILE)} and ${KEY_FILE} are not a usable pair: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return { cert, key, digest: createHash("sha256").update(cert).update("\0").update(key).digest("hex") };
}

export interface CertificateWatcherOptions {
  dir: string;
  initial: CertificatePair;
  /** Called with each new valid pair. */
  onChange: (pair: CertificatePair) => void;
  /** Called when a changed pair cannot be used; the served pair stays. Never with key material. */
  onError: (message: string) => void;
  pollIntervalMs: number;
}

/** Follows the files; close() stops watching. */
export class CertificateWatcher {
  private current: string;
  private readonly timer: NodeJS.Timeout;
  private readonly watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastError = "";
  private closed = false;

  constructor(private readonly options: CertificateWatcherOptions) {
    this.current = options.initial.digest;
    this.timer = setInterval(() => void this.check(), options.pollIntervalMs);
    this.timer.unref();
    try {
      this.watcher = watch(options.dir, { persistent: false }, () => {
        // A Secret volume update is several renames in a row; read once they settle.
        clearTimeout(this.debounce);
        this.debounce = setTimeout(() => void this.check(), 50);
        this.debounce.unref();
      });
      this.watcher.on("error", () => undefined);
    } catch {
      this.watcher = undefined;
    }
  }

  /** Reads the files now; resolves once a changed pair (if any) is in use. */
  check(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.running ??= this.reload().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async reload(): Promise<void> {
    let pair: CertificatePair;
    try {
      pair = await readCertificatePair(this.options.dir);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (message !== this.lastError) this.options.onError(message);
      this.lastError = message;
      return;
    }
    this.lastError = "";
    if (this.closed || pair.digest === this.current) return;
    this.current = pair.digest;
    this.options.onChange(pair);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.debounce);
    this.watcher?.close();
  }
}

/** The TLS options for a pair. */
export function secureContextOptions(pair: CertificatePair): SecureContextOptions {
  return { cert: pair.cert, key: pair.key };
}
