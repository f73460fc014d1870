import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { newRedisClient } from "../../lib/redis/connections";
import { tcpPort } from "../../lib/redis/port";
import { EVENT_SHARDS } from "../../lib/streams/events";
import { MemoryChunkStore } from "../../lib/streams/memory";
import { RedisChunkStore } from "../../lib/streams/redis";
import type { ChunkStore, ReplyInit } from "../../lib/streams/types";
import { ChunkBatcher } from "../../lib/worker/chunk-batcher";
import { startOwnCluster } from "../support/redis-cluster";
import { startOwnRedis } from "../support/redis-server";

const options = { ttlSeconds: 60, runningTtlSeconds: 60 };
// A redis-server of this file's own: the command counts below are of this test's commands alone,
// whatever else runs on the machine's shared Redis meanwhile.
const own = await startOwnRedis();
await own.start();
const client = new Redis(own.url, { maxRetriesPerRequest: 1 });
const subscriber = new Redis(own.url);
const stores: Array<[string, ChunkStore]> = [
  ["memory", new MemoryChunkStore(options)],
  ["redis", new RedisChunkStore(tcpPort(client), subscriber, options)],
];

afterAll(async () => {
  for (const [, store] of stores) await store.close();
  await Promise.all([client.quit(), subscriber.quit()]);
  await own.stop();
});

