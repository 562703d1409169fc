// Logging, metrics and probes shared by the manager, the simulator and the tests.
// Secrets (the MAAS API key, OAuth headers, bootstrap user data, tokens) are redacted
// by the logger itself, so no call site has to remember to.
export { createLogger, REDACTED_PATHS, type Logger, type LoggerOptions } from "./logger.ts";
