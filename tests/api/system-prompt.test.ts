import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Mode, type RunningApp, startApp } from "../support/app";
import { ApiClient, isEnd, type SendBody } from "../support/client";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic";

const modes: Mode[] = ["embedded", "redis"];

interface ErrorBody {
  error: { code: string; fields?: Record<string, string> };
}
interface ListedSession {
  id: string;
  systemPrompt?: string;
}

// A chat's system prompt, from the first send or a PATCH to the model's request, against the app
// in each mode with the real Anthropic SDK talking to a local fake server that records each request.
describe.each(modes)("system prompt (%s mode)", (mode) => {
  let app: RunningApp;
  let fake: FakeAnthropic;
  let client: ApiClient;
  let other: ApiClient;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    app = await startApp(mode, { ANTHROPIC_API_KEY: "test-key", ANTHROPIC_BASE_URL: fake.url });
    client = await ApiClient.guest(app.baseUrl);
    other = await ApiClient.guest(app.baseUrl);
  });
  afterAll(async () => {
    await app?.stop();
    await fake?.close();
  });

  const post = (body: Record<string, unknown>, as = client) =>
    as.json<SendBody & ErrorBody>("/api/chat/messages", {
      method: "POST",
      body: JSON.stringify({ clientMessageId: randomUUID(), ...body }),
    });

  async function finish(sent: SendBody) {
    // From the queued reply's cursor: a reply that already ended still sends its end event.
    const { events } = await client.readSse(sent.streamUrl, {
      lastEventId: `${sent.assistantMessageId}:0:0`,
      until: isEnd(sent.assistantMessageId),
    });
    expect(events.find(isEnd(sent.assistantMessageId))?.event).toBe("done");
  }

  /** The `system` of the model request whose last user turn says `word`. */
  function systemSeenFor(word: string): unknown {
    const request = fake.requests.findLast((r) => JSON.stringify(r.body).includes(word));
    expect(request, `a model request for "${word}"`).toBeDefined();
    return (request?.body as { system?: unknown } | undefined)?.system;
  }

  const listedSession = async (sessionId: string, as = client) => {
    const { body } = await as.json<{ sessions: ListedSession[] }>("/api/chat/sessions?limit=100");
    return body.sessions.find((s) => s.id === sessionId);
  };

  it("a new chat's first send sets its prompt: the first reply and the later ones receive it", async () => {
    const first = await post({ content: "First words, kestrel", systemPrompt: "  Answer in haiku.  " });
    expect(first.status).toBe(202);
    await finish(first.body);
    expect(systemSeenFor("kestrel")).toBe("Answer in haiku.");
    // The session list carries the chat's prompt (trimmed), so a client has it with the chat.
    expect((await listedSession(first.body.sessionId))?.systemPrompt).toBe("Answer in haiku.");
    const next = await post({ sessionId: first.body.sessionId, content: "Second words, osprey" });
    await finish(next.body);
    expect(systemSeenFor("osprey")).toBe("Answer in haiku.");
    // A chat without one lists no prompt and sends none.
    const plain = await post({ content: "No prompt here, heron", systemPrompt: "   " });
    await finish(plain.body);
    expect(systemSeenFor("heron")).toBeUndefined();
    expect(await listedSession(plain.body.sessionId)).not.toHaveProperty("systemPrompt");
  });

  it("a PATCH changes the prompt of the replies after it; the list shows it, another user's chat is not found", async () => {
    const sent = await post({ content: "Before the change, plover" });
    await finish(sent.body);
    const prompt = "Speak like a ship's captain.";
    const patched = await client.json(`/api/chat/sessions/${sent.body.sessionId}`, {
      method: "PATCH",
      body: JSON.stringify({ systemPrompt: prompt }),
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id: sent.body.sessionId, systemPrompt: prompt });
    expect((await listedSession(sent.body.sessionId))?.systemPrompt).toBe(prompt);
    const after = await post({ sessionId: sent.body.sessionId, content: "After the change, curlew" });
    await finish(after.body);
    expect(systemSeenFor("curlew")).toBe(prompt);
    const foreign = await other.json<ErrorBody>(`/api/chat/sessions/${sent.body.sessionId}`, {
      method: "PATCH",
      body: JSON.stringify({ systemPrompt: "Mine now." }),
    });
    expect(foreign.status).toBe(404);
    expect(await listedSession(sent.body.sessionId, other)).toBeUndefined();
    expect((await listedSession(sent.body.sessionId))?.systemPrompt).toBe(prompt);
  });

  it("refuses a prompt that is too long, has a NUL, or comes with a send into a chat that exists", async () => {
    const before = fake.requests.length;
    const tooLong = await post({ content: "Too long", systemPrompt: "x".repeat(8001) });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error).toMatchObject({ code: "invalid_request", fields: { systemPrompt: expect.any(String) } });
    // Counted in code points, like the API says: 8000 emoji are not too long.
    const emoji = await post({ content: "Long but fine, grebe", systemPrompt: "🦆".repeat(8000) });
    expect(emoji.status).toBe(202);
    await finish(emoji.body);
    expect(systemSeenFor("grebe")).toBe("🦆".repeat(8000));
    const nul = await post({ content: "Nul", systemPrompt: "a\u0000b" });
    expect(nul.status).toBe(400);
    const into = await post({ sessionId: emoji.body.sessionId, content: "Into a chat", systemPrompt: "Other" });
    expect(into.status).toBe(400);
    expect(into.body.error.fields).toHaveProperty("systemPrompt");
    const patchTooLong = await client.json<ErrorBody>(`/api/chat/sessions/${emoji.body.sessionId}`, {
      method: "PATCH",
      body: JSON.stringify({ systemPrompt: "x".repeat(8001) }),
    });
    expect(patchTooLong.status).toBe(400);
    expect(patchTooLong.body.error.fields).toHaveProperty("systemPrompt");
    // Only the accepted send reached the model; the refused ones stored nothing.
    expect(fake.requests.length).toBe(before + 1);
    expect((await listedSession(emoji.body.sessionId))?.systemPrompt).toBe("🦆".repeat(8000));
  });
});
