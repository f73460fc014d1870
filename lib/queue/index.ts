import "server-only";
import { env } from "../env";
import { BullReplyQueue, startBullWorker } from "./bullmq";
import type { ReplyProcessor, ReplyQueue, ReplyWorkerHandle } from "./contracts";
import { MemoryReplyQueue } from "./memory";

export * from "./contracts";

const cache = globalThis as unknown as { __backchannelQueue?: ReplyQueue };

/** The queue of this process: in-process in the embedded mode, BullMQ when REDIS_URL is set. */
export function getReplyQueue(): ReplyQueue {
  if (!cache.__backchannelQueue) {
    const { REDIS_URL, BULLMQ_PREFIX, WORKER_CONCURRENCY } = env();
    cache.__backchannelQueue = REDIS_URL
      ? new BullReplyQueue(REDIS_URL, BULLMQ_PREFIX)
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
  const { REDIS_URL, BULLMQ_PREFIX, WORKER_CONCURRENCY, WORKER_LOCK_MS } = env();
  if (queue.kind === "memory") {
    // `kind`, not instanceof: Next bundles lib/ once for instrumentation and once for the routes.
    const memoryQueue = queue as MemoryReplyQueue;
    memoryQueue.process(processor);
    return { close: () => memoryQueue.close(), isRunning: () => memoryQueue.isRunning() };
  }
  if (!REDIS_URL) throw new Error("REDIS_URL is required for the BullMQ worker");
  return startBullWorker(
    { url: REDIS_URL, prefix: BULLMQ_PREFIX, concurrency: WORKER_CONCURRENCY, lockDurationMs: WORKER_LOCK_MS },
    processor,
  );
}

export async function closeReplyQueue(): Promise<void> {
  const queue = cache.__backchannelQueue;
  cache.__backchannelQueue = undefined;
  await queue?.close();
}
