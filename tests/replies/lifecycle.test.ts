import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { replyEventSchema } from "../../lib/contract";
import { closeDb } from "../../lib/db/client";
import * as queries from "../../lib/db/queries";
import type { MessageRow } from "../../lib/db/schema";
import { BullReplyQueue } from "../../lib/queue/bullmq";
import type { ReplyQueue } from "../../lib/queue/contracts";
import { MemoryReplyQueue } from "../../lib/queue/memory";
import { tcpPort } from "../../lib/redis/port";
import { type ReplyIdentity, ReplyLifecycle } from "../../lib/replies/lifecycle";
import { MemoryChunkStore } from "../../lib/streams/memory";
import { RedisChunkStore } from "../../lib/streams/redis";
import type { ChunkStore, StreamEvent } from "../../lib/streams/types";
import { createDatabase } from "../support/app";
import { pointDatabaseAt } from "../support/database";
import { TEST_REDIS_URL } from "../support/services";

// The reply lifecycle run directly, with no app around it: the memory store and queue on PGlite
// (the embedded mode), and the Redis store and BullMQ on Postgres (the production mode).

interface Setup {
  store: ChunkStore;
  queue: ReplyQueue;
  close(): Promise<void>;
}

const storeOptions = { ttlSeconds: 60, runningTtlSeconds: 600 };

