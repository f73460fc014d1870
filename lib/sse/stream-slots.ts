import "server-only";
import { randomUUID } from "node:crypto";
import { env } from "../env";
import { describeError, log } from "../log";
import { commandPort } from "../redis/command-port";
import { type RedisClient, redisConnection } from "../redis/connections";
import type { RedisPort } from "../redis/port";

// At most MAX_SSE_PER_USER open streams per user. A new stream always gets in: the user's oldest
// streams past the limit are told `reconnect` `superseded` and closed, so a person's fresh tab
// wins; the client waits to come back until its page is next visible or focused, so nine open
// tabs never take turns kicking each other out. In the Redis mode the slots are counted across
// every web process (a sorted set per user, oldest first; a publish tells the process that holds
// a superseded stream to end it); in the embedded mode the one process counts them.

export interface StreamSlots {
  /**
   * Takes a slot of `userId` for a stream that opens now; `supersede` ends that stream when a newer
   * one needs its slot. Returns the release, called when the stream closes.
   */
  take(userId: string, supersede: () => void): Promise<() => void>;
}

class MemoryStreamSlots implements StreamSlots {
  private readonly byUser = new Map<string, Array<{ supersede: () => void }>>();

  constructor(private readonly max: number) {}

  async take(userId: string, supersede: () => void): Promise<() => void> {
    const open = this.byUser.get(userId) ?? [];
    const slot = { supersede };
    open.push(slot);
    this.byUser.set(userId, open);
    for (const old of open.splice(0, Math.max(0, open.length - this.max))) old.supersede();
    return () => {
      const index = open.indexOf(slot);
      if (index !== -1) open.splice(index, 1);
      if (open.length === 0 && this.byUser.get(userId) === open) this.byUser.delete(userId);
    };
  }
}

const SUPERSEDE_CHANNEL = "chat:sse-supersede";

// KEYS[1] the user's set; ARGV: stream id, now (ms), max, stale before (ms), ttl (ms). Adds the
// stream, forgets streams older than any stream can live (a process that died never released
// them), and removes and announces the oldest past `max`.
const TAKE_SCRIPT = `
redis.call("ZADD", KEYS[1], ARGV[2], ARGV[1])
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", "(" .. ARGV[4])
local extra = redis.call("ZCARD", KEYS[1]) - tonumber(ARGV[3])
local old = {}
if extra > 0 then
  old = redis.call("ZRANGE", KEYS[1], 0, extra - 1)
  redis.call("ZREM", KEYS[1], unpack(old))
  for _, id in ipairs(old) do redis.call("PUBLISH", "${SUPERSEDE_CHANNEL}", id) end
end
redis.call("PEXPIRE", KEYS[1], ARGV[5])
return #old`;

class RedisStreamSlots implements StreamSlots {
  /** This process's streams by id. */
  private readonly local = new Map<string, () => void>();
  private readonly ready: Promise<unknown>;

  constructor(
    private readonly command: RedisPort,
    subscriber: RedisClient,
    private readonly max: number,
    /** Longer than any stream lives: MAX_SSE_SECONDS and then some. */
    private readonly lifetimeMs: number,
  ) {
    subscriber.on("message", (channel: string, id: string) => {
      if (channel !== SUPERSEDE_CHANNEL) return;
      const supersede = this.local.get(id);
      if (!supersede) return;
      this.local.delete(id);
      supersede();
    });
    this.ready = subscriber.subscribe(SUPERSEDE_CHANNEL);
  }

  async take(userId: string, supersede: () => void): Promise<() => void> {
    await this.ready;
    const id = randomUUID();
    const key = `chat:sse:${userId}`;
    this.local.set(id, supersede);
    const now = Date.now();
    try {
      await this.command.run(TAKE_SCRIPT, [key], [id, now, this.max, now - this.lifetimeMs, this.lifetimeMs]);
    } catch (error) {
      this.local.delete(id);
      throw error;
    }
    return () => {
      if (!this.local.delete(id)) return; // superseded: the script removed it already
      this.command.command("ZREM", key, id).catch((error: unknown) => {
        // It falls off the set once it is older than any stream can be.
        log.warn("stream slot not released", { error: describeError(error) });
      });
    };
  }
}

const cache = globalThis as unknown as { __backchannelStreamSlots?: Promise<StreamSlots> };

/** The stream slots of this deployment: in Redis when REDIS_URL (or REDIS_CLUSTER_NODES) is set, else this process's. */
export function getStreamSlots(): Promise<StreamSlots> {
  cache.__backchannelStreamSlots ??= (async (): Promise<StreamSlots> => {
    const { redis, MAX_SSE_PER_USER, MAX_SSE_SECONDS } = env();
    if (!redis) return new MemoryStreamSlots(MAX_SSE_PER_USER);
    const [command, subscriber] = await Promise.all([commandPort(), redisConnection(redis, "subscriber")]);
    return new RedisStreamSlots(command, subscriber, MAX_SSE_PER_USER, (MAX_SSE_SECONDS + 60) * 1000);
  })().catch((error: unknown) => {
    cache.__backchannelStreamSlots = undefined;
    throw error;
  });
  return cache.__backchannelStreamSlots;
}
