// The security headers, in one module: proxy.ts sends the pages' (with a nonce per request),
// next.config.ts the Auth.js pages', respond.ts and sse.ts the API's. No `server-only` here:
// next.config.ts imports it outside any bundle.

/** Every API response: a JSON or event-stream body is never sniffed into HTML or script. */
export const NOSNIFF = { "X-Content-Type-Options": "nosniff" } as const;

/** Every HTML document, besides its Content-Security-Policy. */
export const DOCUMENT_HEADERS = {
  ...NOSNIFF,
  "Referrer-Policy": "strict-origin-when-cross-origin",
  // The app uses none of these; an injected frame or script cannot ask for them either.
  "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
  // frame-ancestors 'none' (below) for the browsers that predate it.
  "X-Frame-Options": "DENY",
} as const;

/**
 * The app's pages: only scripts carrying this request's nonce run ('strict-dynamic' lets them
 * load Next's chunks), never inline ones. Styles allow 'unsafe-inline' for React's style=
 * attributes. No upgrade-insecure-requests: embedded mode is served over plain http too.
 */
export function pageCsp(nonce: string, dev: boolean): string {
  return [
    "default-src 'self'",
    // Dev only: React rebuilds server error stacks with eval.
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' blob: data:",
    "font-src 'self'",
    "connect-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/**
 * Auth.js's own pages (/api/auth/signin, /signout, /error) are static HTML with inline styles and
 * no script. No form-action: an OAuth provider's sign-in form redirects off-site.
 */
export const AUTH_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'none'",
  "style-src 'unsafe-inline'",
  "img-src 'self' https: data:",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");
