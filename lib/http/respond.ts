import "server-only";
import { AppError, errorBody, toAppError } from "../errors";
import { describeError, log } from "../log";
import { NOSNIFF } from "./security-headers";

// Every JSON answer may hold a user's data: never stored by a cache, never sniffed.
export const JSON_HEADERS = {
  "Content-Type": "application/json; charset=utf-8",
  "Cache-Control": "no-store",
  ...NOSNIFF,
};

export function json(data: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(data), { status, headers: { ...JSON_HEADERS, ...headers } });
}

/**
 * The one place an error becomes a reply (status, headers, JSON body), for a Response or for
 * Node's own response (lib/http/node-handler.ts). A 5xx never carries internals.
 */
export function errorReply(error: unknown, correlationId: string) {
  const appError = toAppError(error);
  if (appError.status >= 500) {
    log.error("request failed", { correlationId, code: appError.code, error: describeError(appError.cause ?? error) });
  }
  return {
    status: appError.status,
    headers: { ...JSON_HEADERS, ...appError.headers, "X-Correlation-Id": correlationId },
    body: JSON.stringify(errorBody(appError)),
  };
}

export function errorResponse(error: unknown, correlationId: string): Response {
  const { status, headers, body } = errorReply(error, correlationId);
  return new Response(body, { status, headers });
}

export { AppError };
