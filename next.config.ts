import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // These packages hold native bindings, WASM files or long-lived sockets: load them from
  // node_modules at run time instead of bundling them into each route.
  serverExternalPackages: ["@electric-sql/pglite", "bullmq", "ioredis", "postgres", "@anthropic-ai/sdk"],
  poweredByHeader: false,
  typedRoutes: false,
};

export default nextConfig;
