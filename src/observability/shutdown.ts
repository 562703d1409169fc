// Ending a process whatever became of its standard output and error. A command
// run as `cmd 2>&1 | grep -m1 …`, or by a harness that spawned it with pipes and
// then died, writes into a pipe nobody reads: each write fails with EPIPE (Node
// ignores SIGPIPE), which on process.stdout/stderr is an uncaught 'error' event,
// and pino's exit-time flush retries it forever. Commands call
// installStreamGuards() at start and `await shutdownLogger(logger)` before
// process.exit(), and then always exit.
import { pino, type Logger } from "pino";
import { StderrDestination } from "./logger.ts";

export const DEFAULT_LOGGER_SHUTDOWN_TIMEOUT_MS = 2_000;

export interface ShutdownLoggerOptions {
  /** Longest wait for buffered lines to be written; then they are dropped. Default 2000. */
  timeoutMs?: number;
}

let guarded = false;

/**
 * Makes process.stdout and process.stderr ignore write errors (EPIPE once their
 * reader is gone, and any other): output is best effort from then on, and the
 * process goes on to shut down cleanly instead of dying of an uncaught 'error'.
 * Idempotent; call it first thing in a command.
 */
export function installStreamGuards(): void {
  if (guarded) return;
  guarded = true;
  for (const stream of [process.stdout, process.stderr]) {
    // Nobody is left to tell: the reader of this very stream is what went away.
    stream.on("error", () => undefined);
  }
}

/**
 * Writes what the logger (or the logger it is a child of) still holds, waiting at
 * most timeoutMs, and makes sure exiting afterwards cannot block on its output.
 * Never throws. Log nothing after it: later lines are dropped. For a logger from
 * createLogger() without a destination (standard error); any other destination
 * is flushed through pino's flush(), within the same deadline.
 */
export async function shutdownLogger(logger: Logger, options: ShutdownLoggerOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOGGER_SHUTDOWN_TIMEOUT_MS;
  // pino exports its symbols for this; children share their parent's stream.
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym];
  if (stream instanceof StderrDestination) {
    await stream.close(timeoutMs);
    return;
  }
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    try {
      logger.flush(() => {
        clearTimeout(timer);
        resolve();
      });
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}
