// GET|POST /api/auth/* — Auth.js (session, sign-in, sign-out, provider callbacks), behind the
// contract's rules: a callback URL Auth.js would refuse is a 400 here (Auth.js itself answers 500),
// and an error answer of Auth.js is the contract's JSON error (its own bodies are HTML pages or
// `{message}`); its 200 pages and redirects are passed on as they are.
import type { NextRequest } from "next/server";
import { handlers } from "@/lib/auth";
import { authJsRefusal, checkCallbackUrls } from "@/lib/auth/auth-js-guard";
import { withRequest } from "@/lib/http/handler";
import { requestHost } from "@/lib/http/request-ids";

// Auth.js builds its URLs (a provider's callback URL, the redirects) from the request's URL. A
// NextRequest's URL is not the one asked for: Next names 127.0.0.1 "localhost", and a callback
// there would arrive without the cookies set on 127.0.0.1. With trustHost, the origin is the one
// the request names: X-Forwarded-Host/-Proto behind a proxy, else Host. AUTH_URL, when set, wins
// (Auth.js reads it from the NextRequest itself, so that one is handed on as it is).
function asRequested(request: NextRequest): NextRequest {
  const host = requestHost((name) => request.headers.get(name));
  if (process.env.AUTH_URL || !host) return request;
  const forwarded = request.headers.get("x-forwarded-proto")?.split(",")[0]?.trim().replace(/:$/, "");
  const proto = forwarded === "http" || forwarded === "https" ? forwarded : request.nextUrl.protocol.replace(/:$/, "");
  // A Host no URL can hold (a client's own making): Auth.js gets the request as Next parsed it.
  if (!URL.canParse(`${proto}://${host}`)) return request;
  const url = new URL(`${request.nextUrl.pathname}${request.nextUrl.search}`, `${proto}://${host}`);
  const init: RequestInit & { duplex?: "half" } = { method: request.method, headers: request.headers };
  if (request.method !== "GET" && request.method !== "HEAD") {
    init.body = request.body;
    init.duplex = "half";
  }
  return new Request(url, init) as NextRequest;
}

function guarded(handler: (request: NextRequest) => Promise<Response>) {
  return withRequest<{ nextauth: string[] }>(async ({ request, params }) => {
    const next = request as NextRequest;
    checkCallbackUrls(next.nextUrl.searchParams, (name) => next.cookies.get(name)?.value);
    const response = await handler(asRequested(next));
    if (response.status < 400) return new Response(response.body, response);
    await response.body?.cancel();
    throw authJsRefusal(response.status, params.nextauth?.[0] === "error");
  });
}

export const GET = guarded(handlers.GET);
export const POST = guarded(handlers.POST);
