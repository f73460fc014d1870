import { APIConnectionError, APIError, APIUserAbortError } from "@anthropic-ai/sdk";
import { LlmError, type LlmErrorCode } from "./types";

// Turns whatever the Anthropic SDK throws into an LlmError whose `retryable` drives our worker's
// retries (the SDK's own retries are off). Rule of thumb: the API's fault or load → retry;
// our request or our key → final, because the same call would fail the same way again.

interface Verdict {
  code: LlmErrorCode;
  retryable: boolean;
}

const RETRY = (code: LlmErrorCode): Verdict => ({ code, retryable: true });
const FINAL = (code: LlmErrorCode): Verdict => ({ code, retryable: false });

/** By the API's `error.type`, which is all a mid-stream `event: error` carries. */
const BY_ERROR_TYPE: Record<string, Verdict> = {
  overloaded_error: RETRY("overloaded"),
  api_error: RETRY("model_unavailable"),
  timeout_error: RETRY("model_unavailable"),
  rate_limit_error: RETRY("rate_limited"),
  invalid_request_error: FINAL("bad_request"),
  not_found_error: FINAL("bad_request"),
  authentication_error: FINAL("auth_failed"),
  permission_error: FINAL("auth_failed"),
  billing_error: FINAL("auth_failed"),
};

function verdictForStatus(status: number): Verdict {
  if (status === 429) return RETRY("rate_limited");
  if (status === 529) return RETRY("overloaded");
  // 408 and 409 are transient on this API (the SDK itself retries them by default).
  if (status === 408 || status === 409 || status >= 500) return RETRY("model_unavailable");
  if (status === 401 || status === 402 || status === 403) return FINAL("auth_failed");
  return FINAL("bad_request");
}

/** `retry-after-ms` (which the API may send) wins over `retry-after` in seconds or as a date. */
export function retryAfterMsFrom(headers: Headers | undefined): number | undefined {
  const millis = Number(headers?.get("retry-after-ms") ?? Number.NaN);
  if (Number.isFinite(millis) && millis >= 0) return millis;
  const value = headers?.get("retry-after");
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

export function toLlmError(error: unknown, signal: AbortSignal): LlmError {
  if (error instanceof LlmError) return error;
  // Checked first: an abort surfaces as APIUserAbortError, as a plain AbortError, or not at all.
  if (signal.aborted || error instanceof APIUserAbortError) {
    return new LlmError("cancelled", "Anthropic: request cancelled", { retryable: false, cause: error });
  }
  // Includes APIConnectionTimeoutError: no response headers within the client timeout.
  if (error instanceof APIConnectionError) {
    return new LlmError("model_unavailable", `Anthropic: ${error.message}`, { retryable: true, cause: error });
  }
  if (error instanceof APIError) {
    const errorType = error.type ?? "";
    // A mid-stream `event: error` arrives as an APIError with no status, only a type.
    const verdict =
      errorType === "overloaded_error"
        ? RETRY("overloaded")
        : error.status !== undefined
          ? verdictForStatus(error.status)
          : (BY_ERROR_TYPE[errorType] ?? RETRY("model_unavailable"));
    const what = error.apiMessage || errorType || error.message;
    return new LlmError(verdict.code, `Anthropic ${error.status ?? "stream"}: ${what}`, {
      retryable: verdict.retryable,
      retryAfterMs: verdict.code === "rate_limited" ? retryAfterMsFrom(error.headers) : undefined,
      cause: error,
    });
  }
  // Anything else (a malformed event, a bug) is not known to be permanent: let the worker retry.
  const message = error instanceof Error ? error.message : String(error);
  return new LlmError("model_error", `Anthropic: ${message}`, { retryable: true, cause: error });
}
