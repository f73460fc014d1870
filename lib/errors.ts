// One error type for every expected failure. `toErrorResponse` is the only place that turns an
// error into the contract's `{error:{code,message}}` body; anything unexpected becomes a bare 500
// so no stack trace, SQL or Redis text ever reaches a client. An outage of Redis or Postgres is
// recognised here (outageOf), once for every route: a 503 with Retry-After, never a 500.

export type ErrorCode =
  | "invalid_json"
  | "invalid_request"
  | "unauthorized"
  | "forbidden_origin"
  | "not_found"
  | "method_not_allowed"
  | "session_not_found"
  | "message_not_found"
  | "payload_too_large"
  | "message_too_long"
  | "rate_limited"
  | "queue_unavailable"
  | "store_unavailable"
  | "database_unavailable"
  | "unavailable"
  | "internal_error";

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly fields: Record<string, string> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(
    status: number,
    code: ErrorCode,
    message: string,
    extra: { fields?: Record<string, string>; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: extra.cause });
    this.name = "AppError";
    this.status = status;
    this.code = code;
    this.fields = extra.fields;
    this.headers = extra.headers;
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; fields?: Record<string, string> };
}

export function errorBody(error: AppError): ErrorBody {
  const body: ErrorBody = { error: { code: error.code, message: error.message } };
  if (error.fields) body.error.fields = error.fields;
  return body;
}

/** Seconds a client is told to wait after a 503 of an outage. */
export const OUTAGE_RETRY_AFTER_SECONDS = 5;

const OUTAGES = {
  store_unavailable: "The message store cannot be reached right now. Please try again shortly.",
  queue_unavailable: "Replies cannot be queued right now. Please try again shortly.",
  database_unavailable: "The database is not answering right now. Please try again shortly.",
} as const;
type OutageCode = keyof typeof OUTAGES;

export function outageError(code: OutageCode, cause?: unknown): AppError {
  return new AppError(503, code, OUTAGES[code], {
    headers: { "Retry-After": String(OUTAGE_RETRY_AFTER_SECONDS) },
    cause,
  });
}

// What ioredis hands a command while its connection is down: no offline queue ("Stream isn't
// writeable"), a connection lost with the command in flight (MaxRetriesPerRequestError, "Connection
// is closed."), or the web's own command timeout. It never passes raw socket errors to a command.
const REDIS_DOWN = /^(Stream isn't writeable|Connection is closed|Command timed out|Redis did not become ready)/;
// SQLSTATEs of a statement cancelled by statement_timeout (57014) or lock_timeout (55P03), of a
// server shutting down or restarting (57P01-57P03), out of connections (53300) or of a lost link (08xxx).
const PG_DOWN = /^(57014|55P03|57P0[1-3]|53300|08...)$/;
// postgres-js's own connection errors, and the socket errors it passes on as they are.
const CONNECTION_DOWN = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

function outageCodeOf(error: Error): OutageCode | null {
  if (error.name === "MaxRetriesPerRequestError" || REDIS_DOWN.test(error.message)) return "store_unavailable";
  // Upstash's REST endpoint unreachable, slow or refusing (lib/redis/port.ts).
  if (error.name === "RedisUnavailableError") return "store_unavailable";
  // The BullMQ producer's own wait for its connection (lib/queue/bullmq.ts).
  if (error.message === "Redis is not reachable") return "queue_unavailable";
  const code = (error as { code?: unknown }).code;
  if (typeof code !== "string") return null;
  if (error.name === "PostgresError" ? PG_DOWN.test(code) : CONNECTION_DOWN.has(code)) return "database_unavailable";
  return null;
}

/**
 * The 503 for an error that says Redis or Postgres is unreachable or too slow, else null. Follows
 * `cause` (drizzle wraps a failed statement in DrizzleQueryError, an AppError may wrap its cause).
 */
export function outageOf(error: unknown): AppError | null {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = outageCodeOf(current);
    // The cause is the error that told: the log then says "lock timeout", not the failed query.
    if (code) return outageError(code, current);
    current = current.cause;
  }
  return null;
}

export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const outage = outageOf(error);
  if (outage) return outage;
  return new AppError(500, "internal_error", "Something went wrong on our side. Please try again.", { cause: error });
}
