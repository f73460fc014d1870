import "server-only";
import { env } from "../env";
import { processRole } from "../runtime";
import { redisConnection } from "./connections";
import { type RedisPort, restPort, tcpPort } from "./port";

// The port this process's Redis commands go through. The worker always holds TCP connections (it
// writes every chunk, and BullMQ needs TCP anyway). The web app goes over Upstash's REST API when
// it is configured: a serverless function then opens no Redis connection for its commands (the
// BullMQ producer and the live subscription keep theirs on REDIS_URL; see the README's
// "Upstash" section for why the split falls there).

const cache = globalThis as unknown as { __backchannelPort?: Promise<RedisPort> };

export function commandPort(): Promise<RedisPort> {
  cache.__backchannelPort ??= (async () => {
    const config = env();
    const worker = processRole() === "worker";
    if (config.redisRest && !worker) return restPort(config.redisRest, config.REDIS_COMMAND_TIMEOUT_MS);
    if (!config.redis) throw new Error("commandPort: no Redis is configured (the embedded mode has none)");
    return tcpPort(await redisConnection(config.redis, worker ? "worker" : "command"));
  })().catch((error: unknown) => {
    cache.__backchannelPort = undefined;
    throw error;
  });
  return cache.__backchannelPort;
}
