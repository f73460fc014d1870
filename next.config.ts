import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // These packages hold native bindings, WASM files or long-lived sockets: load them from
  // node_modules at run time instead of bundling them into each route.
  serverExternalPackages: ["@electric-sql/pglite", "bullmq", "ioredis", "postgres", "@anthropic-ai/sdk"],
  // The SSE routes live in pages/api (lib/sse/sse-response.ts says why). Bundling their
  // dependencies as the App Router does resolves `server-only` for a server layer, as there.
  bundlePagesRouterDependencies: true,
  poweredByHeader: false,
  // `npm run dev` opened as http://127.0.0.1:3000 (not localhost) would otherwise get its dev
  // scripts blocked and never hydrate.
  allowedDevOrigins: ["127.0.0.1"],
  typedRoutes: false,
};

export default nextConfig;
