import "server-only";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { env } from "../env";

const cache = globalThis as unknown as { __backchannelAuthSecret?: string };

/**
 * AUTH_SECRET signs the session cookies. The embedded mode makes one on first start and keeps it in
 * DATA_DIR, so a newcomer needs no setup and sessions survive restarts; a deployment with its own
 * Postgres must set it (every instance must share it).
 */
export function authSecret(): string {
  if (cache.__backchannelAuthSecret) return cache.__backchannelAuthSecret;
  const config = env();
  if (config.AUTH_SECRET) {
    cache.__backchannelAuthSecret = config.AUTH_SECRET;
    return config.AUTH_SECRET;
  }
  if (config.DATABASE_URL) {
    throw new Error(
      "Invalid environment: AUTH_SECRET must be set when DATABASE_URL is set (try: openssl rand -base64 32).",
    );
  }
  const file = path.join(config.dataDir, "auth-secret");
  try {
    cache.__backchannelAuthSecret = readFileSync(file, "utf8").trim();
  } catch {
    mkdirSync(config.dataDir, { recursive: true });
    cache.__backchannelAuthSecret = randomBytes(32).toString("base64url");
    writeFileSync(file, cache.__backchannelAuthSecret, { mode: 0o600 });
  }
  return cache.__backchannelAuthSecret;
}
