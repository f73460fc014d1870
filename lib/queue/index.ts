import "server-only";
import { env } from "../env";
import { BullReplyQueue } from "./bullmq";
import type { ReplyQueue } from "./contracts";
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

export async function closeReplyQueue(): Promise<void> {
  const queue = cache.__backchannelQueue;
  cache.__backchannelQueue = undefined;
  await queue?.close();
}