const newReply = (): ReplyInit => ({
  sessionId: randomUUID(),
  messageId: randomUUID(),
  userId: randomUUID(),
  correlationId: randomUUID(),
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function started(store: ChunkStore, count: number): Promise<ReplyInit[]> {
  const replies = Array.from({ length: count }, newReply);
  for (const reply of replies) {
    await store.create(reply);
    await store.startAttempt(reply, 1);
  }
  return replies;
}

/** Redis commands run since `before` (INFO commandstats), leaving out the INFO calls themselves. */
async function commandCount(): Promise<number> {
  const info = await client.info("commandstats");
  let total = 0;
  for (const match of info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) if (match[1] !== "info") total += Number(match[2]);
  return total;
}

describe.each(stores)("chunk batcher on the %s store", (name, store) => {
  it("writes every reply's text once, in order, while many replies push at once", async () => {
    const replies = await started(store, 120);
    const batcher = new ChunkBatcher(store, 5, 64);
    const seen = new Map<string, string>();
    await Promise.all(
      replies.map(async (reply, r) => {
        const buffer = batcher.open(reply, 1, (seq, text) => {
          expect(seq).not.toBeNull();
          seen.set(reply.messageId, (seen.get(reply.messageId) ?? "") + text);
        });
        for (let i = 0; i < 40; i++) {
          buffer.push(`${r}.${i} `);
          if (i % 7 === 0) await sleep(1 + (r % 4));
        }
        await buffer.flush();
      }),
    );
    for (const [r, reply] of replies.entries()) {
      const expected = Array.from({ length: 40 }, (_, i) => `${r}.${i} `).join("");
      expect(seen.get(reply.messageId)).toBe(expected);
      const chunks = await store.readChunks(reply, 0);
      expect(chunks.map((c) => c.text).join("")).toBe(expected);
      expect(chunks.map((c) => c.seq)).toEqual(chunks.map((_, i) => i + 1));
    }
  });

  it("tells a reply whose attempt went stale, and writes nothing after a discard", async () => {
    const [stale, dropped] = await started(store, 2);
    if (!stale || !dropped) throw new Error("setup");
    await store.startAttempt(stale, 2);
    const batcher = new ChunkBatcher(store, 5, 512);
    const results: Array<number | null> = [];
    const buffer = batcher.open(stale, 1, (seq) => results.push(seq));
    buffer.push("late");
    await buffer.flush();
    expect(results).toEqual([null]);
    const gone = batcher.open(dropped, 1, () => results.push(-1));
    gone.push("never");
    gone.discard();
    await sleep(30);
    expect(await store.readChunks(dropped, 0)).toEqual([]);
    expect(results).toEqual([null]);
  });

  /** The store, counting the replies of every appendMany call. */
  const counted = () => {
    const batches: number[] = [];
    const counting: ChunkStore = Object.assign(Object.create(store) as ChunkStore, {
      appendMany: (items: Parameters<ChunkStore["appendMany"]>[0]) => {
        batches.push(items.length);
        return store.appendMany(items);
      },
    });
    return { batches, counting };
  };

  it("spreads many replies that start apart over several batches by their beats, not one burst", async () => {
    const replies = await started(store, 600);
    const { batches, counting } = counted();
    const batcher = new ChunkBatcher(counting, 50, 4096);
    const buffers = [];
    // Replies start over about two intervals, as sends arriving one after another.
    for (const [i, reply] of replies.entries()) {
      const buffer = batcher.open(reply, 1, () => {});
      buffer.push("first ");
      buffers.push(buffer);
      if (i % 60 === 59) await sleep(10);
    }
    await sleep(120);
    await Promise.all(buffers.map((buffer) => buffer.flush()));
    expect(batches.reduce((a, b) => a + b, 0)).toBe(600);
    expect(batches.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...batches)).toBeLessThan(600);
  });

  it("writes a few busy replies together, once per interval", async () => {
    const replies = await started(store, 50);
    const { batches, counting } = counted();
    const batcher = new ChunkBatcher(counting, 50, 4096);
    const buffers = [];
    const writes = new Map<string, number>();
    // Opened a millisecond apart: their beats differ.
    for (const reply of replies) {
      buffers.push(batcher.open(reply, 1, () => writes.set(reply.messageId, (writes.get(reply.messageId) ?? 0) + 1)));
      await sleep(1);
    }
    const startedAt = Date.now();
    // Every reply gets a token every 5 ms for 250 ms (five intervals).
    while (Date.now() - startedAt < 250) {
      for (const buffer of buffers) buffer.push("t ");
      await sleep(5);
    }
    await Promise.all(buffers.map((buffer) => buffer.flush()));
    // Five intervals, the final flush, and one for the replies' beats not lining up with the run.
    expect(batches.length).toBeLessThanOrEqual(7);
    expect(batches.length).toBeGreaterThanOrEqual(4);
    // Each reply is written at most once per interval (and once more by the final flush).
    expect(writes.size).toBe(50);
    for (const count of writes.values()) expect(count).toBeLessThanOrEqual(7);
  });

  it("writes an attempt's first text at once, and what follows on the reply's beats", async () => {
    const [reply] = await started(store, 1);
    if (!reply) throw new Error("no reply");
    const batcher = new ChunkBatcher(store, 400, 4096);
    const writtenAt: number[] = [];
    const buffer = batcher.open(reply, 1, () => writtenAt.push(Date.now()));
    const openedAt = Date.now();
    buffer.push("first ");
    await sleep(150);
    // The first token did not wait for the beat, 400 ms after the attempt opened.
    expect(writtenAt).toHaveLength(1);
    expect((writtenAt[0] ?? 0) - openedAt).toBeLessThan(150);
    buffer.push("second ");
    await sleep(100);
    expect(writtenAt).toHaveLength(1);
    await buffer.flush();
    expect(writtenAt).toHaveLength(2);
  });

  if (name === "redis") {
    it("costs about one Redis command per reply per flush, not one per event", async () => {
      const replies = await started(store, 300);
      const batcher = new ChunkBatcher(store, 20, 4096);
      const buffers = replies.map((reply) => batcher.open(reply, 1, () => {}));
      const before = await commandCount();
      for (const buffer of buffers) for (let i = 0; i < 5; i++) buffer.push(`token${i} `);
      await Promise.all(buffers.map((buffer) => buffer.flush()));
      const commands = (await commandCount()) - before;
      // 300 RPUSH and 300 first-chunk EXPIRE, plus per script call (200 replies) one EVALSHA, one
      // HMGET and a PUBLISH per shard. Publishing per reply, as before, was 5 per reply.
      expect(commands).toBeLessThanOrEqual(300 * 2 + 2 * (2 + 16));
      expect(commands).toBeGreaterThanOrEqual(600);
    });
  }
});

describe("chunk batcher on a Redis Cluster", () => {
  it("costs about one command per reply per flush there too, plus one script call per slot group", async () => {
    const cluster = await startOwnCluster();
    const target = `cluster:${cluster.nodes}`;
    // The worker's connection as the app makes it.
    const command = newRedisClient(target, { maxRetriesPerRequest: null, enableAutoPipelining: true });
    const sharded = newRedisClient(target, {}, { shardedSubscribers: true });
    const store = new RedisChunkStore(tcpPort(command), sharded, options);
    try {
      const replies = await started(store, 300);
      const batcher = new ChunkBatcher(store, 20, 4096);
      const buffers = replies.map((reply) => batcher.open(reply, 1, () => {}));
      const count = async () => {
        let total = 0;
        for (const [name, calls] of await cluster.commandStats()) if (!name.startsWith("cluster")) total += calls;
        return total;
      };
      const flushAll = async () => {
        for (const buffer of buffers) for (let i = 0; i < 5; i++) buffer.push(`token${i} `);
        await Promise.all(buffers.map((buffer) => buffer.flush()));
      };
      // The first flush loads the append script on each master (a NOSCRIPT, then EVAL) and sets
      // each list's expiry; the second is counted.
      await flushAll();
      const before = await count();
      await flushAll();
      const commands = (await count()) - before;
      // 300 RPUSH, plus per slot group one EVALSHA, one HMGET of the group's running hash and one
      // SPUBLISH on its channel.
      expect(commands).toBeLessThanOrEqual(300 + 3 * EVENT_SHARDS);
      expect(commands).toBeGreaterThanOrEqual(300);
    } finally {
      await store.close();
      command.disconnect();
      sharded.disconnect();
      await cluster.stop();
    }
  });
});
