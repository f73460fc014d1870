import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BullReplyQueue } from "../../lib/queue/bullmq";
import type { GenerateReplyJob, ReplyQueue } from "../../lib/queue/contracts";
import { MemoryReplyQueue } from "../../lib/queue/memory";
import { type OwnRedis, startOwnRedis } from "../support/redis-server";

// What the queue gauges read at a scrape: jobs by state and the oldest waiting job's creation.
// Both queues, with jobs added and nobody taking them.

const job = (): GenerateReplyJob => ({
  messageId: randomUUID(),
  sessionId: randomUUID(),
  userId: randomUUID(),
  correlationId: randomUUID(),
});

let redis: OwnRedis;
beforeAll(async () => {
  redis = await startOwnRedis();
});
afterAll(async () => {
  await redis?.stop();
});

describe.each([
  ["memory", () => new MemoryReplyQueue(2)],
  ["bullmq", () => new BullReplyQueue(redis.url, `stats-${randomUUID()}`)],
] as const)("the %s queue's stats", (_, make: () => ReplyQueue) => {
  it("count the waiting jobs and date the oldest of them", async () => {
    const queue = make();
    try {
      expect(await queue.stats()).toEqual({ waiting: 0, active: 0, delayed: 0, failed: 0, oldestWaitingAt: null });
      const before = Date.now();
      await queue.enqueue(job());
      const between = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 5));
      await queue.enqueue(job());
      const stats = await queue.stats();
      expect(stats).toMatchObject({ waiting: 2, active: 0, delayed: 0 });
      // The first job's time, not the second's.
      expect(stats.oldestWaitingAt).toBeGreaterThanOrEqual(before);
      expect(stats.oldestWaitingAt).toBeLessThanOrEqual(between);
    } finally {
      await queue.close();
    }
  });
});
