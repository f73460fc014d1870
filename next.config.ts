import type { NextConfig } from "next";
import { AUTH_PAGE_CSP, DOCUMENT_HEADERS } from "./lib/http/security-headers";

const nextConfig: NextConfig = {
  // These packages hold native bindings, WASM files or long-lived sockets: load them from
  // node_modules at run time instead of bundling them into each route.
  // The OpenTelemetry packages keep their state on globalThis and load lazily: one copy for every
  // bundle, and the SDK read from disk only when tracing is on.
  serverExternalPackages: [
    "@electric-sql/pglite",
    "bullmq",
    "ioredis",
    "postgres",
    "@anthropic-ai/sdk",
    "@opentelemetry/api",
    "@opentelemetry/sdk-trace-node",
    "@opentelemetry/exporter-trace-otlp-http",
    "@opentelemetry/resources",
    "@opentelemetry/semantic-conventions",
  ],
  // The SSE routes live in pages/api (lib/sse/sse-response.ts says why). Bundling their
  // dependencies as the App Router does resolves `server-only` for a server layer, as there.
  bundlePagesRouterDependencies: true,
  poweredByHeader: false,
  // `npm run dev` opened as http://127.0.0.1:3000 (not localhost) would otherwise get its dev
  // scripts blocked and never hydrate.
  allowedDevOrigins: ["127.0.0.1"],
  typedRoutes: false,
  // Auth.js's own pages and answers (/api/auth/*): static headers suffice, they run no script.
  // These win over the route's own (Auth.js already says no-store on its session and pages).
  async headers() {
    const headers = { ...DOCUMENT_HEADERS, "Content-Security-Policy": AUTH_PAGE_CSP, "Cache-Control": "no-store" };
    return [{ source: "/api/auth/:path*", headers: Object.entries(headers).map(([key, value]) => ({ key, value })) }];
  },
};

export default nextConfig;
