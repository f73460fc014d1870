// GET|POST /api/auth/* — Auth.js (session, sign-out, provider callbacks), behind the contract's
// rules: a callback URL Auth.js would refuse is a 400 here (Auth.js itself answers 500), and an
// error answer of Auth.js is the contract's JSON error (its own bodies are HTML pages or
// `{message}`); its 200 pages and redirects are passed on as they are.
import type { NextRequest } from "next/server";
import { handlers } from "@/lib/auth";
import { authJsRefusal, checkCallbackUrls } from "@/lib/auth/auth-js-guard";
import { withRequest } from "@/lib/http/handler";

function guarded(handler: (request: NextRequest) => Promise<Response>) {
  return withRequest<{ nextauth: string[] }>(async ({ request, params }) => {
    const next = request as NextRequest;
    checkCallbackUrls(next.nextUrl.searchParams, (name) => next.cookies.get(name)?.value);
    const response = await handler(next);
    if (response.status < 400) return new Response(response.body, response);
    await response.body?.cancel();
    throw authJsRefusal(response.status, params.nextauth?.[0] === "error");
  });
}

export const GET = guarded(handlers.GET);
export const POST = guarded(handlers.POST);
