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
    options.destination ?? pino.destination(2),
  );
}
