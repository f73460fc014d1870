import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { catchUp, type TrackedReply } from "../../lib/chat/reply-tracker";
import type { WireEvent } from "../../lib/chat/sse";
import { MemoryChunkStore } from "../../lib/streams/memory";

describe("catchUp", () => {
  it("never sends a new attempt's chunks under the attempt it read before them", async () => {
    const store = new MemoryChunkStore({ ttlSeconds: 60, runningTtlSeconds: 60 });
    const reply = {
      sessionId: randomUUID(),
      messageId: randomUUID(),
      userId: randomUUID(),
      correlationId: randomUUID(),
    };
    await store.create(reply);
    // The worker starts the attempt and writes its first chunk right after the reader read the
    // state (still queued, attempt 0): the race a reader opened just before a send runs into.
    const getState = store.getState.bind(store);
    let raced = false;
    store.getState = async (ref) => {
      const state = await getState(ref);
      if (!raced) {
        raced = true;
        await store.startAttempt(reply, 1);
        await store.append(reply, 1, "first", 1);
      }
      return state;
    };
    const sent: WireEvent[] = [];
    const tracked: TrackedReply = { ...reply, attempt: 0, seq: 0, ended: false, lastEventAt: 0 };
    await catchUp(
      store,
      tracked,
      null,
      (event) => sent.push(event),
      async () => null,
    );
    const chunks = sent.filter((event) => event.type === "chunk");
    expect(chunks).toEqual([expect.objectContaining({ attempt: 1, seq: 1, text: "first" })]);
    expect(tracked).toMatchObject({ attempt: 1, seq: 1 });
    await store.close();
  });
});
