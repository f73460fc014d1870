// One error type for every expected failure. `toErrorResponse` is the only place that turns an
// error into the contract's `{error:{code,message}}` body; anything unexpected becomes a bare 500
// so no stack trace, SQL or Redis text ever reaches a client.

export type ErrorCode =
  | "invalid_json"
  | "invalid_request"
  | "unauthorized"
  | "forbidden_origin"
  | "not_found"
  | "session_not_found"
  | "message_not_found"
  | "payload_too_large"
  | "message_too_long"
  | "rate_limited"
  | "queue_unavailable"
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

export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  return new AppError(500, "internal_error", "Something went wrong on our side. Please try again.", { cause: error });
}
