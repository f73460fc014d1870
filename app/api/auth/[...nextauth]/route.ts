// GET|POST /api/auth/* — Auth.js (session, sign-in, sign-out, provider callbacks).
import type { NextRequest } from "next/server";
import { handlers } from "@/lib/auth";

// Auth.js builds its URLs (a provider's callback URL, the redirects) from the request's URL. A
// NextRequest's URL is not the one asked for: Next names 127.0.0.1 "localhost", and a callback
// there would arrive without the cookies set on 127.0.0.1. With trustHost, the origin is the one
// the request names: X-Forwarded-Host/-Proto behind a proxy, else Host. AUTH_URL, when set, wins
// (Auth.js reads it from the NextRequest itself, so that one is handed on as it is).
function asRequested(request: NextRequest): NextRequest {
  const host = request.headers.get("x-forwarded-host") ?? request.headers.get("host");
  if (process.env.AUTH_URL || !host) return request;
  const proto = request.headers.get("x-forwarded-proto")?.split(",")[0]?.trim() ?? request.nextUrl.protocol;
  const url = new URL(`${request.nextUrl.pathname}${request.nextUrl.search}`, `${proto.replace(/:$/, "")}://${host}`);
  const init: RequestInit & { duplex?: "half" } = { method: request.method, headers: request.headers };
  if (request.method !== "GET" && request.method !== "HEAD") {
    init.body = request.body;
    init.duplex = "half";
  }
  return new Request(url, init) as NextRequest;
}

export const GET = (request: NextRequest) => handlers.GET(asRequested(request));
export const POST = (request: NextRequest) => handlers.POST(asRequested(request));
