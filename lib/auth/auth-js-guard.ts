import "server-only";
import { AppError, type ErrorCode } from "../errors";

// Auth.js's answers held to the contract. Auth.js refuses a callback URL (the `callbackUrl` query or its callback-url cookie) that is
// neither a path nor an http(s) URL, e.g. `javascript:…`, with a 500 of its own ("server
// configuration"). The same rule is checked here first, so such a request is the contract's 400.

const CALLBACK_COOKIES = ["authjs.callback-url", "__Secure-authjs.callback-url"];

/** Auth.js's own test (@auth/core lib/utils/assert.js); a path resolves against any http origin. */
function isHttpUrl(url: string): boolean {
  try {
    return /^https?:/.test(new URL(url, url.startsWith("/") ? "http://localhost" : undefined).protocol);
  } catch {
    return false;
  }
}

/** Throws the contract's 400 when the request names a callback URL Auth.js would refuse. */
export function checkCallbackUrls(query: URLSearchParams, cookie: (name: string) => string | undefined): void {
  const fields: Record<string, string> = {};
  // Auth.js reads the last of several; every one is checked.
  if (query.getAll("callbackUrl").some((url) => url && !isHttpUrl(url))) {
    fields.callbackUrl = "must be a path or an http(s) URL";
  }
  for (const name of CALLBACK_COOKIES) {
    const value = cookie(name);
    if (value && !isHttpUrl(value)) fields[name] = "must be a path or an http(s) URL";
  }
  if (Object.keys(fields).length > 0) {
    throw new AppError(400, "invalid_request", "The callback URL is not valid.", { fields });
  }
}

const CODES: Record<number, ErrorCode> = { 401: "unauthorized", 404: "not_found", 405: "method_not_allowed" };

/**
 * The contract's error for an error answer of Auth.js (its own bodies are HTML pages, `{message}`
 * or "Bad request."). Its error page (`/api/auth/error`) only shows the error its query names, a
 * 500 for `?error=Configuration`: that is the client's 400, not a failure of ours.
 */
export function authJsRefusal(status: number, errorPage: boolean): AppError {
  if (status >= 500 && !errorPage) {
    return new AppError(500, "internal_error", "Signing in failed on our side. Please try again.");
  }
  const code = status >= 500 ? 400 : status;
  return new AppError(code, CODES[code] ?? "invalid_request", "Auth.js refused the request.");
}
