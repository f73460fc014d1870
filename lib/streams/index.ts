import "server-only";
import { env } from "../env";
import { commandPort } from "../redis/command-port";
import { redisConnection } from "../redis/connections";
import { MemoryChunkStore } from "./memory";
import { RedisChunkStore } from "./redis";
import type { ChunkStore } from "./types";

export * from "./types";

const cache = globalThis as unknown as { __backchannelStore?: Promise<ChunkStore> };

async function openStore(): Promise<ChunkStore> {
  const { redis, STREAM_TTL_SECONDS } = env();
  const options = { ttlSeconds: STREAM_TTL_SECONDS, runningTtlSeconds: 24 * 3600 };
  if (!redis) return new MemoryChunkStore(options);
  const [port, subscriber] = await Promise.all([commandPort(), redisConnection(redis, "subscriber")]);
  return new RedisChunkStore(port, subscriber, options);
}

/** The chunk store of this process: memory in the embedded mode, Redis (or a Redis Cluster) when REDIS_URL (REDIS_CLUSTER_NODES) is set. */
export function getChunkStore(): Promise<ChunkStore> {
  cache.__backchannelStore ??= openStore().catch((error: unknown) => {
    cache.__backchannelStore = undefined;
    throw error;
  });
  return cache.__backchannelStore;
}

export async function closeChunkStore(): Promise<void> {
  const opening = cache.__backchannelStore;
  cache.__backchannelStore = undefined;
  await (await opening?.catch(() => null))?.close();
}
