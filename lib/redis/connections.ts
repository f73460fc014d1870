import "server-only";
import { Redis, type RedisOptions } from "ioredis";

// Connections are made once per process and kept on globalThis so dev hot reload reuses them.
//  - "command": the web app's connection. Fails fast (no offline queue) so a request answers 503
//    instead of hanging while Redis is down.
//  - "worker": waits out short Redis outages (BullMQ needs maxRetriesPerRequest: null) so a reply
//    being written is delayed, not lost.
//  - "subscriber": the one pub/sub connection of the process, shared by every SSE reader.
export type RedisRole = "command" | "worker" | "subscriber";

const ROLE_OPTIONS: Record<RedisRole, RedisOptions> = {
  command: { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 5_000, enableAutoPipelining: true },
  worker: { maxRetriesPerRequest: null, enableAutoPipelining: true },
  subscriber: { maxRetriesPerRequest: null },
};

const cache = globalThis as unknown as { __backchannelRedis?: Map<string, Promise<Redis>> };

function waitUntilReady(client: Redis, timeoutMs: number): Promise<Redis> {
  if (client.status === "ready") return Promise.resolve(client);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error("Redis did not become ready in time"));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve(client);
    };
    const cleanup = () => {
      clearTimeout(timer);
      client.off("ready", onReady);
    };
    client.on("ready", onReady);
  });
}

export function redisConnection(url: string, role: RedisRole): Promise<Redis> {
  cache.__backchannelRedis ??= new Map();
  const key = `${role}:${url}`;
  let connecting = cache.__backchannelRedis.get(key);
  if (!connecting) {
    const client = new Redis(url, { ...ROLE_OPTIONS[role], connectionName: `backchannel-${role}` });
    // ioredis reconnects by itself; an unhandled "error" event would crash the process.
    client.on("error", () => {});
    // The web app must answer (503) quickly while Redis is away; the worker can wait longer.
    connecting = waitUntilReady(client, role === "command" ? 2_000 : 10_000).catch((error: unknown) => {
      cache.__backchannelRedis?.delete(key);
      client.disconnect();
      throw error;
    });
    cache.__backchannelRedis.set(key, connecting);
  }
  return connecting;
}

export async function closeRedisConnections(): Promise<void> {
  const all = cache.__backchannelRedis;
  cache.__backchannelRedis = undefined;
  if (!all) return;
  await Promise.all(
    [...all.values()].map(async (connecting) => {
      const client = await connecting.catch(() => null);
      await client?.quit().catch(() => client.disconnect());
    }),
  );
}
