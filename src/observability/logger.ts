import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger };

/**
 * Field paths whose values never reach a log line. Keys are matched at the top level
 * and one level down (pino's redaction has no recursive wildcard).
 */
const SECRET_KEYS = [
  "apiKey",
  "api_key",
  "authorization",
  "Authorization",
  "token",
  "password",
  "userData",
  "user_data",
  "bootstrapData",
];
export const REDACTED_PATHS: readonly string[] = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((key) => `*.${key}`),
  'headers["authorization"]',
  'req.headers["authorization"]',
];

export interface LoggerOptions {
  /** pino level; defaults to the LOG_LEVEL environment variable, then "info". */
  level?: string;
  /** Written as the `name` field of every line. */
  name?: string;
  /** Where lines go; defaults to standard error so standard output stays machine-readable. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? "info";
  return pino(
    {
      level,
      ...(options.name === undefined ? {} : { name: options.name }),
      redact: { paths: [...REDACTED_PATHS], censor: "[REDACTED]" },
    },
    options.destination ?? new StderrDestination(),
  );
}

type SonicBoom = ReturnType<typeof pino.destination>;

/**
 * Standard error through pino's asynchronous writer, made safe for a reader that
 * goes away (`maas-sim 2>&1 | grep -m1 …`, a harness that died) or stops reading.
 * pino flushes such a writer synchronously on exit, and that flush retries a
 * failing write forever (EPIPE) or blocks on a full pipe, so a process told to
 * stop would never end. close() flushes with a deadline and then disarms that
 * exit-time flush; a write error ends logging instead of crashing the process.
 */
export class StderrDestination implements DestinationStream {
  private readonly sonic: SonicBoom = pino.destination({ dest: 2, minLength: 0, sync: false });
  private open = true;
  private broken = false;

  constructor() {
    // pino's own handler stops writing on EPIPE but re-throws anything else; this
    // listener keeps any write error from becoming an uncaught exception.
    this.sonic.on("error", () => {
      this.open = false;
      this.broken = true;
    });
  }

  write(line: string): void {
    if (this.open) this.sonic.write(line);
  }

  /** Writes what is buffered, waiting at most timeoutMs; whatever is left then is dropped. Idempotent. */
  async close(timeoutMs: number): Promise<void> {
    const wasOpen = this.open;
    this.open = false;
    if (wasOpen && !this.broken) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        this.sonic.once("close", done);
        this.sonic.once("error", done);
        this.sonic.end();
      });
    }
    // Marks the writer destroyed, which pino's exit hook skips, so exit cannot block on it
    // (after EPIPE pino has already made that hook a no-op, and destroy() with it).
    this.sonic.destroy();
  }
}
