import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Mode, type RunningApp, startApp } from "../support/app";
import { ApiClient, isEnd, type SseEvent, textOf } from "../support/client";

const modes: Mode[] = ["embedded", "redis", "cluster"];

const chunkSeqs = (events: SseEvent[], messageId: string) =>
  events.filter((e) => e.event === "chunk" && e.data.messageId === messageId).map((e) => Number(e.data.seq));

describe.each(modes)("pipeline (%s mode)", (mode) => {
  let app: RunningApp;
  let client: ApiClient;

  beforeAll(async () => {
    app = await startApp(mode);
    client = await ApiClient.guest(app.baseUrl);
  });
  afterAll(() => app?.stop());

  async function storedReply(sessionId: string, messageId: string) {
    const { body } = await client.json<Record<string, unknown>>(`/api/chat/status/${sessionId}/${messageId}`);
    return body;
  }

  it("answers a send with 202 and streams the reply until done; the text equals the stored reply", async () => {
    const sent = await client.send("/mock tokens=40 tps=400\nHello, Backchannel");
    expect(sent.status).toBe("queued");
    expect(sent.streamUrl).toBe(`/api/chat/stream/${sent.sessionId}`);
    const { status, events, closedByServer } = await client.readSse(sent.streamUrl);
    expect(status).toBe(200);
    expect(closedByServer).toBe(true);
    const done = events.find(isEnd(sent.assistantMessageId));
    expect(done?.event).toBe("done");
    expect(done?.data.correlationId).toBe(sent.correlationId);
    const seqs = chunkSeqs(events, sent.assistantMessageId);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    const stored = await storedReply(sent.sessionId, sent.assistantMessageId);
    expect(stored.status).toBe("completed");
    expect(stored.content).toBe(textOf(events, sent.assistantMessageId));
    expect(String(stored.content).split(/\s+/).filter(Boolean)).toHaveLength(40);
    const again = await client.readSse(sent.streamUrl);
    expect(again.status).toBe(204);
  });

  it("resumes from Last-Event-ID at a random point with exactly the rest", async () => {
    const sent = await client.send("/mock tokens=300 tps=300\nTell me a long story");
    const cutAt = 2 + Math.floor(Math.random() * 8);
    const first = await client.readSse(sent.streamUrl, {
      until: (_e, all) => all.filter((x) => x.event === "chunk").length >= cutAt,
    });
    const lastId = first.events.filter((e) => e.event === "chunk").at(-1)?.id;
    expect(lastId).toMatch(new RegExp(`^${sent.assistantMessageId}:1:${cutAt}$`));
    const rest = await client.readSse(sent.streamUrl, { lastEventId: lastId });
    expect(rest.events.some((e) => e.event === "snapshot" || e.event === "reset")).toBe(false);
    const all = [...first.events, ...rest.events];
    const seqs = chunkSeqs(all, sent.assistantMessageId);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(chunkSeqs(rest.events, sent.assistantMessageId)[0]).toBe(cutAt + 1);
    const stored = await storedReply(sent.sessionId, sent.assistantMessageId);
    expect(textOf(all, sent.assistantMessageId)).toBe(stored.content);
  });

  it("gives one reply for the same clientMessageId sent twice", async () => {
    const clientMessageId = crypto.randomUUID();
    const [a, b] = await Promise.all([
      client.send("/mock tokens=5\nonce only", { clientMessageId }),
      client.send("/mock tokens=5\nonce only", { clientMessageId }),
    ]);
    expect(b).toEqual(a);
    const c = await client.send("/mock tokens=5\nonce only", { clientMessageId });
    expect(c).toEqual(a);
    await client.readSse(a.streamUrl);
    const { body } = await client.json<{ messages: unknown[] }>(`/api/chat/sessions/${a.sessionId}/messages`);
    expect(body.messages).toHaveLength(2);
  });

  it("answers three rapid sends into one session in order, each seeing the earlier turns", async () => {
    const first = await client.send("/mock tokens=30 tps=300\nfirst question");
    const rest = await Promise.all([
      client.send("/mock tokens=30 tps=300\nsecond question", { sessionId: first.sessionId }),
      client.send("/mock tokens=30 tps=300\nthird question", { sessionId: first.sessionId }),
    ]);
    const ids = [first, ...rest].map((s) => s.assistantMessageId);
    const { body: listed } = await client.json<{ messages: Array<{ id: string; content: string }> }>(
      `/api/chat/sessions/${first.sessionId}/messages`,
    );
    const order = listed.messages.filter((m) => ids.includes(m.id)).map((m) => m.id);
    // From the first reply's start (attempt 1): it may have ended before the stream connects.
    const { events } = await client.readSse(first.streamUrl, {
      timeoutMs: 45_000,
      lastEventId: `${first.assistantMessageId}:1:0`,
    });
    const started = (id: string) =>
      events.findIndex((e) => e.event === "status" && e.data.messageId === id && e.data.status === "generating");
    const ended = (id: string) => events.findIndex(isEnd(id));
    for (let i = 1; i < order.length; i++) {
      const previous = order[i - 1] ?? "";
      const current = order[i] ?? "";
      expect(ended(previous)).toBeGreaterThan(-1);
      expect(started(current)).toBeGreaterThan(ended(previous));
    }
    const inputs = order.map((id) =>
      Number((events.find(isEnd(id))?.data.usage as { inputTokens?: number } | undefined)?.inputTokens),
    );
    expect(inputs[1]).toBeGreaterThan(inputs[0] ?? 0);
    expect(inputs[2]).toBeGreaterThan(inputs[1] ?? 0);
    const { body: after } = await client.json<{ messages: Array<{ role: string; status: string }> }>(
      `/api/chat/sessions/${first.sessionId}/messages`,
    );
    expect(after.messages.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant", "user", "assistant"]);
    expect(after.messages.every((m) => m.status === "completed")).toBe(true);
  });

  it("cancels mid-reply: ends cancelled with the partial text kept", async () => {
    const sent = await client.send("/mock tokens=600 tps=50\nA reply to stop");
    const first = await client.readSse(sent.streamUrl, {
      until: (_e, all) => all.filter((x) => x.event === "chunk").length >= 3,
    });
    const cancel = await client.json(`/api/chat/cancel/${sent.sessionId}/${sent.assistantMessageId}`, {
      method: "POST",
    });
    expect(cancel).toMatchObject({ status: 202, body: { status: "cancelled" } });
    const lastId = first.events.filter((e) => e.event === "chunk").at(-1)?.id;
    const rest = await client.readSse(sent.streamUrl, { lastEventId: lastId });
    const all = [...first.events, ...rest.events];
    expect(rest.events.at(-1)).toMatchObject({ event: "status", data: { status: "cancelled" } });
    const stored = await storedReply(sent.sessionId, sent.assistantMessageId);
    expect(stored.status).toBe("cancelled");
    expect(String(stored.content).length).toBeGreaterThan(0);
    expect(stored.content).toBe(textOf(all, sent.assistantMessageId));
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect((await storedReply(sent.sessionId, sent.assistantMessageId)).content).toBe(stored.content);
    const repeat = await client.json(`/api/chat/cancel/${sent.sessionId}/${sent.assistantMessageId}`, {
      method: "POST",
    });
    expect(repeat).toMatchObject({ status: 202, body: { status: "cancelled" } });
  });

  it("continues the kept text with no reset when the model fails once mid-reply", async () => {
    const sent = await client.send("/mock fail=once tokens=60 tps=400\nflaky model");
    const { events } = await client.readSse(sent.streamUrl);
    expect(events.some((e) => e.event === "reset")).toBe(false);
    const retry = events.find((e) => e.event === "status" && e.data.attempt === 2);
    expect(retry?.data).toMatchObject({ reason: "model_error", continued: true });
    expect(events.at(-1)?.event).toBe("done");
    const stored = await storedReply(sent.sessionId, sent.assistantMessageId);
    expect(stored).toMatchObject({ status: "completed", attempt: 2 });
    expect(textOf(events, sent.assistantMessageId)).toBe(stored.content);
  });

  it("ends with an error event when the model fails on every attempt", async () => {
    const sent = await client.send("/mock fail=always tokens=20 tps=400\nbroken model");
    const { events } = await client.readSse(sent.streamUrl);
    const last = events.at(-1);
    expect(last?.event).toBe("error");
    expect(last?.data).toMatchObject({ retryable: true, messageId: sent.assistantMessageId });
    expect(typeof last?.data.code).toBe("string");
    const stored = await storedReply(sent.sessionId, sent.assistantMessageId);
    expect(stored.status).toBe("error");
    expect(stored.error).toMatchObject({ code: last?.data.code });
  });

  it("follows every session of the user on the all-sessions stream", async () => {
    const a = await client.send("/mock tokens=30 tps=200\nchat A");
    const b = await client.send("/mock tokens=30 tps=200\nchat B");
    const pending = new Set([a.assistantMessageId, b.assistantMessageId]);
    const { events } = await client.readSse("/api/chat/stream", {
      until: (event) => {
        if (event.event === "done") pending.delete(String(event.data.messageId));
        return pending.size === 0;
      },
    });
    for (const sent of [a, b]) {
      const stored = await storedReply(sent.sessionId, sent.assistantMessageId);
      expect(textOf(events, sent.assistantMessageId)).toBe(stored.content);
    }
  });
});
