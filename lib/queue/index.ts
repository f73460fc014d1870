import "server-only";
import { type Env, env } from "../env";
import { clusterNodesOf } from "../redis/connections";
import { BullReplyQueue, startBullWorker } from "./bullmq";
import type { ReplyProcessor, ReplyQueue, ReplyWorkerHandle } from "./contracts";
import { MemoryReplyQueue } from "./memory";

export * from "./contracts";

/**
 * BullMQ's key prefix: BULLMQ_PREFIX, in a hash tag on a Redis Cluster (`{bull}`), where BullMQ's
 * scripts touch several keys of a queue at once and those must share a slot.
 */
export function bullPrefixOf(config: Pick<Env, "redis" | "BULLMQ_PREFIX">): string {
  return config.redis && clusterNodesOf(config.redis) ? `{${config.BULLMQ_PREFIX}}` : config.BULLMQ_PREFIX;
}

const cache = globalThis as unknown as { __backchannelQueue?: ReplyQueue };

/** The queue of this process: in-process in the embedded mode, BullMQ when REDIS_URL (or REDIS_CLUSTER_NODES) is set. */
export function getReplyQueue(): ReplyQueue {
  if (!cache.__backchannelQueue) {
    const config = env();
    const { redis, WORKER_CONCURRENCY } = config;
    cache.__backchannelQueue = redis
      ? new BullReplyQueue(redis, bullPrefixOf(config))
      : new MemoryReplyQueue(WORKER_CONCURRENCY);
  }
  return cache.__backchannelQueue;
}

/**
 * Starts taking this process's queue's jobs with `processor`: the embedded queue runs them in
 * process, BullMQ through a Worker with the lock that bounds a takeover (WORKER_LOCK_MS).
 */
export function startReplyWorker(processor: ReplyProcessor): ReplyWorkerHandle {
  const queue = getReplyQueue();
  const config = env();
  const { redis, WORKER_CONCURRENCY, WORKER_LOCK_MS } = config;
  if (queue.kind === "memory") {
    // `kind`, not instanceof: Next bundles lib/ once for instrumentation and once for the routes.
    const memoryQueue = queue as MemoryReplyQueue;
    memoryQueue.process(processor);
    return { close: () => memoryQueue.close(), isRunning: () => memoryQueue.isRunning() };
  }
  if (!redis) throw new Error("REDIS_URL or REDIS_CLUSTER_NODES is required for the BullMQ worker");
  return startBullWorker(
    { url: redis, prefix: bullPrefixOf(config), concurrency: WORKER_CONCURRENCY, lockDurationMs: WORKER_LOCK_MS },
    processor,
  );
}

export async function closeReplyQueue(): Promise<void> {
  const queue = cache.__backchannelQueue;
  cache.__backchannelQueue = undefined;
  await queue?.close();
}
