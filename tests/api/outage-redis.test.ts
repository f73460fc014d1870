import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningApp, startApp } from "../support/app";
import { ApiClient, type SendBody } from "../support/client";
import { openSse } from "../support/open-sse";
import { type OwnRedis, startOwnRedis } from "../support/redis-server";

// Redis goes away under a running app (redis mode, a redis-server of the test's own) and comes
// back empty on the same port. While it is away every endpoint that needs it answers 503 with
// Retry-After and the contract's body, within a couple of seconds; open streams are told to
// reconnect; afterwards the app answers again by itself.

type ErrorBody = { error: { code: string; message: string } };

describe("a Redis outage (redis mode)", () => {
  let redis: OwnRedis;
  let app: RunningApp;
  let client: ApiClient;
  let running: SendBody;

  beforeAll(async () => {
    redis = await startOwnRedis();
    app = await startApp("redis", { REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: "1000" });
    client = await ApiClient.guest(app.baseUrl);
    // A reply that is still being written while Redis is away (about 200 s at 5 tokens/s).
    running = await client.send("/mock tokens=1000 tps=5 ttft=0\nA long reply, please.");
    const deadline = Date.now() + 20_000;
    while ((await client.json<{ status: string }>(running.statusUrl)).body.status !== "generating") {
      if (Date.now() > deadline) throw new Error("the reply never started");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
  afterAll(async () => {
    // Back up first, so the app's cleanup finds the Redis it knows.
    if (redis && app) await redis.start().catch(() => {});
    await app?.stop();
    await redis?.stop();
  });

  it("answers 503 with Retry-After while Redis is down, then recovers by itself", async () => {
    const oneSession = await openSse(client, running.streamUrl);
    const allSessions = await openSse(client, "/api/chat/stream");
    expect([oneSession.status, allSessions.status]).toEqual([200, 200]);
    const isChunk = (event: { event: string }) => event.event === "chunk";
    await Promise.all([oneSession.waitFor(isChunk), allSessions.waitFor(isChunk)]);

    await redis.shutdown();

    // Streams that were open are told to come back with their cursors, and closed.
    for (const stream of [oneSession, allSessions]) {
      const events = await stream.ended;
      expect(events.at(-1)).toEqual({ event: "reconnect", id: undefined, data: { reason: "store_unreachable" } });
    }

    const timings: Record<string, number> = {};
    const expectOutage = async (name: string, path: string, code: string, init: RequestInit = {}) => {
      const startedAt = performance.now();
      const { status, body, headers } = await client.json<ErrorBody>(path, init);
      timings[name] = Math.round(performance.now() - startedAt);
      expect({ name, status, code: body?.error?.code }).toEqual({ name, status: 503, code });
      expect(headers.get("retry-after")).toMatch(/^\d+$/);
      expect(headers.get("content-type")).toMatch(/^application\/json/);
      expect(typeof body.error.message).toBe("string");
      expect(JSON.stringify(body)).not.toMatch(/redis|ECONN|stream isn't|writeable|stack|at \w+ \(/i);
      // Well under the 2 s a first connection may wait: a down Redis is seen at once.
      expect(timings[name]).toBeLessThan(3_000);
    };
    const clientMessageId = randomUUID();
    const send = {
      method: "POST",
      body: JSON.stringify({ content: "sent during the outage", clientMessageId, sessionId: running.sessionId }),
    };

    await expectOutage("status", running.statusUrl, "store_unavailable");
    await expectOutage("one-session stream", running.streamUrl, "store_unavailable");
    await expectOutage("all-sessions stream", "/api/chat/stream", "store_unavailable");
    await expectOutage("active-streams", "/api/chat/active-streams", "store_unavailable");
    await expectOutage("messages", `/api/chat/sessions/${running.sessionId}/messages`, "store_unavailable");
    await expectOutage("send", "/api/chat/messages", "queue_unavailable", send);
    // What needs only the database still answers.
    const sessions = await client.json<{ sessions: unknown[] }>("/api/chat/sessions");
    expect(sessions.status).toBe(200);
    const health = await client.json<Record<string, unknown>>("/api/health");
    expect(health).toMatchObject({ status: 503, body: { ok: false, db: "ok", redis: "error" } });
    // Stopping the reply is recorded in Postgres, but its store part waits for Redis: 503, and a retry later.
    const cancelPath = `/api/chat/cancel/${running.sessionId}/${running.assistantMessageId}`;
    await expectOutage("cancel", cancelPath, "store_unavailable", { method: "POST" });
    console.info(`answers during the Redis outage (ms): ${JSON.stringify(timings)}`);

    await redis.start();

    // The app reconnects by itself (ioredis retries every ≤ 2 s): the same send is accepted, once.
    const backAt = performance.now();
    let resent = await client.json<SendBody>("/api/chat/messages", send);
    while (resent.status !== 202 && performance.now() - backAt < 20_000) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      resent = await client.json<SendBody>("/api/chat/messages", send);
    }
    expect(resent.status).toBe(202);
    console.info(`first 202 after Redis came back: ${Math.round(performance.now() - backAt)} ms`);
    const status = await client.json<{ status: string }>(resent.body.statusUrl);
    expect(status.status).toBe(200);
    const cancelled = await client.json<{ status: string }>(cancelPath, { method: "POST" });
    expect(cancelled).toMatchObject({ status: 202, body: { status: "cancelled" } });
    expect((await client.json("/api/chat/active-streams")).status).toBe(200);
    expect((await client.json(`/api/chat/sessions/${running.sessionId}/messages`)).status).toBe(200);
    const again = await openSse(client, "/api/chat/stream");
    expect(again.status).toBe(200);
    again.abort();
    const reply = await client.readSse(resent.body.streamUrl, { lastEventId: `${resent.body.assistantMessageId}:0:0` });
    expect(reply.status).toBe(200);
    expect(reply.events.at(-1)?.event).toBe("done");
  });
});
