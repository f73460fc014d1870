import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Mode, type RunningApp, startApp } from "../support/app";
import { ApiClient } from "../support/client";

const modes: Mode[] = ["embedded", "redis"];

// The error half of the contract, against the app in each mode.
describe.each(modes)("errors and access rules (%s mode)", (mode) => {
  let app: RunningApp;
  let alice: ApiClient;
  let bob: ApiClient;
  let aliceTurn: Awaited<ReturnType<ApiClient["send"]>>;

  beforeAll(async () => {
    app = await startApp(mode, { MAX_RUNNING_REPLIES_PER_USER: "3", RATE_LIMIT_SENDS_PER_MINUTE: "8" });
    alice = await ApiClient.guest(app.baseUrl);
    bob = await ApiClient.guest(app.baseUrl);
    aliceTurn = await alice.send("/mock tokens=3 tps=0\nmine");
    await alice.readSse(aliceTurn.streamUrl);
  });
  afterAll(() => app?.stop());

  it("answers 401 unauthorized on every chat endpoint without a session", async () => {
    const { sessionId, assistantMessageId } = aliceTurn;
    const calls: Array<[string, string]> = [
      ["POST", "/api/chat/messages"],
      ["GET", "/api/chat/stream"],
      ["GET", `/api/chat/stream/${sessionId}`],
      ["GET", `/api/chat/status/${sessionId}/${assistantMessageId}`],
      ["GET", "/api/chat/active-streams"],
      ["GET", "/api/chat/search?q=hello"],
      ["POST", `/api/chat/cancel/${sessionId}/${assistantMessageId}`],
      ["GET", "/api/chat/sessions"],
      ["GET", `/api/chat/sessions/${sessionId}/messages`],
      ["PATCH", `/api/chat/sessions/${sessionId}`],
      ["POST", `/api/chat/regenerate/${sessionId}/${aliceTurn.userMessageId}`],
      ["DELETE", `/api/chat/sessions/${sessionId}`],
    ];
    for (const [method, path] of calls) {
      const response = await fetch(`${app.baseUrl}${path}`, {
        method,
        headers: { cookie: "authjs.session-token=forged" },
      });
      expect(response.status, `${method} ${path}`).toBe(401);
      expect(await response.json()).toEqual({ error: { code: "unauthorized", message: expect.any(String) } });
    }
  });

  it("answers 404 for another user's session and reply, never 403", async () => {
    const { sessionId, assistantMessageId } = aliceTurn;
    const checks = [
      await bob.json(`/api/chat/sessions/${sessionId}/messages`),
      await bob.json(`/api/chat/status/${sessionId}/${assistantMessageId}`),
      await bob.json(`/api/chat/cancel/${sessionId}/${assistantMessageId}`, { method: "POST" }),
      await bob.json(`/api/chat/sessions/${sessionId}`, {
        method: "PATCH",
        body: JSON.stringify({ title: "mine now" }),
      }),
      await bob.json(`/api/chat/sessions/${sessionId}`, { method: "DELETE" }),
      await bob.json(`/api/chat/stream/${sessionId}`),
      await bob.json("/api/chat/messages", {
        method: "POST",
        body: JSON.stringify({ sessionId, content: "hi", clientMessageId: randomUUID() }),
      }),
    ];
    for (const check of checks) expect(check.status).toBe(404);
    expect(checks.at(-1)?.body).toMatchObject({ error: { code: "session_not_found" } });
    const { body } = await alice.json<{ messages: unknown[] }>(`/api/chat/sessions/${sessionId}/messages`);
    expect(body.messages).toHaveLength(2);
  });

  it("answers 400 invalid_json for malformed JSON and invalid_request with fields for bad input", async () => {
    const malformed = await alice.json("/api/chat/messages", { method: "POST", body: "{not json" });
    expect(malformed).toMatchObject({ status: 400, body: { error: { code: "invalid_json" } } });
    const missing = await alice.json("/api/chat/messages", { method: "POST", body: JSON.stringify({ content: "hi" }) });
    expect(missing).toMatchObject({
      status: 400,
      body: { error: { code: "invalid_request", fields: { clientMessageId: expect.any(String) } } },
    });
    const blank = await alice.json("/api/chat/messages", {
      method: "POST",
      body: JSON.stringify({ content: " \n\t ", clientMessageId: randomUUID() }),
    });
    expect(blank).toMatchObject({
      status: 400,
      body: { error: { code: "invalid_request", fields: { content: expect.any(String) } } },
    });
    const badId = await alice.json("/api/chat/messages", {
      method: "POST",
      body: JSON.stringify({ content: "hi", clientMessageId: randomUUID(), sessionId: "nope" }),
    });
    expect(badId).toMatchObject({
      status: 400,
      body: { error: { code: "invalid_request", fields: { sessionId: expect.any(String) } } },
    });
    const badLimit = await alice.json("/api/chat/sessions?limit=0");
    expect(badLimit).toMatchObject({ status: 400, body: { error: { code: "invalid_request" } } });
  });

  it("answers 413: message_too_long over MAX_MESSAGE_CHARS code points, payload_too_large over 1 MB", async () => {
    const tooLong = "☃".repeat(32_001);
    const long = await alice.json("/api/chat/messages", {
      method: "POST",
      body: JSON.stringify({ content: tooLong, clientMessageId: randomUUID() }),
    });
    expect(long).toMatchObject({ status: 413, body: { error: { code: "message_too_long" } } });
    const justFits = await alice.json("/api/chat/messages", {
      method: "POST",
      body: JSON.stringify({ content: `/mock tokens=1\n${"☃".repeat(31_000)}`, clientMessageId: randomUUID() }),
    });
    expect(justFits.status).toBe(202);
    const huge = await alice.json("/api/chat/messages", {
      method: "POST",
      body: JSON.stringify({ content: "x".repeat(1_100_000), clientMessageId: randomUUID() }),
    });
    expect(huge).toMatchObject({ status: 413, body: { error: { code: "payload_too_large" } } });
    // The same body sent in pieces, with no Content-Length to refuse it by: counted as it arrives.
    const pieces = JSON.stringify({ content: "x".repeat(1_100_000), clientMessageId: randomUUID() });
    const streamed = await alice.json("/api/chat/messages", {
      method: "POST",
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < pieces.length; i += 64_000)
            controller.enqueue(new TextEncoder().encode(pieces.slice(i, i + 64_000)));
          controller.close();
        },
      }),
      duplex: "half",
    } as RequestInit);
    expect(streamed).toMatchObject({ status: 413, body: { error: { code: "payload_too_large" } } });
  });

  it("answers 404 for ids in the path that are not UUIDs, and for unknown endpoints, as JSON", async () => {
    for (const path of [
      "/api/chat/status/nope/also-nope",
      "/api/chat/sessions/123/messages",
      "/api/chat/stream/x",
      "/api/nothing/here",
    ]) {
      const { status, body } = await alice.json(path);
      expect(status, path).toBe(404);
      expect(body).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
    }
  });

  it("refuses a write from another origin with 403 and echoes or makes a correlation id", async () => {
    const foreign = await alice.json("/api/chat/messages", {
      method: "POST",
      headers: { origin: "https://evil.example" },
      body: JSON.stringify({ content: "hi", clientMessageId: randomUUID() }),
    });
    expect(foreign).toMatchObject({ status: 403, body: { error: { code: "forbidden_origin" } } });
    const correlationId = randomUUID();
    const sameOrigin = await alice.json<{ correlationId: string; streamUrl: string; assistantMessageId: string }>(
      "/api/chat/messages",
      {
        method: "POST",
        headers: { origin: app.baseUrl, "x-correlation-id": correlationId },
        body: JSON.stringify({ content: "/mock tokens=20 tps=100 ttft=300\nhi", clientMessageId: randomUUID() }),
      },
    );
    expect(sameOrigin.status).toBe(202);
    expect(sameOrigin.headers.get("x-correlation-id")).toBe(correlationId);
    expect(sameOrigin.body.correlationId).toBe(correlationId);
    const { events } = await alice.readSse(sameOrigin.body.streamUrl);
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.data.correlationId === correlationId)).toBe(true);
    const generated = await alice.json("/api/chat/sessions");
    expect(generated.headers.get("x-correlation-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("limits running replies and sends per minute with 429 and Retry-After; a repeat does not count", async () => {
    const carol = await ApiClient.guest(app.baseUrl);
    const running = [];
    for (let i = 0; i < 3; i++) running.push(await carol.send(`/mock tokens=5000 tps=5\nlong ${i}`));
    const refused = await carol.json("/api/chat/messages", {
      method: "POST",
      body: JSON.stringify({ content: "one more", clientMessageId: randomUUID() }),
    });
    expect(refused).toMatchObject({ status: 429, body: { error: { code: "rate_limited" } } });
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    for (const turn of running)
      await carol.json(`/api/chat/cancel/${turn.sessionId}/${turn.assistantMessageId}`, { method: "POST" });
    // 3 sends so far against a limit of 8 a minute: the one the cap refused stored nothing and
    // does not count, like every send that stores nothing.
    const firstQuickId = randomUUID();
    const accepted = [];
    for (let i = 0; i < 5; i++) {
      const turn = await carol.send(`/mock tokens=1 tps=0 ttft=0\nquick ${i}`, {
        clientMessageId: i === 0 ? firstQuickId : undefined,
      });
      accepted.push(turn);
      await carol.readSse(turn.streamUrl);
    }
    const overLimit = await carol.json("/api/chat/messages", {
      method: "POST",
      body: JSON.stringify({ content: "too fast", clientMessageId: randomUUID() }),
    });
    expect(overLimit).toMatchObject({ status: 429, body: { error: { code: "rate_limited" } } });
    const retryAfter = Number(overLimit.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const repeat = await carol.json("/api/chat/messages", {
      method: "POST",
      body: JSON.stringify({ content: "/mock tokens=1 tps=0 ttft=0\nquick 0", clientMessageId: firstQuickId }),
    });
    expect(repeat).toMatchObject({ status: 202, body: accepted[0] });
  });

  it("counts toward the send limit only sends that store a message: not repeats, 404s or 413s", async () => {
    const dave = await ApiClient.guest(app.baseUrl);
    const onceId = randomUUID();
    const first = await dave.send("/mock tokens=1 tps=0 ttft=0\nonce", { clientMessageId: onceId });
    await dave.readSse(first.streamUrl);
    const post = (body: Record<string, unknown>) =>
      dave.json("/api/chat/messages", { method: "POST", body: JSON.stringify(body) });
    for (let i = 0; i < 10; i++) {
      const repeat = await post({ content: "/mock tokens=1 tps=0 ttft=0\nonce", clientMessageId: onceId });
      expect(repeat.status).toBe(202);
      const missing = await post({ sessionId: randomUUID(), content: "lost", clientMessageId: randomUUID() });
      expect(missing.status).toBe(404);
      const long = await post({ content: "x".repeat(200_000), clientMessageId: randomUUID() });
      expect(long.status).toBe(413);
    }
    // 1 counted so far: 7 more fit in the limit of 8, the one after does not.
    for (let i = 0; i < 7; i++) {
      const turn = await dave.send(`/mock tokens=1 tps=0 ttft=0\nquick ${i}`);
      await dave.readSse(turn.streamUrl);
    }
    const over = await post({ content: "one too many", clientMessageId: randomUUID() });
    expect(over).toMatchObject({ status: 429, body: { error: { code: "rate_limited" } } });
  });

  it("renames, lists with pagination and deletes sessions, stopping their replies", async () => {
    const dave = await ApiClient.guest(app.baseUrl);
    const turns = [];
    for (let i = 0; i < 3; i++) {
      const turn = await dave.send(`/mock tokens=2 tps=0\nchat number ${i}`);
      turns.push(turn);
      await dave.readSse(turn.streamUrl);
    }
    const page1 = await dave.json<{ sessions: Array<{ id: string; title: string }>; nextCursor: string | null }>(
      "/api/chat/sessions?limit=2",
    );
    expect(page1.body.sessions.map((s) => s.id)).toEqual([turns[2]?.sessionId, turns[1]?.sessionId]);
    expect(page1.body.sessions[0]?.title).toBe("chat number 2");
    const page2 = await dave.json<{ sessions: Array<{ id: string }>; nextCursor: string | null }>(
      `/api/chat/sessions?limit=2&cursor=${page1.body.nextCursor}`,
    );
    expect(page2.body).toEqual({ sessions: [expect.objectContaining({ id: turns[0]?.sessionId })], nextCursor: null });
    const renamed = await dave.json(`/api/chat/sessions/${turns[0]?.sessionId}`, {
      method: "PATCH",
      body: JSON.stringify({ title: "  Renamed  " }),
    });
    expect(renamed).toMatchObject({ status: 200, body: { title: "Renamed" } });
    const first = await dave.json<{ sessions: Array<{ id: string; title: string }> }>("/api/chat/sessions?limit=1");
    expect(first.body.sessions[0]).toMatchObject({ id: turns[0]?.sessionId, title: "Renamed" });
    const running = await dave.send("/mock tokens=5000 tps=5\nstill talking", { sessionId: turns[1]?.sessionId });
    const listed = await dave.json<{ sessions: Array<{ id: string; activeMessageId?: string }> }>("/api/chat/sessions");
    expect(listed.body.sessions.find((s) => s.id === running.sessionId)?.activeMessageId).toBe(
      running.assistantMessageId,
    );
    const active = await dave.json<{ streams: Array<{ messageId: string }> }>("/api/chat/active-streams");
    expect(active.body.streams.map((s) => s.messageId)).toEqual([running.assistantMessageId]);
    expect((await dave.json(`/api/chat/sessions/${running.sessionId}`, { method: "DELETE" })).status).toBe(204);
    expect((await dave.json(`/api/chat/sessions/${running.sessionId}/messages`)).status).toBe(404);
    expect((await dave.json<{ streams: unknown[] }>("/api/chat/active-streams")).body.streams).toEqual([]);
  });
});
