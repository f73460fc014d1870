import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { catchUp, type TrackedReply } from "../../lib/sse/reply-tracker";
import type { WireEvent } from "../../lib/sse/sse";
import { MemoryChunkStore } from "../../lib/streams/memory";

const newReply = () => ({
  sessionId: randomUUID(),
  messageId: randomUUID(),
  userId: randomUUID(),
  correlationId: randomUUID(),
});

async function caughtUp(
  store: MemoryChunkStore,
  reply: ReturnType<typeof newReply>,
  from: { attempt: number; seq: number } | null,
) {
  const sent: WireEvent[] = [];
  const tracked: TrackedReply = {
    ...reply,
    attempt: from?.attempt ?? 0,
    seq: from?.seq ?? 0,
    ended: false,
    lastEventAt: 0,
  };
  await catchUp(
    store,
    tracked,
    from,
    (event) => sent.push(event),
    async () => null,
  );
  return { sent, tracked };
}

/** A reply whose attempt 1 holds one chunk per text. */
async function replyWithFirstAttempt(texts: string[]) {
  const store = new MemoryChunkStore({ ttlSeconds: 60, runningTtlSeconds: 60 });
  const reply = newReply();
  await store.create(reply);
  await store.startAttempt(reply, 1);
  for (const text of texts) await store.append(reply, 1, text, 1);
  return { store, reply };
}

describe("catchUp", () => {
  it("sends the rest after a cursor it can place, under the attempt it read them with", async () => {
    const { store, reply } = await replyWithFirstAttempt(["a", "b", "c"]);
    const { sent, tracked } = await caughtUp(store, reply, { attempt: 1, seq: 1 });
    expect(
      sent.map((event) => (event.type === "chunk" ? `${event.attempt}:${event.seq}:${event.text}` : event.type)),
    ).toEqual(["1:2:b", "1:3:c"]);
    expect(tracked).toMatchObject({ attempt: 1, seq: 3 });
    await store.close();
  });

  it("continues a cursor of an older attempt inside the kept text: the continued status, then what follows", async () => {
    const { store, reply } = await replyWithFirstAttempt(["a", "b", "c"]);
    await store.startAttempt(reply, 2, { reason: "worker_lost" });
    await store.append(reply, 2, "d", 2);
    const { sent, tracked } = await caughtUp(store, reply, { attempt: 1, seq: 2 });
    expect(sent).toEqual([
      expect.objectContaining({ type: "status", status: "generating", attempt: 2, continued: true, seq: 3 }),
      expect.objectContaining({ type: "chunk", attempt: 2, seq: 3, text: "c" }),
      expect.objectContaining({ type: "chunk", attempt: 2, seq: 4, text: "d" }),
    ]);
    expect(sent.some((event) => event.type === "reset")).toBe(false);
    expect(tracked).toMatchObject({ attempt: 2, seq: 4 });
    await store.close();
  });

  it("sends a snapshot of the true text to a cursor past what a rebuilt reply kept", async () => {
    const { store, reply } = await replyWithFirstAttempt(["a", "b", "c"]);
    // The store lost the reply; the checkpoint had two of its three chunks.
    await store.remove(reply);
    await store.startAttempt(reply, 2, { reason: "worker_lost", checkpoint: ["a", "b"] });
    await store.append(reply, 2, "C", 2);
    const { sent, tracked } = await caughtUp(store, reply, { attempt: 1, seq: 3 });
    expect(sent).toEqual([expect.objectContaining({ type: "snapshot", attempt: 2, seq: 3, content: "abC" })]);
    expect(tracked).toMatchObject({ attempt: 2, seq: 3 });
    await store.close();
  });

  it("sends reset and the new attempt from its start when the kept text was lost", async () => {
    const { store, reply } = await replyWithFirstAttempt(["a", "b", "c"]);
    await store.remove(reply);
    await store.startAttempt(reply, 2, { reason: "worker_lost" });
    await store.append(reply, 2, "new", 2);
    const { sent, tracked } = await caughtUp(store, reply, { attempt: 1, seq: 3 });
    expect(sent).toEqual([
      expect.objectContaining({ type: "reset", attempt: 2 }),
      expect.objectContaining({ type: "chunk", attempt: 2, seq: 1, text: "new" }),
    ]);
    expect(tracked).toMatchObject({ attempt: 2, seq: 1 });
    await store.close();
  });
});
