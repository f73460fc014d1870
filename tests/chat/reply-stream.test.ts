import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WireEvent } from "../../lib/sse/sse";
import type { ChunkStore } from "../../lib/streams/types";
import { createDatabase } from "../support/app";

// One connection's ReplyStream over the memory store, with a real Postgres behind its lookups (a
// fresh database: they find nothing, so every reply here is one the stream learns of live).

let database: Awaited<ReturnType<typeof createDatabase>>;

beforeAll(async () => {
  database = await createDatabase();
  process.env.DATABASE_URL = database.url;
  const { dbHandle } = await import("../../lib/db/client");
  await (await dbHandle()).migrate();
});
afterAll(async () => {
  const { closeDb } = await import("../../lib/db/client");
  await closeDb();
  await database?.drop();
});

const done = { status: "completed" as const, usage: { inputTokens: 1, outputTokens: 2 }, latencyMs: 3, ttftMs: 4 };

/** A stream following `userId`'s replies on `store`, counting its reads of the store. */
async function follow(store: ChunkStore, userId: string) {
  const { ReplyStream } = await import("../../lib/sse/stream");
  const counted = { reads: 0 };
  const counting: ChunkStore = Object.assign(Object.create(store) as ChunkStore, {
    readReply: (...args: Parameters<ChunkStore["readReply"]>) => {
      counted.reads++;
      return store.readReply(...args);
    },
  });
  const sent: WireEvent[] = [];
  const stream = new ReplyStream({
    store: counting,
    target: { kind: "user", userId },
    cursors: new Map(),
    emit: (event) => sent.push(event),
    onAllEnded: () => {},
    onFailure: () => {
      throw new Error("a stream step failed");
    },
  });
  expect(await stream.start()).toBe(true);
  const ended = async (messageId: string) => {
    for (let i = 0; i < 100 && !sent.some((e) => e.type === "done" && e.messageId === messageId); i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
  };
  const kinds = () =>
    sent.map((e) => (e.type === "status" ? `status:${e.status}` : `${e.type}:${"seq" in e ? e.seq : ""}`));
  return { stream, counted, ended, kinds };
}

async function newStore() {
  const { MemoryChunkStore } = await import("../../lib/streams/memory");
  return new MemoryChunkStore({ ttlSeconds: 60, runningTtlSeconds: 60 });
}

const newReply = () => ({
  sessionId: randomUUID(),
  messageId: randomUUID(),
  userId: randomUUID(),
  correlationId: randomUUID(),
});

describe("a stream's replies", () => {
  it("follows a reply announced after it subscribed from that announcement, with no read of the store", async () => {
    const store = await newStore();
    const reply = newReply();
    const { stream, counted, ended, kinds } = await follow(store, reply.userId);
    await store.create(reply);
    await store.startAttempt(reply, 1);
    await store.append(reply, 1, "hello ", 1);
    await store.append(reply, 1, "world", 2);
    await store.finish(reply, 1, done);
    await ended(reply.messageId);
    expect(kinds()).toEqual(["status:queued", "status:generating", "chunk:1", "chunk:2", "done:2"]);
    expect(counted.reads).toBe(0);
    stream.close();
  });

  it("catches up from the store a reply it first sees mid-way, then goes on live", async () => {
    const store = await newStore();
    const reply = newReply();
    // Begun before the stream listened, and unknown to the database: the first event it sees is a chunk.
    await store.startAttempt(reply, 1);
    await store.append(reply, 1, "before ", 1);
    const { stream, counted, ended, kinds } = await follow(store, reply.userId);
    await store.append(reply, 1, "after", 2);
    await store.finish(reply, 1, done);
    await ended(reply.messageId);
    expect(kinds()).toEqual(["status:generating", "chunk:1", "chunk:2", "done:2"]);
    expect(counted.reads).toBe(1);
    stream.close();
  });
});
