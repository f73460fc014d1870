// GET|POST /api/auth/* — Auth.js (session, sign-out, provider callbacks), behind the contract's
// rules: a callback URL Auth.js would refuse is a 400 here (Auth.js itself answers 500), and an
// error answer of Auth.js is the contract's JSON error (its own bodies are HTML pages or
// `{message}`); its 200 pages and redirects are passed on as they are.
import type { NextRequest } from "next/server";
import { handlers } from "@/lib/auth";
import { checkCallbackUrls } from "@/lib/auth/callback-url";
import { AppError, type ErrorCode } from "@/lib/errors";
import { withRequest } from "@/lib/http/handler";

const CODES: Record<number, ErrorCode> = { 401: "unauthorized", 404: "not_found", 405: "method_not_allowed" };

function guarded(handler: (request: NextRequest) => Promise<Response>) {
  return withRequest<{ nextauth: string[] }>(async ({ request, params }) => {
    const next = request as NextRequest;
    checkCallbackUrls(next.nextUrl.searchParams, (name) => next.cookies.get(name)?.value);
    const response = await handler(next);
    if (response.status < 400) return new Response(response.body, response);
    await response.body?.cancel();
    // The error page only shows the error its query names (`?error=Configuration` is a 500 there).
    if (response.status >= 500 && params.nextauth?.[0] !== "error") {
      throw new AppError(500, "internal_error", "Signing in failed on our side. Please try again.");
    }
    const status = response.status >= 500 ? 400 : response.status;
    throw new AppError(status, CODES[status] ?? "invalid_request", "Auth.js refused the request.");
  });
}

export const GET = guarded(handlers.GET);
export const POST = guarded(handlers.POST);
