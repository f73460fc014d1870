import "server-only";
import { AppError, errorBody, toAppError } from "../errors";
import { describeError, log } from "../log";

export function json(data: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(data), {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store", ...headers },
  });
}

/** The one place an error becomes a response. A 5xx never carries internals. */
export function errorResponse(error: unknown, correlationId: string): Response {
  const appError = toAppError(error);
  if (appError.status >= 500) {
    log.error("request failed", { correlationId, code: appError.code, error: describeError(appError.cause ?? error) });
  }
  return json(errorBody(appError), appError.status, { ...appError.headers, "X-Correlation-Id": correlationId });
}

export { AppError };
