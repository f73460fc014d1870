import "server-only";
import { env } from "../env";
import { describeError, log } from "../log";
import { commandPort } from "../redis/command-port";

export interface RateDecision {
  allowed: boolean;
  retryAfterSeconds: number;
}

export interface RateLimiter {
  /** Counts one hit of `key` in a fixed window; refuses past `limit`. */
  hit(key: string, limit: number, windowMs: number): Promise<RateDecision>;
  /** Takes back one hit of `key` in its current window (a request that turned out not to count). */
  refund(key: string): Promise<void>;
}

class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  async hit(key: string, limit: number, windowMs: number): Promise<RateDecision> {
    const now = Date.now();
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      if (this.windows.size > 10_000) for (const [k, w] of this.windows) if (w.resetAt <= now) this.windows.delete(k);
      window = { count: 0, resetAt: now + windowMs };
      this.windows.set(key, window);
    }
    window.count++;
    return { allowed: window.count <= limit, retryAfterSeconds: Math.max(1, Math.ceil((window.resetAt - now) / 1000)) };
  }

  async refund(key: string): Promise<void> {
    const window = this.windows.get(key);
    if (window && window.resetAt > Date.now() && window.count > 0) window.count--;
  }
}

// Only within the window that counted it: a key that expired meanwhile is not made again.
const REFUND_SCRIPT = `if redis.call("EXISTS", KEYS[1]) == 1 then return redis.call("DECR", KEYS[1]) end return 0`;
// KEYS[1] the window's counter; ARGV[1] the window (ms). The count and the ms left, in one step.
const HIT_SCRIPT = `
local count = redis.call("INCR", KEYS[1])
redis.call("PEXPIRE", KEYS[1], ARGV[1], "NX")
return {count, redis.call("PTTL", KEYS[1])}`;

class RedisRateLimiter implements RateLimiter {
  /**
   * `namespace`: the deployment's BULLMQ_PREFIX. Keys by user id never meet another deployment's,
   * but keys by client address would: two apps on one Redis (or the tests' many) count apart.
   */
  constructor(private readonly namespace: string) {}

  private redisKeyOf(key: string): string {
    return `chat:ratelimit:${this.namespace}:${key}`;
  }

  // Fails open: with Redis away the message is still stored, and the enqueue answers 503, so a
  // retry with the same clientMessageId loses nothing.
  async hit(key: string, limit: number, windowMs: number): Promise<RateDecision> {
    try {
      return await this.count(key, limit, windowMs);
    } catch (error) {
      log.warn("rate limiter unavailable; allowing", { error: describeError(error) });
      return { allowed: true, retryAfterSeconds: 0 };
    }
  }

  async refund(key: string): Promise<void> {
    try {
      await (await commandPort()).run(REFUND_SCRIPT, [this.redisKeyOf(key)], []);
    } catch (error) {
      log.warn("rate limiter unavailable; hit not refunded", { error: describeError(error) });
    }
  }

  private async count(key: string, limit: number, windowMs: number): Promise<RateDecision> {
    const [count, ttl] = (await (await commandPort()).run(HIT_SCRIPT, [this.redisKeyOf(key)], [windowMs])) as [
      number,
      number,
    ];
    return { allowed: count <= limit, retryAfterSeconds: Math.max(1, Math.ceil(ttl / 1000)) };
  }
}

const cache = globalThis as unknown as { __backchannelRateLimiter?: RateLimiter };

export function getRateLimiter(): RateLimiter {
  if (!cache.__backchannelRateLimiter) {
    const { redis, BULLMQ_PREFIX } = env();
    cache.__backchannelRateLimiter = redis ? new RedisRateLimiter(BULLMQ_PREFIX) : new MemoryRateLimiter();
  }
  return cache.__backchannelRateLimiter;
}
