import "server-only";
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from "ioredis";
import { env } from "../env";
import { outsideLogContext } from "../log";

// Connections are made once per process and kept on globalThis so dev hot reload reuses them.
//  - "command": the web app's connection. Fails fast (no offline queue, and a command that gets no
//    answer in REDIS_COMMAND_TIMEOUT_MS fails) so a request answers 503 instead of hanging while
//    Redis is down or unreachable.
//  - "worker": waits out short Redis outages (BullMQ needs maxRetriesPerRequest: null) so a reply
//    being written is delayed, not lost.
//  - "subscriber": the one pub/sub connection of the process, shared by every SSE reader.
export type RedisRole = "command" | "worker" | "subscriber";

/** A connection to one Redis or to a Redis Cluster: the same commands, keys of one slot per script. */
export type RedisClient = Redis | Cluster;

const CLUSTER_PREFIX = "cluster:";

/** The nodes of a target made from REDIS_CLUSTER_NODES ("cluster:host:port,…"), null for a URL. */
export function clusterNodesOf(target: string): Array<{ host: string; port: number }> | null {
  if (!target.startsWith(CLUSTER_PREFIX)) return null;
  return target
    .slice(CLUSTER_PREFIX.length)
    .split(",")
    .map((node) => {
      const colon = node.lastIndexOf(":");
      return { host: node.slice(0, colon), port: Number(node.slice(colon + 1)) };
    });
}

/**
 * A new client for `target` (env().redis: a URL, or a cluster's nodes). On a cluster the options
 * are each node's; `cluster` adds the cluster's own. A cluster client follows MOVED and ASK itself.
 */
export function newRedisClient(
  target: string,
  options: RedisOptions,
  cluster: Partial<ClusterOptions> = {},
): RedisClient {
  const nodes = clusterNodesOf(target);
  if (!nodes) return new Redis(target, options);
  // No auto-pipelining on a cluster: ioredis picks an auto-pipeline's node by the command's first
  // argument, which for EVAL is the script and for the append script the key count, and a
  // pipeline with keys of another node fails. Commands issued together still leave together.
  const { enableOfflineQueue, enableAutoPipelining: _, ...redisOptions } = options;
  return new Cluster(nodes, {
    redisOptions,
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    // Reads go to masters: a reply's list is read right after it is written.
    scaleReads: "master",
    ...cluster,
  });
}

function roleOptions(role: RedisRole): RedisOptions {
  switch (role) {
    case "command":
      return {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        connectTimeout: 5_000,
        commandTimeout: env().REDIS_COMMAND_TIMEOUT_MS,
        enableAutoPipelining: true,
      };
    case "worker":
      return { maxRetriesPerRequest: null, enableAutoPipelining: true };
    case "subscriber":
      return { maxRetriesPerRequest: null };
  }
}

const cache = globalThis as unknown as {
  __backchannelRedis?: Map<string, Promise<RedisClient>>;
  /** Every client made, ready or not, by the same key: readiness is asked synchronously. */
  __backchannelRedisClients?: Map<string, RedisClient>;
  /** Called whenever a connection that was up is lost. */
  __backchannelRedisLost?: Set<() => void>;
};

function waitUntilReady(client: RedisClient, timeoutMs: number): Promise<RedisClient> {
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

/** `url`: env().redis, a Redis URL or a cluster's nodes. */
export function redisConnection(url: string, role: RedisRole): Promise<RedisClient> {
  cache.__backchannelRedis ??= new Map();
  const key = `${role}:${url}`;
  let connecting = cache.__backchannelRedis.get(key);
  if (!connecting) {
    // Made outside the request that first asks for it: its events (a subscriber's messages) must
    // not carry that request's ids to every later line they lead to.
    const client = outsideLogContext(() =>
      newRedisClient(
        url,
        { ...roleOptions(role), connectionName: `backchannel-${role}` },
        // On a cluster, SSUBSCRIBE goes to the master that owns the channel's slot: one
        // connection per master, and a message reaches only the node that owns its channel.
        role === "subscriber" ? { shardedSubscribers: true } : {},
      ),
    );
    // ioredis reconnects by itself; an unhandled "error" event would crash the process.
    client.on("error", () => {});
    let wasReady = false;
    client.on("ready", () => {
      wasReady = true;
    });
    client.on("close", () => {
      if (!wasReady) return;
      wasReady = false;
      for (const listener of cache.__backchannelRedisLost ?? []) listener();
    });
    cache.__backchannelRedisClients ??= new Map();
    cache.__backchannelRedisClients.set(key, client);
    // The web app must answer (503) quickly while Redis is away; the worker can wait longer.
    connecting = waitUntilReady(client, role === "command" ? 2_000 : 10_000).catch((error: unknown) => {
      cache.__backchannelRedis?.delete(key);
      cache.__backchannelRedisClients?.delete(key);
      client.disconnect();
      throw error;
    });
    cache.__backchannelRedis.set(key, connecting);
  }
  return connecting;
}

/**
 * False while a connection of this process to `url` (of the given roles) is down. The web asks
 * before it subscribes: the subscriber queues a SUBSCRIBE sent during an outage until Redis is back,
 * so a stream opened then would hang instead of answering 503.
 */
export function redisIsUp(url: string, roles: readonly RedisRole[] = ["command", "subscriber"]): boolean {
  const clients = cache.__backchannelRedisClients;
  return roles.every((role) => {
    const client = clients?.get(`${role}:${url}`);
    return !client || client.status === "ready";
  });
}

/** Calls `listener` each time a connection that was up is lost (every role). */
export function onRedisLost(listener: () => void): void {
  cache.__backchannelRedisLost ??= new Set();
  cache.__backchannelRedisLost.add(listener);
}

export async function closeRedisConnections(): Promise<void> {
  const all = cache.__backchannelRedis;
  cache.__backchannelRedis = undefined;
  cache.__backchannelRedisClients = undefined;
  if (!all) return;
  await Promise.all(
    [...all.values()].map(async (connecting) => {
      const client = await connecting.catch(() => null);
      await client?.quit().catch(() => client.disconnect());
    }),
  );
}
