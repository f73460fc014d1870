import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // These packages hold native bindings, WASM files or long-lived sockets: load them from
  // node_modules at run time instead of bundling them into each route.
  serverExternalPackages: ["@electric-sql/pglite", "bullmq", "ioredis", "postgres", "@anthropic-ai/sdk"],
  poweredByHeader: false,
  // `npm run dev` opened as http://127.0.0.1:3000 (not localhost) would otherwise get its dev
  // scripts blocked and never hydrate.
  allowedDevOrigins: ["127.0.0.1"],
  typedRoutes: false,
};

export default nextConfig;
