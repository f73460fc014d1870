import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mockReplyTokens } from "../../lib/llm/mock-text";
import { groupOfSession, groupTagOf } from "../../lib/streams/events";
import { CLUSTER_LAYOUT, SINGLE_LAYOUT } from "../../lib/streams/redis";
import { type Mode, type RunningApp, startApp } from "../support/app";
import { ApiClient, isEnd, type SendBody, type SseEvent, textOf } from "../support/client";

/** The text the mock writes for `content` when nothing interrupts it. */
const unfailedText = (content: string, tokens: number) => mockReplyTokens(content, tokens).join("");

const modes: Mode[] = ["redis", "cluster"];

// The worker is a separate process in the Redis mode: it can die at any moment without losing a reply.
describe.each(modes)("worker crash and shutdown (%s mode)", (mode) => {
  let app: RunningApp;
  let client: ApiClient;
  const layout = mode === "cluster" ? CLUSTER_LAYOUT : SINGLE_LAYOUT;
  /** BullMQ's queue of the app, on its Redis (the caller closes both). */
  const openQueue = () => {
    const connection = app.redis();
    const queue = new Queue("chat", { connection, prefix: app.bullPrefix });
    return {
      queue,
      close: async () => {
        await queue.close();
        connection.disconnect();
      },
    };
  };

  beforeAll(async () => {
    app = await startApp(mode);
    client = await ApiClient.guest(app.baseUrl);
  });
  afterAll(() => app?.stop());

  async function followToEnd(streamUrl: string, messageId: string) {
    const first = await client.readSse(streamUrl, {
      until: (_e, all) => all.filter((x) => x.event === "chunk").length >= 4,
    });
    return { first, lastId: first.events.filter((e) => e.event === "chunk").at(-1)?.id, messageId };
  }

  /**
   * Reads the rest of a reply from `lastId` and checks it ended once, `done`, with no reset, and
   * that the stored text and the reader's are `expected`, the text of an uninterrupted reply.
   */
  async function expectWholeReply(sent: SendBody, first: SseEvent[], lastId: string | undefined, expected: string) {
    const rest = await client.readSse(sent.streamUrl, { lastEventId: lastId, timeoutMs: 60_000 });
    const all = [...first, ...rest.events];
    expect(all.filter(isEnd(sent.assistantMessageId)).map((e) => e.event)).toEqual(["done"]);
    expect(rest.events.some((e) => e.event === "reset")).toBe(false);
    const { body: stored } = await client.json<Record<string, unknown>>(sent.statusUrl);
    expect(stored).toMatchObject({ status: "completed", content: expected });
    expect(textOf(all, sent.assistantMessageId)).toBe(stored.content);
    return rest.events;
  }

  it("continues a reply whose worker was killed with SIGKILL mid-reply: no reset, whole text, once", async () => {
    const content = "/mock tokens=200 tps=40\nsurvive a crash";
    const sent = await client.send(content);
    const { first, lastId } = await followToEnd(sent.streamUrl, sent.assistantMessageId);
    await app.killWorker("SIGKILL");
    await app.startWorker();
    const rest = await client.readSse(sent.streamUrl, { lastEventId: lastId, timeoutMs: 60_000 });
    const all = [...first.events, ...rest.events];
    expect(all.filter(isEnd(sent.assistantMessageId)).map((e) => e.event)).toEqual(["done"]);
    expect(rest.events.some((e) => e.event === "reset" || e.event === "snapshot")).toBe(false);
    const takeover = rest.events.find((e) => e.event === "status" && (e.data as { attempt: number }).attempt === 2);
    expect(takeover?.data).toMatchObject({ status: "generating", reason: "worker_lost", continued: true });
    const { body: stored } = await client.json<Record<string, unknown>>(sent.statusUrl);
    expect(stored.status).toBe("completed");
    expect(stored.content).toBe(unfailedText(content, 200));
    expect(textOf(all, sent.assistantMessageId)).toBe(stored.content);
    const { body } = await client.json<{ messages: Array<{ role: string }> }>(
      `/api/chat/sessions/${sent.sessionId}/messages`,
    );
    expect(body.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
  }, 90_000);

  it("hands a running reply back on SIGTERM and a new worker finishes it", async () => {
    const sent = await client.send("/mock tokens=200 tps=40\nsurvive a deploy");
    const { first, lastId } = await followToEnd(sent.streamUrl, sent.assistantMessageId);
    const stoppedAt = Date.now();
    await app.killWorker("SIGTERM");
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    await app.startWorker();
    const rest = await client.readSse(sent.streamUrl, { lastEventId: lastId, timeoutMs: 60_000 });
    const all = [...first.events, ...rest.events];
    expect(all.filter(isEnd(sent.assistantMessageId)).map((e) => e.event)).toEqual(["done"]);
    const { body: stored } = await client.json<Record<string, unknown>>(sent.statusUrl);
    expect(stored.status).toBe("completed");
    expect(textOf(all, sent.assistantMessageId)).toBe(stored.content);
  }, 90_000);

  it("accepts sends while no worker runs, reports the worker stale, and a worker started later answers them", async () => {
    await app.killWorker("SIGTERM");
    const sent = await client.send("/mock tokens=10 tps=200\nqueued while the worker is away");
    // Redis may list the exited worker's connection for a moment longer.
    await expect
      .poll(async () => (await client.json<Record<string, unknown>>("/api/health")).body, { timeout: 10_000 })
      .toMatchObject({ ok: false, worker: "stale", db: "ok", redis: "ok" });
    await app.startWorker();
    // The reply may be done before we connect: a client that saw it queued holds ":0:0" for it.
    const { events } = await client.readSse(sent.streamUrl, {
      lastEventId: `${sent.assistantMessageId}:0:0`,
      timeoutMs: 30_000,
    });
    expect(events.at(-1)?.event).toBe("done");
  }, 60_000);

  it("queues a reply again when its worker died and its job is gone, and it completes from where it was", async () => {
    const content = "/mock tokens=400 tps=40\nlost job";
    const sent = await client.send(content);
    const { first, lastId } = await followToEnd(sent.streamUrl, sent.assistantMessageId);
    await app.killWorker("SIGKILL");
    const { queue, close } = openQueue();
    // Wait until the dead worker's lock lapses, then drop the job as if Redis had lost it.
    await expect.poll(async () => queue.remove(sent.assistantMessageId), { timeout: 10_000, interval: 250 }).toBe(1);
    await close();
    await app.startWorker();
    await expectWholeReply(sent, first.events, lastId, unfailedText(content, 400));
  }, 90_000);

  it("rebuilds a reply the store lost from its Postgres checkpoint and finishes it whole", async () => {
    const content = "/mock tokens=300 tps=40\nthe store forgets";
    const sent = await client.send(content);
    const { first, lastId } = await followToEnd(sent.streamUrl, sent.assistantMessageId);
    // A checkpoint lands every CHECKPOINT_MS (1 s here): let one land with text in it.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    // Forget the reply and its job as a Redis restarted empty would; the marker key says so.
    const redis = app.redis();
    const ref = { sessionId: sent.sessionId, messageId: sent.assistantMessageId };
    // On a cluster: the keys of the reply's slot group, as that group's master losing its data would.
    const alive = mode === "cluster" ? `${groupTagOf(groupOfSession(ref.sessionId))}:alive` : "chat:alive";
    await redis.del(layout.hash(ref), layout.list(ref), alive);
    const running = await redis.hkeys(layout.running(ref));
    const fields = running.filter((field) => field.startsWith(sent.assistantMessageId));
    if (fields.length) await redis.hdel(layout.running(ref), ...fields);
    redis.disconnect();
    const { queue, close } = openQueue();
    await queue.remove(sent.assistantMessageId).catch(() => 0);
    await close();
    const rest = await expectWholeReply(sent, first.events, lastId, unfailedText(content, 300));
    const recovered = rest.find((e) => e.event === "status" && (e.data as { attempt: number }).attempt > 1);
    expect(recovered?.data).toMatchObject({ reason: "store_lost", continued: true });
  }, 90_000);

  // On a cluster one master can lose its data while BullMQ's master keeps the jobs.
  if (mode === "cluster")
    it("finishes a reply whose slot group's master lost its data while its job lives on", async () => {
      const content = "/mock tokens=300 tps=40\nthe group forgets";
      const sent = await client.send(content);
      const { first, lastId } = await followToEnd(sent.streamUrl, sent.assistantMessageId);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const redis = app.redis();
      const ref = { sessionId: sent.sessionId, messageId: sent.assistantMessageId };
      // Everything of the reply's group, as its master restarting empty would: the job stays.
      const tag = groupTagOf(groupOfSession(ref.sessionId));
      await redis.del(layout.hash(ref), layout.list(ref), layout.running(ref), `${tag}:alive`);
      redis.disconnect();
      const rest = await expectWholeReply(sent, first.events, lastId, unfailedText(content, 300));
      const recovered = rest.find((e) => e.event === "status" && (e.data as { attempt: number }).attempt > 1);
      expect(recovered?.data).toMatchObject({ reason: "store_lost", continued: true });
    }, 90_000);

  it("announces an end that a dying worker recorded in Postgres but never published", async () => {
    const sent = await client.send("/mock tokens=20 tps=200\nend me properly");
    const { events } = await client.readSse(sent.streamUrl);
    const lastChunk = events.filter((e) => e.event === "chunk").at(-1);
    // Rewind the store as if the worker died between the Postgres update and the `done`.
    const redis = app.redis();
    const hash = layout.hash({ sessionId: sent.sessionId, messageId: sent.assistantMessageId });
    await redis.hset(hash, "status", "generating");
    await redis.hdel(hash, "final");
    redis.disconnect();
    const waiting = client.readSse(sent.streamUrl, { lastEventId: lastChunk?.id, timeoutMs: 30_000 });
    const { queue, close } = openQueue();
    await queue.remove(sent.assistantMessageId);
    await queue.add(
      "generate-reply",
      {
        messageId: sent.assistantMessageId,
        sessionId: sent.sessionId,
        userId: client.userId,
        correlationId: sent.correlationId,
      },
      { jobId: sent.assistantMessageId },
    );
    await close();
    const { events: rest } = await waiting;
    expect(rest.map((e) => e.event)).toEqual(["done"]);
  }, 60_000);
});
