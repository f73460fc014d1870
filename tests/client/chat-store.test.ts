import { describe, expect, it } from "vitest";
import { ChatStore, localMessage } from "../../lib/client/chat-store";
import { type ReplyEvent, replyEventSchema } from "../../lib/contract";

const S = "11111111-1111-4111-8111-111111111111";
const M = "22222222-2222-4222-8222-222222222222";
const C = "33333333-3333-4333-8333-333333333333";
/** An event of this reply, checked against the contract's schema (a test event must be a real one). */
const ev = (fields: Record<string, unknown>): ReplyEvent =>
  replyEventSchema.parse({ sessionId: S, messageId: M, correlationId: C, ...fields });
const chunk = (attempt: number, seq: number, text: string) => ev({ type: "chunk", attempt, seq, text, ts: 0 });
const done = (attempt: number, seq: number) =>
  ev({ type: "done", attempt, seq, usage: { inputTokens: 1, outputTokens: 1 }, latencyMs: 1, ttftMs: 1 });
const textOf = (store: ChatStore) => store.getSnapshot().messages[S]?.find((m) => m.id === M);

describe("the browser's reply state", () => {
  it("drops chunks it already has, so a replay after a reconnect doubles nothing", () => {
    const store = new ChatStore();
    for (const event of [chunk(1, 1, "a"), chunk(1, 2, "b"), chunk(1, 1, "a"), chunk(1, 2, "b"), chunk(1, 3, "c")])
      store.applyEvent(event);
    expect(textOf(store)).toMatchObject({ content: "abc", seq: 3, attempt: 1, status: "generating" });
    expect(store.cursors()).toEqual([`${M}:1:3`]);
  });

  it("keeps the text through a continued attempt, says why, and appends the continuation", () => {
    const store = new ChatStore();
    store.applyEvent(chunk(1, 1, "Hello "));
    store.applyEvent(chunk(1, 2, "wor"));
    store.applyEvent(
      ev({ type: "status", status: "generating", attempt: 2, reason: "worker_lost", continued: true, seq: 2 }),
    );
    expect(textOf(store)).toMatchObject({ content: "Hello wor", retry: { reason: "worker_lost", attempt: 2 } });
    store.applyEvent(chunk(2, 3, "ld"));
    expect(textOf(store)).toMatchObject({ content: "Hello world", attempt: 2, seq: 3 });
  });

  it("starts over when a continued attempt arrives for text that came from a list, not the stream", () => {
    const store = new ChatStore();
    store.setMessages(S, [
      {
        id: M,
        parentId: null,
        role: "assistant",
        content: "Hello ",
        status: "generating",
        createdAt: "",
        correlationId: "",
      },
    ]);
    store.applyEvent(ev({ type: "status", status: "generating", attempt: 2, continued: true, seq: 1 }));
    store.applyEvent(chunk(2, 1, "Hello "));
    store.applyEvent(chunk(2, 2, "world"));
    expect(textOf(store)?.content).toBe("Hello world");
  });

  it("drops the partial text on reset and ignores late chunks of the older attempt", () => {
    const store = new ChatStore();
    store.applyEvent(chunk(1, 1, "old"));
    store.applyEvent(ev({ type: "reset", attempt: 2 }));
    store.applyEvent(chunk(1, 2, "late"));
    store.applyEvent(chunk(2, 1, "new"));
    expect(textOf(store)).toMatchObject({ content: "new", attempt: 2, seq: 1 });
  });

  it("treats a chunk of a newer attempt as a reset even when the reset event was missed", () => {
    const store = new ChatStore();
    store.applyEvent(chunk(1, 1, "old"));
    store.applyEvent(chunk(2, 1, "fresh"));
    expect(textOf(store)?.content).toBe("fresh");
  });

  it("replaces the text with a snapshot and continues after it", () => {
    const store = new ChatStore();
    store.applyEvent(chunk(1, 1, "a"));
    store.applyEvent(ev({ type: "snapshot", attempt: 1, seq: 4, content: "abcd" }));
    store.applyEvent(chunk(1, 4, "d"));
    store.applyEvent(chunk(1, 5, "e"));
    expect(textOf(store)?.content).toBe("abcde");
  });

  it("keeps an ended reply as it is: a replayed end or a stray chunk changes nothing", () => {
    const store = new ChatStore();
    store.applyEvent(chunk(1, 1, "all"));
    store.applyEvent(done(1, 1));
    store.applyEvent(chunk(1, 2, "more"));
    store.applyEvent(done(1, 1));
    expect(textOf(store)).toMatchObject({ content: "all", status: "completed" });
    expect(store.cursors()).toEqual([]);
  });

  it("marks a chat unread when one of its replies ends while another chat is open", () => {
    const store = new ChatStore();
    store.openSessionId = "44444444-4444-4444-8444-444444444444";
    store.applyEvent(done(1, 0));
    expect(store.getSnapshot().unread[S]).toBe(true);
  });

  it("refuses what the contract does not allow: the schema is the one the browser parses with", () => {
    expect(
      replyEventSchema.safeParse({ type: "chunk", sessionId: S, messageId: M, correlationId: C, attempt: 1 }).success,
    ).toBe(false);
    expect(
      replyEventSchema.safeParse({
        type: "status",
        sessionId: S,
        messageId: M,
        correlationId: C,
        status: "lost",
        attempt: 1,
      }).success,
    ).toBe(false);
  });

  it("puts a reply the stream announced early behind the question the send's 202 adds", () => {
    const store = new ChatStore();
    store.applyEvent(ev({ type: "status", status: "generating", attempt: 1 }));
    store.applyEvent(chunk(1, 1, "hi"));
    store.addMessages(S, [
      localMessage("q", S, "user", "question", "completed"),
      localMessage(M, S, "assistant", "", "queued"),
    ]);
    const list = store.getSnapshot().messages[S] ?? [];
    expect(list.map((m) => m.id)).toEqual(["q", M]);
    expect(list[1]).toMatchObject({ content: "hi", status: "generating" });
  });

  it("keeps every branch, shows the one that ends at the visible leaf, and chains a send after it", () => {
    const store = new ChatStore();
    const at = "2026-01-01T00:00:00.000Z";
    const row = (id: string, parentId: string | null, role: "user" | "assistant") => ({
      id,
      parentId,
      role,
      content: id,
      status: "completed" as const,
      createdAt: at,
      correlationId: C,
    });
    store.setMessages(S, [row("q1", null, "user"), row("a1", "q1", "assistant"), row("a2", "q1", "assistant")], "a1");
    expect(store.getSnapshot().leaves[S]).toBe("a1");
    store.addMessages(S, [
      localMessage("q2", S, "user", "next", "completed"),
      localMessage("a3", S, "assistant", "", "queued"),
    ]);
    const list = store.getSnapshot().messages[S] ?? [];
    expect(list.find((m) => m.id === "q2")?.parentId).toBe("a1");
    expect(list.find((m) => m.id === "a3")?.parentId).toBe("q2");
    expect(store.getSnapshot().leaves[S]).toBe("a3");
    store.setLeaf(S, "a2");
    expect(store.getSnapshot().leaves[S]).toBe("a2");
    // A send shows its message at once (pending), then the server's ids replace it: both follow a2.
    store.addMessages(S, [localMessage("pending:x", S, "user", "more", "completed")]);
    // The stream announces the new reply before the send's 202 comes back.
    store.applyEvent(ev({ messageId: "a4", type: "status", status: "queued", attempt: 0 }));
    store.addMessages(
      S,
      [localMessage("q3", S, "user", "more", "completed"), localMessage("a4", S, "assistant", "", "queued")],
      ["pending:x"],
    );
    const after = store.getSnapshot().messages[S] ?? [];
    expect(after.find((m) => m.id === "q3")?.parentId).toBe("a2");
    expect(after.some((m) => m.id === "pending:x")).toBe(false);
  });

  it("sets and removes a chat's system prompt in place: the list keeps its order", () => {
    const store = new ChatStore();
    const at = "2026-01-01T00:00:00.000Z";
    const other = "44444444-4444-4444-8444-444444444444";
    store.setSessions([
      { id: other, title: "Newer", createdAt: at, updatedAt: at },
      { id: S, title: "Older", createdAt: at, updatedAt: at },
    ]);
    store.setSystemPrompt(S, "Be brief.");
    expect(store.getSnapshot().sessions.map((s) => [s.id, s.systemPrompt])).toEqual([
      [other, undefined],
      [S, "Be brief."],
    ]);
    store.setSystemPrompt(S, null);
    expect(store.getSnapshot().sessions[1]).not.toHaveProperty("systemPrompt");
  });

  it("keeps a message's object when the server's list says nothing new of it, and replaces the one it changed", () => {
    const store = new ChatStore();
    const at = "2026-01-01T00:00:00.000Z";
    const row = (id: string, parentId: string | null, content: string) => ({
      id,
      parentId,
      role: "user" as const,
      content,
      status: "completed" as const,
      createdAt: at,
      correlationId: C,
    });
    store.hydrateMessages(S, [
      { ...localMessage("q1", S, "user", "first", "completed"), parentId: null, createdAt: at },
      { ...localMessage("q2", S, "user", "second", "completed"), parentId: "q1", createdAt: at },
    ]);
    const [cachedFirst, cachedSecond] = store.getSnapshot().messages[S] ?? [];
    store.setMessages(S, [row("q1", null, "first"), row("q2", "q1", "second, edited elsewhere")]);
    const [first, second] = store.getSnapshot().messages[S] ?? [];
    expect(first).toBe(cachedFirst);
    expect(second).not.toBe(cachedSecond);
    expect(second).toMatchObject({ id: "q2", content: "second, edited elsewhere" });
  });
});