async function embedded(): Promise<Setup> {
  const dir = mkdtempSync(path.join(tmpdir(), "bc-lifecycle-"));
  await pointDatabaseAt({ DATA_DIR: dir });
  const store = new MemoryChunkStore(storeOptions);
  const queue = new MemoryReplyQueue(10);
  return {
    store,
    queue,
    close: async () => {
      await queue.close();
      await store.close();
      await closeDb();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function production(): Promise<Setup> {
  const database = await createDatabase();
  await pointDatabaseAt({ DATABASE_URL: database.url });
  const client = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  const subscriber = new Redis(TEST_REDIS_URL);
  const prefix = `bc-lifecycle-${randomUUID()}`;
  const queue = new BullReplyQueue(TEST_REDIS_URL, prefix);
  return {
    store: new RedisChunkStore(tcpPort(client), subscriber, storeOptions),
    queue,
    close: async () => {
      await queue.close();
      // Only this run's queue keys go: the shared Redis is never flushed.
      const keys = await client.keys(`${prefix}:*`);
      if (keys.length) await client.del(...keys);
      await client.quit();
      await subscriber.quit();
      await closeDb();
      await database.drop();
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each([
  ["memory store, PGlite", embedded],
  ["Redis store and BullMQ, Postgres", production],
])("the reply lifecycle (%s)", (_name, open) => {
  let setup: Setup;
  let lifecycle: ReplyLifecycle;
  let userId: string;

  beforeAll(async () => {
    setup = await open();
    lifecycle = new ReplyLifecycle({ store: setup.store, queue: setup.queue, records: queries });
    userId = (await queries.createGuestUser({ name: "lifecycle" })).id;
  });
  afterAll(() => setup?.close());

  /** A new turn (a question and its queued reply), in a new session or in `sessionId`. */
  async function newReply(sessionId: string | null = null): Promise<ReplyIdentity> {
    const turn = await queries.createTurn({
      userId,
      sessionId,
      title: "t",
      content: "question",
      clientMessageId: randomUUID(),
      correlationId: randomUUID(),
      runningCap: 1_000,
    });
    if (!turn) throw new Error("no turn");
    return { id: turn.assistantMessageId, sessionId: turn.sessionId, userId, correlationId: turn.correlationId };
  }

  const jobOf = (reply: ReplyIdentity) => ({
    messageId: reply.id,
    sessionId: reply.sessionId,
    userId: reply.userId,
    correlationId: reply.correlationId,
  });

  async function rowOf(reply: ReplyIdentity): Promise<MessageRow> {
    const row = await queries.getReplyById({ id: reply.id });
    if (!row) throw new Error("no row");
    return row;
  }

  /** Every event the store announces to the user, each checked against the contract's schema. */
  async function record() {
    const events: StreamEvent[] = [];
    const sub = setup.store.subscribe(
      { kind: "user", userId },
      {
        onEvent: (event) => {
          replyEventSchema.parse(event);
          events.push(event);
        },
      },
    );
    await sub.ready;
    return { events, close: () => sub.close() };
  }

  /** Claims the reply and starts its attempt in the store, as a worker does. */
  async function run(reply: ReplyIdentity) {
    const claim = await lifecycle.claim(jobOf(reply));
    if (claim.kind !== "run") throw new Error(`claim: ${claim.kind}`);
    const started = await lifecycle.startAttempt(claim.reply, claim.attempt, {
      reason: "worker_lost",
      checkpoint: claim.checkpoint,
    });
    if (!started) throw new Error("no attempt");
    return { claim, started };
  }

  const append = async (reply: ReplyIdentity, attempt: number, text: string) => {
    const identity = { sessionId: reply.sessionId, messageId: reply.id, userId, correlationId: reply.correlationId };
    const [seq] = await lifecycle.appendMany([{ reply: identity, attempt, text, ts: Date.now() }]);
    return seq ?? null;
  };

  const completion = (content: string, seq: number) => ({
    content,
    seq,
    model: "mock",
    inputTokens: 3,
    outputTokens: seq,
    firstChunkAt: Date.now(),
  });

  const eventsOf = (events: StreamEvent[], reply: ReplyIdentity) =>
    events
      .filter((event) => event.messageId === reply.id)
      .map((event) => (event.type === "status" ? `status ${event.status}` : event.type));

  it("queues, claims, starts, completes: the database holds the text before readers hear done", async () => {
    const reply = await newReply();
    const recorded = await record();
    await lifecycle.queue(reply);
    expect(await setup.queue.isAlive(reply.id)).toBe(true);
    const { claim } = await run(reply);
    expect(claim.attempt).toBe(1);
    await append(reply, 1, "Hello, ");
    await append(reply, 1, "world");
    let storedAtDone: MessageRow | null = null;
    const done = new Promise<void>((resolve) => {
      const sub = setup.store.subscribe(
        { kind: "user", userId },
        {
          onEvent: (event) => {
            if (event.type !== "done" || event.messageId !== reply.id) return;
            void queries.getReplyById({ id: reply.id }).then((row) => {
              storedAtDone = row;
              sub.close();
              resolve();
            });
          },
        },
      );
    });
    await sleep(50);
    expect(await lifecycle.complete(claim.reply, 1, completion("Hello, world", 2))).toBe(true);
    await done;
    expect(storedAtDone).toMatchObject({ status: "completed", content: "Hello, world", seq: 2 });
    await sleep(50);
    recorded.close();
    expect(eventsOf(recorded.events, reply)).toEqual(["status queued", "status generating", "chunk", "chunk", "done"]);
    expect(await setup.store.getState({ sessionId: reply.sessionId, messageId: reply.id })).toMatchObject({
      status: "completed",
      final: { type: "done", seq: 2 },
    });
  });

  it("runs a session's replies one at a time, in send order", async () => {
    const first = await newReply();
    const second = await newReply(first.sessionId);
    expect((await lifecycle.claim(jobOf(second))).kind).toBe("wait");
    const { claim } = await run(first);
    expect((await lifecycle.claim(jobOf(second))).kind).toBe("wait");
    await lifecycle.complete(claim.reply, 1, completion("", 0));
    expect((await lifecycle.claim(jobOf(second))).kind).toBe("run");
  });

  it("cancels with exactly the text readers were told: stored before `cancelled` is announced", async () => {
    const reply = await newReply();
    await lifecycle.queue(reply);
    await run(reply);
    for (const text of ["one ", "two ", "three"]) await append(reply, 1, text);
    let storedAtCancel: MessageRow | null = null;
    let announcedSeq = -1;
    const cancelled = new Promise<void>((resolve) => {
      const sub = setup.store.subscribe(
        { kind: "user", userId },
        {
          onEvent: (event) => {
            if (event.type !== "status" || event.status !== "cancelled" || event.messageId !== reply.id) return;
            announcedSeq = event.seq ?? -1;
            // Read at once, as a reader that reloads on `cancelled` does.
            void queries.getReplyById({ id: reply.id }).then((row) => {
              storedAtCancel = row;
              sub.close();
              resolve();
            });
          },
        },
      );
    });
    await sleep(50);
    expect(await lifecycle.cancel(await rowOf(reply))).toEqual({ status: "cancelled" });
    await cancelled;
    expect(announcedSeq).toBe(3);
    expect(storedAtCancel).toMatchObject({ status: "cancelled", content: "one two three", seq: 3 });
    // The worker's next chunk is refused: it stops, and the text stays as stored.
    expect(await append(reply, 1, " four")).toBeNull();
    expect((await rowOf(reply)).content).toBe("one two three");
    // Cancelling again answers the end that stands.
    expect(await lifecycle.cancel(await rowOf(reply))).toEqual({ status: "cancelled" });
  });

  it("a cancel that comes after the worker completed leaves the completion", async () => {
    const reply = await newReply();
    const { claim } = await run(reply);
    await append(reply, 1, "all of it");
    const stale = await rowOf(reply);
    await lifecycle.complete(claim.reply, 1, completion("all of it", 1));
    expect(await lifecycle.cancel(stale)).toEqual({ status: "completed" });
    expect(await rowOf(reply)).toMatchObject({ status: "completed", content: "all of it" });
  });

  it("continues a failed attempt's text: no reset, seq goes on, the reason is announced", async () => {
    const reply = await newReply();
    const recorded = await record();
    const { claim } = await run(reply);
    await append(reply, 1, "Kept ");
    const next = await lifecycle.nextAttempt(claim.reply);
    expect(next).toBe(2);
    const started = await lifecycle.startAttempt(claim.reply, 2, { reason: "model_error", checkpoint: ["Kept "] });
    expect(started).toMatchObject({ continued: true, reason: "model_error" });
    expect(started?.kept.map((chunk) => chunk.text)).toEqual(["Kept "]);
    expect(await append(reply, 2, "and more")).toBe(2);
    await lifecycle.complete(claim.reply, 2, completion("Kept and more", 2));
    await sleep(50);
    recorded.close();
    const mine = recorded.events.filter((event) => event.messageId === reply.id);
    expect(mine.some((event) => event.type === "reset")).toBe(false);
    expect(mine.find((event) => event.type === "status" && event.attempt === 2)).toMatchObject({
      reason: "model_error",
      continued: true,
      seq: 1,
    });
    expect((await rowOf(reply)).content).toBe("Kept and more");
  });

  it("a store that lost a reply: its text so far comes from the checkpoint, and the next attempt rebuilds it", async () => {
    const reply = await newReply();
    const { claim } = await run(reply);
    await append(reply, 1, "Saved ");
    await append(reply, 1, "text");
    const landed = await lifecycle.checkpoint([
      { id: reply.id, attempt: 1, fromSeq: 0, seq: 2, text: "Saved text", lengths: [6, 4] },
    ]);
    expect(landed.has(reply.id)).toBe(true);
    await setup.store.remove({ sessionId: reply.sessionId, messageId: reply.id });
    // Readers who list the chat see the checkpoint, never "".
    expect(await lifecycle.textSoFar(await rowOf(reply))).toEqual({ content: "Saved text", seq: 2 });
    const again = await run(reply);
    expect(again.claim.attempt).toBe(2);
    expect(again.started).toMatchObject({ continued: true, reason: "store_lost" });
    expect(again.started.kept.map((chunk) => chunk.text)).toEqual(["Saved ", "text"]);
    expect(await append(reply, 2, "!")).toBe(3);
    await lifecycle.complete(claim.reply, 2, completion("Saved text!", 3));
    expect((await rowOf(reply)).content).toBe("Saved text!");
  });

  it("fences the text by the attempt: an older attempt's chunks and checkpoint are refused", async () => {
    const reply = await newReply();
    const { claim } = await run(reply);
    expect(await append(reply, 1, "first ")).toBe(1);
    expect(
      await lifecycle.checkpoint([{ id: reply.id, attempt: 1, fromSeq: 0, seq: 1, text: "first ", lengths: [6] }]),
    ).toEqual(new Set([reply.id]));
    expect(await lifecycle.nextAttempt(claim.reply)).toBe(2);
    await lifecycle.startAttempt(claim.reply, 2, { reason: "model_error", checkpoint: ["first "] });
    // The first attempt's worker did not hear of the second yet: its writes change nothing.
    expect(await append(reply, 1, "stale")).toBeNull();
    expect(
      await lifecycle.checkpoint([{ id: reply.id, attempt: 1, fromSeq: 1, seq: 2, text: "stale", lengths: [5] }]),
    ).toEqual(new Set());
    expect(await append(reply, 2, "second")).toBe(2);
    expect(
      await lifecycle.checkpoint([
        { id: reply.id, attempt: 2, fromSeq: 0, seq: 2, text: "first second", lengths: [6, 6] },
      ]),
    ).toEqual(new Set([reply.id]));
    expect(await lifecycle.textSoFar(await rowOf(reply))).toEqual({ content: "first second", seq: 2 });
    // An ended reply takes neither.
    await lifecycle.complete(claim.reply, 2, completion("first second", 2));
    expect(await append(reply, 2, "late")).toBeNull();
    expect(
      await lifecycle.checkpoint([{ id: reply.id, attempt: 2, fromSeq: 2, seq: 3, text: "late", lengths: [4] }]),
    ).toEqual(new Set());
    expect((await rowOf(reply)).content).toBe("first second");
  });

  it("gives up after the attempts with the kept text and a sentence, never an empty error", async () => {
    const reply = await newReply();
    await run(reply);
    await append(reply, 1, "Partial");
    await lifecycle.checkpoint([{ id: reply.id, attempt: 1, fromSeq: 0, seq: 1, text: "Partial", lengths: [7] }]);
    await setup.store.remove({ sessionId: reply.sessionId, messageId: reply.id });
    const recorded = await record();
    await lifecycle.giveUp(reply, ["Partial"]);
    await sleep(50);
    recorded.close();
    const row = await rowOf(reply);
    expect(row).toMatchObject({ status: "error", content: "Partial", errorCode: "generation_failed" });
    expect(row.errorMessage).toMatch(/stopped after several attempts/);
    expect(recorded.events.find((event) => event.messageId === reply.id && event.type === "error")).toMatchObject({
      code: "generation_failed",
      retryable: true,
    });
  });

  it("announces an end the database recorded and the store missed", async () => {
    const reply = await newReply();
    const { claim } = await run(reply);
    await append(reply, 1, "x");
    // The worker recorded the end and died before announcing it.
    await queries.completeReply({
      id: reply.id,
      attempt: claim.attempt,
      outcome: { content: "x", seq: 1, model: "mock", inputTokens: 1, outputTokens: 1, ttftMs: 1, latencyMs: 2 },
    });
    expect((await setup.store.getState({ sessionId: reply.sessionId, messageId: reply.id }))?.final).toBeNull();
    // A repeated job finds it ended, and announces it.
    expect((await lifecycle.claim(jobOf(reply))).kind).toBe("ended");
    expect((await setup.store.getState({ sessionId: reply.sessionId, messageId: reply.id }))?.final).toMatchObject({
      type: "done",
      seq: 1,
      latencyMs: 2,
    });
  });

  it("chains sends made at once into one chat: each question follows the reply before it", async () => {
    const first = await newReply();
    const turns = await Promise.all(Array.from({ length: 6 }, () => newReply(first.sessionId)));
    const rows = await queries.listMessagesBySession({ sessionId: first.sessionId });
    const questions = rows.filter((row) => row.role === "user").slice(1);
    expect(questions).toHaveLength(turns.length);
    // Each follows a different reply (siblings would share one), the first of them the first reply.
    const parents = questions.map((row) => row.parentId);
    expect(new Set(parents).size).toBe(turns.length);
    expect(parents).toContain(first.id);
    const replies = new Set(rows.filter((row) => row.role === "assistant").map((row) => row.id));
    for (const parent of parents) expect(replies.has(parent ?? "")).toBe(true);
  });

  it("queues again a running reply whose job is gone, once", async () => {
    const reply = await newReply();
    expect(await setup.queue.isAlive(reply.id)).toBe(false);
    expect((await lifecycle.requeueOrphans(0)).requeued).toContain(reply.id);
    expect(await setup.queue.isAlive(reply.id)).toBe(true);
    // Its job is there now: it is not added twice.
    expect((await lifecycle.requeueOrphans(0)).requeued).not.toContain(reply.id);
    // A reply touched more recently than `quietMs` is left to its worker.
    const fresh = await newReply();
    expect((await lifecycle.requeueOrphans(60_000)).requeued).not.toContain(fresh.id);
  });
});
