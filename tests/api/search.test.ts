import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SearchResult } from "@/lib/contract";
import { type Mode, type RunningApp, startApp } from "../support/app";
import { ApiClient, isEnd, type SendBody } from "../support/client";
import { FAKE_REPLY, type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic";

const modes: Mode[] = ["embedded", "redis"];

interface ErrorBody {
  error: { code: string; message: string; fields?: Record<string, string> };
}

// Search against the app in each mode; replies come from the fake Anthropic server, whose fixed
// text ("Hello from the fake Anthropic server.") holds none of the words searched for below.
describe.each(modes)("search (%s mode)", (mode) => {
  let app: RunningApp;
  let fake: FakeAnthropic;
  let client: ApiClient;
  let other: ApiClient;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    app = await startApp(mode, {
      ANTHROPIC_API_KEY: "test-key",
      ANTHROPIC_BASE_URL: fake.url,
      RATE_LIMIT_SENDS_PER_MINUTE: "1000",
    });
    client = await ApiClient.guest(app.baseUrl);
    other = await ApiClient.guest(app.baseUrl);
  });
  afterAll(async () => {
    await app?.stop();
    await fake?.close();
  });

  async function sent(as: ApiClient, content: string, sessionId?: string): Promise<SendBody> {
    const body = await as.send(content, { sessionId });
    const { events } = await as.readSse(body.streamUrl, { until: isEnd(body.assistantMessageId) });
    expect(events.find(isEnd(body.assistantMessageId))?.event).toBe("done");
    return body;
  }

  const search = (as: ApiClient, query: string) => as.json<{ results: SearchResult[] }>(`/api/chat/search?${query}`);

  async function found(as: ApiClient, q: string, limit?: number): Promise<SearchResult[]> {
    const params = new URLSearchParams({ q, ...(limit ? { limit: String(limit) } : {}) });
    const { status, body } = await search(as, params.toString());
    expect(status).toBe(200);
    return body.results;
  }

  it("finds a word in user messages and replies, stemmed forms too, with the chat's title and the match marked", async () => {
    const trip = await sent(client, "Our kayaking trip to the fjords");
    const boats = await sent(client, "Which kayaks fit two people?");
    await sent(client, "Nothing about boats here", boats.sessionId);

    const results = await found(client, "kayak");
    expect(results.map((r) => r.messageId).sort()).toEqual([trip.userMessageId, boats.userMessageId].sort());
    const first = results.find((r) => r.messageId === trip.userMessageId);
    expect(first).toMatchObject({
      sessionId: trip.sessionId,
      title: "Our kayaking trip to the fjords",
      snippet: "Our «kayaking» trip to the fjords",
    });
    expect(results.find((r) => r.messageId === boats.userMessageId)?.snippet).toBe("Which «kayaks» fit two people?");
    expect(new Date(first?.createdAt ?? "").getTime()).toBeLessThanOrEqual(Date.now());
    expect(first?.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // Another form of the word finds the same messages; so does its beginning, as it is typed.
    expect((await found(client, "kayaking")).map((r) => r.messageId).sort()).toEqual(
      results.map((r) => r.messageId).sort(),
    );
    expect((await found(client, "kaya")).map((r) => r.messageId).sort()).toEqual(
      results.map((r) => r.messageId).sort(),
    );
    // Every word must match; a phrase matches its words in order.
    expect((await found(client, "kayak fjords")).map((r) => r.messageId)).toEqual([trip.userMessageId]);
    expect(await found(client, '"fjords trip"')).toEqual([]);

    // A finished reply is found like a question.
    const replies = await found(client, "anthropic server", 50);
    expect(replies.map((r) => r.messageId)).toEqual(expect.arrayContaining([trip.assistantMessageId]));
    expect(replies.find((r) => r.messageId === trip.assistantMessageId)?.snippet).toBe(
      FAKE_REPLY.replace("Anthropic server", "«Anthropic» «server»"),
    );
  });

  it("puts the best match first and keeps to the limit", async () => {
    const chat = await sent(client, "Is a quasar bright?");
    const best = await sent(client, "quasar quasar quasar", chat.sessionId);
    const worst = await sent(
      client,
      "One quasar is mentioned in this much longer sentence about many other astronomical topics, such as nebulae, pulsars, comets and the dust between galaxies",
      chat.sessionId,
    );
    const ranked = (await found(client, "quasar")).map((r) => r.messageId);
    expect(ranked).toEqual([best.userMessageId, chat.userMessageId, worst.userMessageId]);
    expect((await found(client, "quasar", 2)).map((r) => r.messageId)).toEqual(ranked.slice(0, 2));
    expect((await found(client, "quasar", 1)).map((r) => r.messageId)).toEqual(ranked.slice(0, 1));
  });

  it("takes any text as a query: stray syntax is ignored, stop words alone find nothing", async () => {
    const jam = await sent(client, "An orange marmalade recipe");
    expect((await found(client, "marmalade & | ! ( :*")).map((r) => r.messageId)).toEqual([jam.userMessageId]);
    expect((await found(client, '"marmalade')).map((r) => r.messageId)).toEqual([jam.userMessageId]);
    expect((await found(client, "orange -marmalade")).map((r) => r.messageId)).not.toContain(jam.userMessageId);
    expect((await found(client, "lemon or marmalade")).map((r) => r.messageId)).toEqual([jam.userMessageId]);
    for (const q of ['"(((& | !:*', "the and of", "-", "'", "\\", "<>"]) expect(await found(client, q)).toEqual([]);
  });

  it("never takes a « or » of the text for a mark", async () => {
    const quoted = await sent(client, "Quotes «like these» around a zephyr <b>here</b>");
    const [result] = await found(client, "zephyr");
    expect(result?.messageId).toBe(quoted.userMessageId);
    expect(result?.snippet).toBe("Quotes ‹like these› around a «zephyr» <b>here</b>");
  });

  it("finds a reply once it has ended, with the text it kept, and not while it is written", async () => {
    // The fake writes "tick 0 tick 1 …" for ten seconds.
    const slow = await client.send("scenario:slow a slow one");
    const status = `/api/chat/status/${slow.sessionId}/${slow.assistantMessageId}`;
    await expect
      .poll(async () => (await client.json<{ content: string }>(status)).body.content, { timeout: 20_000 })
      .toContain("tick 3");
    if (mode === "redis") {
      // The running reply's checkpoint holds the word in the database: search still leaves it out.
      const db = postgres(app.env.DATABASE_URL ?? "", { max: 1, onnotice: () => {} });
      try {
        await expect
          .poll(
            async () => (await db`select content from messages where id = ${slow.assistantMessageId}`)[0]?.content,
            {
              timeout: 20_000,
            },
          )
          .toContain("tick");
      } finally {
        await db.end();
      }
    }
    expect(await found(client, "tick")).toEqual([]);
    const cancelled = await client.json(`/api/chat/cancel/${slow.sessionId}/${slow.assistantMessageId}`, {
      method: "POST",
    });
    expect(cancelled.status).toBe(202);
    await client.readSse(slow.streamUrl, { until: isEnd(slow.assistantMessageId) });
    await expect.poll(async () => (await client.json<{ status: string }>(status)).body.status).toBe("cancelled");
    const [result] = await found(client, "tick");
    expect(result).toMatchObject({ sessionId: slow.sessionId, messageId: slow.assistantMessageId });
    expect(result?.snippet).toContain("«tick»");
  });

  it("never returns another user's messages", async () => {
    const mine = await sent(client, "A nightingale sang in the square");
    const theirs = await sent(other, "My secret nightingale plans");
    expect((await found(client, "nightingale")).map((r) => r.messageId)).toEqual([mine.userMessageId]);
    expect((await found(other, "nightingale")).map((r) => r.messageId)).toEqual([theirs.userMessageId]);
    expect(await found(other, "kayak")).toEqual([]);
  });

  it("answers 400 invalid_request naming q or limit when either is wrong", async () => {
    const bad: Array<[string, "q" | "limit"]> = [
      ["", "q"],
      ["q=", "q"],
      ["q=%20%20%20", "q"],
      [`q=${"x".repeat(201)}`, "q"],
      ["q=kayak%00", "q"],
      ["q=kayak&limit=0", "limit"],
      ["q=kayak&limit=51", "limit"],
      ["q=kayak&limit=-1", "limit"],
      ["q=kayak&limit=1.5", "limit"],
      ["q=kayak&limit=ten", "limit"],
      ["q=kayak&limit=", "limit"],
    ];
    for (const [query, field] of bad) {
      const { status, body } = await client.json<ErrorBody>(`/api/chat/search?${query}`);
      expect(status, query).toBe(400);
      expect(body.error.code, query).toBe("invalid_request");
      expect(Object.keys(body.error.fields ?? {}), query).toEqual([field]);
    }
    // The bounds themselves are fine: 200 code points (400 UTF-16 units here) and a limit of 50.
    expect((await search(client, new URLSearchParams({ q: "😀".repeat(200) }).toString())).status).toBe(200);
    expect((await search(client, "q=kayak&limit=50")).status).toBe(200);
    expect((await search(client, "q=kayak&limit=1")).status).toBe(200);
  });

  it("answers 401 without a session", async () => {
    for (const cookie of [undefined, "authjs.session-token=not-a-token"]) {
      const response = await fetch(`${app.baseUrl}/api/chat/search?q=kayak`, {
        headers: cookie ? { cookie } : {},
      });
      expect(response.status).toBe(401);
      expect(((await response.json()) as ErrorBody).error.code).toBe("unauthorized");
    }
  });
});
