import { AsyncLocalStorage } from "node:async_hooks";
import pino, { type DestinationStream, type Logger } from "pino";
import { env } from "./env";

export { describeError } from "./log-errors";

// JSON lines through pino: info and debug on stdout, warn and error on stderr, each with `time`
// (ISO), `level` by name and `msg`. Every line of a request or a job carries the ids it knows
// (correlationId, userId, sessionId, messageId) from its log context, so one grep follows a reply
// from the send through the worker to the stream.

export type LogFields = Record<string, unknown> & { correlationId?: string };

/** The ids a request or a job is about; every line written while it runs carries them. */
export interface LogContext {
  correlationId?: string;
  userId?: string;
  sessionId?: string;
  messageId?: string;
}

type Level = "debug" | "info" | "warn" | "error";
type Threshold = Level | "silent";

// Fields that hold what a user wrote or what proves who they are: never written, at any level.
export const REDACTED_PATHS = [
  "content",
  "params",
  "parameters",
  "cookie",
  "cookies",
  "authorization",
  "token",
  "password",
  "secret",
]
  .flatMap((key) => [key, `*.${key}`])
  .concat(["headers['set-cookie']", "*.headers['set-cookie']", "*.headers.cookie", "*.headers.authorization"]);

// On globalThis like the logger: Next bundles this module once per layer (instrumentation, the App
// Router, pages/api), and a context set by one copy must be the one the logger's mixin reads.
const shared = globalThis as unknown as {
  __backchannelLogger?: Logger;
  __backchannelLogContexts?: AsyncLocalStorage<LogContext>;
};
shared.__backchannelLogContexts ??= new AsyncLocalStorage<LogContext>();
const contexts = shared.__backchannelLogContexts;

/** A pino logger writing our line shape to `destination`. */
export function createLogger(level: Threshold, destination: DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // The context's ids first: a line's own fields win over them.
      mixin: () => ({ ...contexts.getStore() }),
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    },
    destination,
  );
}

function configuredLevel(): Threshold {
  try {
    return env().LOG_LEVEL;
  } catch {
    return "info";
  }
}

function logger(): Logger {
  shared.__backchannelLogger ??= createLogger(
    configuredLevel(),
    pino.multistream(
      [
        { level: "debug", stream: pino.destination({ dest: 1, sync: true }) },
        { level: "warn", stream: pino.destination({ dest: 2, sync: true }) },
      ],
      { dedupe: true },
    ),
  );
  // LOG_LEVEL is read again when the environment is (tests point a process at another one).
  const level = configuredLevel();
  if (shared.__backchannelLogger.level !== level) shared.__backchannelLogger.level = level;
  return shared.__backchannelLogger;
}

function write(level: Level, msg: string, fields: LogFields) {
  logger()[level](fields, msg);
}

export const log = {
  debug: (msg: string, fields: LogFields = {}) => write("debug", msg, fields),
  info: (msg: string, fields: LogFields = {}) => write("info", msg, fields),
  warn: (msg: string, fields: LogFields = {}) => write("warn", msg, fields),
  error: (msg: string, fields: LogFields = {}) => write("error", msg, fields),
};

/** Runs `work` with its own log context (a request, a job): it replaces whatever context ran before. */
export function withLogContext<T>(context: LogContext, work: () => T): T {
  return contexts.run({ ...definedOnly(context) }, work);
}

/** Adds ids learnt on the way (the user once authenticated, the session once created) to the current context. */
export function addLogContext(context: LogContext): void {
  const current = contexts.getStore();
  if (current) Object.assign(current, definedOnly(context));
}

/** Runs `work` in no log context: for what outlives the request that makes it (a shared connection). */
export function outsideLogContext<T>(work: () => T): T {
  return contexts.exit(work);
}

/** The current context's ids (for a test, or to hand to work that runs later). */
export function currentLogContext(): LogContext {
  return { ...contexts.getStore() };
}

function definedOnly(context: LogContext): LogContext {
  const defined: LogContext = {};
  for (const key of ["correlationId", "userId", "sessionId", "messageId"] as const) {
    const value = context[key];
    if (typeof value === "string" && value) defined[key] = value;
  }
  return defined;
}
