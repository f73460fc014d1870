import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningApp, startApp } from "../support/app";
import { ApiClient } from "../support/client";
import { FAKE_REPLY, FAKE_USAGE, type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic";

describe("a turn through the real Anthropic SDK (redis mode, fake Anthropic server)", () => {
  let fake: FakeAnthropic;
  let app: RunningApp;
  let client: ApiClient;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    app = await startApp("redis", {
      ANTHROPIC_API_KEY: "test-key",
      ANTHROPIC_BASE_URL: fake.url,
      ANTHROPIC_MODEL: "claude-test",
    });
    client = await ApiClient.guest(app.baseUrl);
  });
  afterAll(async () => {
    await app?.stop();
    await fake?.close();
  });

  it("streams the model's text, stores it with its usage, and sends the whole conversation", async () => {
    // Each reply may end before its stream connects: read from attempt 1's start.
    const fromStart = (sent: { assistantMessageId: string }) => ({ lastEventId: `${sent.assistantMessageId}:1:0` });
    const first = await client.send("scenario:text hello");
    await client.readSse(first.streamUrl, fromStart(first));
    const second = await client.send("scenario:text and again", { sessionId: first.sessionId });
    const { events } = await client.readSse(second.streamUrl, fromStart(second));
    const done = events.at(-1);
    expect(done?.event).toBe("done");
    expect(done?.data.usage).toEqual(FAKE_USAGE);
    const { body } = await client.json<Record<string, unknown>>(second.statusUrl);
    expect(body).toMatchObject({ status: "completed", content: FAKE_REPLY, usage: FAKE_USAGE });
    const lastRequest = fake.requests.at(-1)?.body as { model: string; messages: Array<{ role: string }> };
    expect(lastRequest.model).toBe("claude-test");
    expect(lastRequest.messages.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
  });

  it("retries a mid-stream overload by continuing its text (prefill) and completes it whole", async () => {
    const sent = await client.send("scenario:error-midstream please");
    const { events } = await client.readSse(sent.streamUrl);
    expect(events.some((e) => e.event === "reset")).toBe(false);
    expect(events.at(-1)?.event).toBe("done");
    const chunks = events.filter((e) => e.event === "chunk").map((e) => String(e.data.text));
    expect(chunks.join("")).toBe("Hello from the fake Anthropic server.");
  });

  it("does not retry a bad request", async () => {
    const before = fake.requests.length;
    const sent = await client.send("scenario:400 please");
    // The reply may end before the stream connects: resume from attempt 1's start to get its end.
    const { events } = await client.readSse(sent.streamUrl, { lastEventId: `${sent.assistantMessageId}:1:0` });
    expect(events.at(-1)).toMatchObject({ event: "error", data: { code: "bad_request", retryable: false } });
    expect(fake.requests.length - before).toBe(1);
  });
});

describe("operations", () => {
  it("answers 503 queue_unavailable with no internals when Redis is unreachable, and loses nothing", async () => {
    const app = await startApp("redis", { REDIS_URL: "redis://127.0.0.1:1" }, { waitUntilHealthy: false });
    try {
      const client = await ApiClient.guest(app.baseUrl);
      const clientMessageId = randomUUID();
      const startedAt = Date.now();
      const sent = await client.json<{ error: { code: string; message: string } }>("/api/chat/messages", {
        method: "POST",
        body: JSON.stringify({ content: "hello?", clientMessageId }),
      });
      expect(Date.now() - startedAt).toBeLessThan(15_000);
      expect(sent.status).toBe(503);
      expect(sent.body.error.code).toBe("queue_unavailable");
      expect(JSON.stringify(sent.body)).not.toMatch(/redis|ECONNREFUSED|stack|at \w+ \(/i);
      const health = await client.json<Record<string, unknown>>("/api/health");
      expect(health).toMatchObject({ status: 503, body: { ok: false, mode: "redis", db: "ok", redis: "error" } });
      const sessions = await client.json<{ sessions: Array<{ title: string }> }>("/api/chat/sessions");
      expect(sessions.body.sessions.map((s) => s.title)).toEqual(["hello?"]);
    } finally {
      await app.stop();
    }
  }, 60_000);

  it("guards /api/metrics with METRICS_TOKEN and serves Prometheus text", async () => {
    const app = await startApp("embedded", { METRICS_TOKEN: "s3cret" });
    try {
      expect((await fetch(`${app.baseUrl}/api/metrics`)).status).toBe(401);
      const client = await ApiClient.guest(app.baseUrl);
      const sent = await client.send("/mock tokens=3 tps=0\ncount me");
      // From the queued reply's cursor: the reply may have ended before the stream opens.
      await client.readSse(sent.streamUrl, { lastEventId: `${sent.assistantMessageId}:0:0` });
      const response = await fetch(`${app.baseUrl}/api/metrics`, { headers: { authorization: "Bearer s3cret" } });
      expect(response.status).toBe(200);
      const text = await response.text();
      expect(text).toMatch(/^backchannel_sends_accepted_total 1$/m);
      expect(text).toMatch(/^# TYPE backchannel_sse_connections gauge$/m);
      // The reader got the reply's chunks (3 tokens: at least one chunk) and its end.
      expect(text).toMatch(/^backchannel_sse_events_total\{type="done"\} 1$/m);
      expect(Number(/^backchannel_sse_events_total\{type="chunk"\} (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
    } finally {
      await app.stop();
    }
  }, 60_000);

  it("turns guest sign-in off with AUTH_GUEST=off", async () => {
    const app = await startApp("embedded", { AUTH_GUEST: "off" });
    try {
      const response = await fetch(`${app.baseUrl}/api/auth/guest`, { method: "POST" });
      expect(response.status).toBe(404);
    } finally {
      await app.stop();
    }
  }, 60_000);
});
