// Logging, metrics and probes shared by the manager, the simulator and the tests.
// Secrets (the MAAS API key, OAuth headers, bootstrap user data, tokens) are redacted
// by the logger itself, so no call site has to remember to. Commands end through
// shutdownLogger(), which cannot hang on an output nobody reads any more.
export { createLogger, REDACTED_PATHS, type Logger, type LoggerOptions } from "./logger.ts";
export { DEFAULT_LOGGER_SHUTDOWN_TIMEOUT_MS, installStreamGuards, shutdownLogger, type ShutdownLoggerOptions } from "./shutdown.ts";
