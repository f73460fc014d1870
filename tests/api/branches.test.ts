import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Mode, type RunningApp, startApp } from "../support/app";
import { ApiClient, isEnd, type SendBody } from "../support/client";
import { FAKE_REPLY, type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic";

const modes: Mode[] = ["embedded", "redis"];

interface ListedMessage {
  id: string;
  parentId: string | null;
  model?: string;
  role: "user" | "assistant";
  content: string;
  status: string;
}

/** The text of each turn the model was sent, in order (string content or text blocks). */
function turnsSeen(body: unknown): string[] {
  const messages = (body as { messages: Array<{ role: string; content: unknown }> }).messages;
  return messages.map((message) =>
    typeof message.content === "string"
      ? `${message.role}: ${message.content}`
      : `${message.role}: ${(message.content as Array<{ text?: string }>).map((block) => block.text ?? "").join("")}`,
  );
}

// Branches, against the app in each mode with the real Anthropic SDK talking to a local fake
// server, which records the context each reply was written from.
describe.each(modes)("branches (%s mode)", (mode) => {
  let app: RunningApp;
  let fake: FakeAnthropic;
  let client: ApiClient;
  let other: ApiClient;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    app = await startApp(mode, {
      ANTHROPIC_API_KEY: "test-key",
      ANTHROPIC_BASE_URL: fake.url,
      ANTHROPIC_MODELS: "claude-test-a,claude-test-b",
    });
    client = await ApiClient.guest(app.baseUrl);
    other = await ApiClient.guest(app.baseUrl);
  });
  afterAll(async () => {
    await app?.stop();
    await fake?.close();
  });

  async function finish(sent: SendBody) {
    const { events } = await client.readSse(sent.streamUrl, { until: isEnd(sent.assistantMessageId) });
    expect(events.find(isEnd(sent.assistantMessageId))?.event).toBe("done");
  }

  async function listed(sessionId: string) {
    const { status, body } = await client.json<{ messages: ListedMessage[]; activeLeafId: string }>(
      `/api/chat/sessions/${sessionId}/messages`,
    );
    expect(status).toBe(200);
    return body;
  }

  const regenerate = (sessionId: string, userMessageId: string, clientMessageId = randomUUID()) =>
    client.json<SendBody>(`/api/chat/regenerate/${sessionId}/${userMessageId}`, {
      method: "POST",
      body: JSON.stringify({ clientMessageId }),
    });

  /** The request the fake got for the reply sent last (the one after `before` requests). */
  const lastRequestAfter = (before: number) => fake.requests.slice(before).at(-1)?.body;
  const lastBody = (): unknown => fake.requests.at(-1)?.body ?? {};

  it("regenerate adds a reply beside the first, with no second question, and the next reply sees only the chosen one", async () => {
    const first = await client.send("What is a branch?");
    await finish(first);
    const clientMessageId = randomUUID();
    const again = await regenerate(first.sessionId, first.userMessageId, clientMessageId);
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({
      sessionId: first.sessionId,
      userMessageId: first.userMessageId,
      status: "queued",
    });
    expect(again.body.assistantMessageId).not.toBe(first.assistantMessageId);
    await finish(again.body);
    // Idempotent: the same clientMessageId names the same reply and adds none.
    const repeat = await regenerate(first.sessionId, first.userMessageId, clientMessageId);
    expect(repeat.body.assistantMessageId).toBe(again.body.assistantMessageId);

    const tree = await listed(first.sessionId);
    expect(tree.messages.map((m) => [m.role, m.parentId])).toEqual([
      ["user", null],
      ["assistant", first.userMessageId],
      ["assistant", first.userMessageId],
    ]);
    expect(tree.activeLeafId).toBe(again.body.assistantMessageId);
    expect(tree.messages.filter((m) => m.role === "assistant").map((m) => m.content)).toEqual([FAKE_REPLY, FAKE_REPLY]);

    // Choose the first version, then go on: the next reply's context is that branch alone.
    const chosen = await client.json(`/api/chat/sessions/${first.sessionId}`, {
      method: "PATCH",
      body: JSON.stringify({ activeLeafId: first.assistantMessageId }),
    });
    expect(chosen.status).toBe(200);
    expect(chosen.body).toMatchObject({ activeLeafId: first.assistantMessageId });
    expect((await listed(first.sessionId)).activeLeafId).toBe(first.assistantMessageId);
    const before = fake.requests.length;
    const next = await client.send("And a second question", { sessionId: first.sessionId });
    await finish(next);
    expect(turnsSeen(lastRequestAfter(before))).toEqual([
      "user: What is a branch?",
      `assistant: ${FAKE_REPLY}`,
      "user: And a second question",
    ]);
    const after = await listed(first.sessionId);
    expect(after.messages.find((m) => m.id === next.userMessageId)?.parentId).toBe(first.assistantMessageId);
    expect(after.activeLeafId).toBe(next.assistantMessageId);
  });

  it("edit sends the new text beside the old message; its reply's context is the new branch", async () => {
    const first = await client.send("Frist question");
    await finish(first);
    const second = await client.send("A follow-up", { sessionId: first.sessionId });
    await finish(second);
    // Edit the follow-up: a sibling of it, under the first reply.
    const before = fake.requests.length;
    const edited = await client.json<SendBody>("/api/chat/messages", {
      method: "POST",
      body: JSON.stringify({
        sessionId: first.sessionId,
        content: "A better follow-up",
        clientMessageId: randomUUID(),
        parentMessageId: first.assistantMessageId,
      }),
    });
    expect(edited.status).toBe(202);
    await finish(edited.body);
    expect(turnsSeen(lastRequestAfter(before))).toEqual([
      "user: Frist question",
      `assistant: ${FAKE_REPLY}`,
      "user: A better follow-up",
    ]);
    // Edit the first message itself: a new root (parentMessageId null).
    const root = await client.json<SendBody>("/api/chat/messages", {
      method: "POST",
      body: JSON.stringify({
        sessionId: first.sessionId,
        content: "First question",
        clientMessageId: randomUUID(),
        parentMessageId: null,
      }),
    });
    expect(root.status).toBe(202);
    await finish(root.body);
    expect(turnsSeen(fake.requests.at(-1)?.body)).toEqual(["user: First question"]);
    const tree = await listed(first.sessionId);
    const parentOf = (id: string) => tree.messages.find((m) => m.id === id)?.parentId;
    expect(parentOf(edited.body.userMessageId)).toBe(first.assistantMessageId);
    expect(parentOf(second.userMessageId)).toBe(first.assistantMessageId);
    expect(parentOf(root.body.userMessageId)).toBeNull();
    expect(tree.activeLeafId).toBe(root.body.assistantMessageId);
    // Parents come before their children.
    const at = new Map(tree.messages.map((m, index) => [m.id, index]));
    for (const message of tree.messages) {
      if (message.parentId) expect(at.get(message.parentId)).toBeLessThan(at.get(message.id) ?? -1);
    }
  });

  it("refuses what does not fit the tree, and another user's chat is not found", async () => {
    const mine = await client.send("Mine");
    await finish(mine);
    const elsewhere = await client.send("Another chat");
    await finish(elsewhere);
    const post = (path: string, body: unknown, as = client) =>
      as.json<{ error: { code: string; fields?: Record<string, string> } }>(path, {
        method: "POST",
        body: JSON.stringify(body),
      });
    const foreignParent = await post("/api/chat/messages", {
      sessionId: mine.sessionId,
      content: "x",
      clientMessageId: randomUUID(),
      parentMessageId: elsewhere.assistantMessageId,
    });
    expect(foreignParent.status).toBe(400);
    expect(foreignParent.body.error).toMatchObject({
      code: "invalid_request",
      fields: { parentMessageId: expect.any(String) },
    });
    const nul = await post("/api/chat/messages", { content: "a\u0000b", clientMessageId: randomUUID() });
    expect(nul.status).toBe(400);
    expect(nul.body.error.code).toBe("invalid_request");
    // Regenerate takes a user message of the chat.
    const ofReply = await post(`/api/chat/regenerate/${mine.sessionId}/${mine.assistantMessageId}`, {
      clientMessageId: randomUUID(),
    });
    expect(ofReply.status).toBe(404);
    expect(ofReply.body.error.code).toBe("message_not_found");
    const badBody = await post(`/api/chat/regenerate/${mine.sessionId}/${mine.userMessageId}`, {
      clientMessageId: "x",
    });
    expect(badBody.status).toBe(400);
    const notUuid = await post(`/api/chat/regenerate/${mine.sessionId}/not-a-uuid`, { clientMessageId: randomUUID() });
    expect(notUuid.status).toBe(404);
    const foreign = await post(
      `/api/chat/regenerate/${mine.sessionId}/${mine.userMessageId}`,
      { clientMessageId: randomUUID() },
      other,
    );
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe("session_not_found");
    const patch = (body: unknown, as = client) =>
      as.json<{ error: { code: string } }>(`/api/chat/sessions/${mine.sessionId}`, {
        method: "PATCH",
        body: JSON.stringify(body),
      });
    expect((await patch({ activeLeafId: elsewhere.assistantMessageId })).status).toBe(400);
    expect((await patch({ systemPrompt: "a\u0000b" })).status).toBe(400);
    expect((await patch({ title: "a\u0000b" })).status).toBe(400);
    expect((await patch({})).status).toBe(400);
    expect((await patch({ activeLeafId: mine.assistantMessageId }, other)).status).toBe(404);
    // Nothing of the refused requests was stored.
    expect((await listed(mine.sessionId)).messages).toHaveLength(2);
  });

  it("sends the chat's system prompt and the chosen model to the model, and stores the model with the reply", async () => {
    const first = await client.send("Hello there");
    await finish(first);
    expect((lastBody() as { model: string }).model).toBe("claude-test-a");
    const prompt = await client.json(`/api/chat/sessions/${first.sessionId}`, {
      method: "PATCH",
      body: JSON.stringify({ systemPrompt: "Answer like a pirate." }),
    });
    expect(prompt.body).toMatchObject({ systemPrompt: "Answer like a pirate." });
    const chosen = await client.json<SendBody>("/api/chat/messages", {
      method: "POST",
      body: JSON.stringify({
        sessionId: first.sessionId,
        content: "Again, please",
        clientMessageId: randomUUID(),
        model: "claude-test-b",
      }),
    });
    expect(chosen.status).toBe(202);
    await finish(chosen.body);
    const seen = lastBody() as { model: string; system?: unknown };
    expect(seen.model).toBe("claude-test-b");
    expect(seen.system).toBe("Answer like a pirate.");
    const tree = await listed(first.sessionId);
    expect(tree.messages.find((m) => m.id === chosen.body.assistantMessageId)?.model).toBe("claude-test-b");
    expect(tree.messages.find((m) => m.id === first.assistantMessageId)?.model).toBe("claude-test-a");
    // A regenerate may name another model too; an unknown one is refused before anything is stored.
    const unknown = await client.json<{ error: { code: string; fields: Record<string, string> } }>(
      "/api/chat/messages",
      { method: "POST", body: JSON.stringify({ content: "x", clientMessageId: randomUUID(), model: "gpt-9" }) },
    );
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: "invalid_request", fields: { model: expect.any(String) } });
    // Removing the prompt: the next reply goes without one.
    await client.json(`/api/chat/sessions/${first.sessionId}`, {
      method: "PATCH",
      body: JSON.stringify({ systemPrompt: "" }),
    });
    const plain = await client.send("No prompt now", { sessionId: first.sessionId });
    await finish(plain);
    expect((lastBody() as { system?: unknown }).system).toBeUndefined();
  });
});
