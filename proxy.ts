import { type NextRequest, NextResponse } from "next/server";
import { DOCUMENT_HEADERS, pageCsp } from "@/lib/http/security-headers";

// Pages only: a fresh script nonce per request. Next reads it from the request's CSP header and
// puts it on its own <script> tags (so pages render per request). A proxy on every request cost
// about 25% of the web process's CPU per message send, hence the matcher below.
export function proxy(request: NextRequest) {
  const nonce = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const csp = pageCsp(nonce, process.env.NODE_ENV === "development");
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set("Content-Security-Policy", csp);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  response.headers.set("Content-Security-Policy", csp);
  for (const [name, value] of Object.entries(DOCUMENT_HEADERS)) response.headers.set(name, value);
  return response;
}

export const config = {
  matcher: [
    {
      // Not the API (its headers come from lib/http/respond.ts, Auth.js's from next.config.ts),
      // nor static files; nor next/link prefetches, which are not documents.
      source: "/((?!api(?:/|$)|_next/static|_next/image|favicon\\.ico|icon\\.svg|sw\\.js).*)",
      missing: [
        { type: "header", key: "next-router-prefetch" },
        { type: "header", key: "purpose", value: "prefetch" },
      ],
    },
  ],
};
