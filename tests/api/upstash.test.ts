import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningApp, startApp } from "../support/app";
import { ApiClient, isEnd, textOf } from "../support/client";
import { openSse } from "../support/open-sse";
import { TEST_REDIS_URL } from "../support/services";
import { startUpstashRest, type UpstashRestServer } from "../support/upstash-rest";

// The web app with Upstash's REST API configured (as the Vercel marketplace's integration sets it):
// its Redis commands — the chunk store's, the rate limits', the stream slots', the health check's —
// go over HTTP to a server that speaks Upstash's protocol in front of the real Redis; the BullMQ
// producer and the live subscription stay on REDIS_URL. The worker keeps TCP.

const run = promisify(execFile);

/** The names of the Redis connections (CLIENT LIST) that the process `pid` holds. */
async function connectionNamesOf(pid: number): Promise<string[]> {
  const { stdout } = await run("ss", ["-tnpH", "state", "established", "( dport = :6379 )"]);
  const ports = stdout
    .split("\n")
    .filter((line) => line.includes(`pid=${pid},`))
    .map((line) => line.trim().split(/\s+/)[2]?.split(":").at(-1))
    .filter(Boolean);
  const redis = new Redis(TEST_REDIS_URL);
  try {
    const clients = String(await redis.client("LIST")).split("\n");
    return ports.map(
      (port) => /name=(\S*)/.exec(clients.find((c) => c.includes(`addr=127.0.0.1:${port} `)) ?? "")?.[1] ?? "?",
    );
  } finally {
    redis.disconnect();
  }
}

describe("the web app over Upstash's REST API", () => {
  let rest: UpstashRestServer;
  let app: RunningApp;

  beforeAll(async () => {
    rest = await startUpstashRest(TEST_REDIS_URL);
    app = await startApp("redis", {
      // The marketplace's names: the app reads them as it reads UPSTASH_REDIS_REST_*.
      KV_REST_API_URL: rest.url,
      KV_REST_API_TOKEN: rest.token,
      RATE_LIMIT_SENDS_PER_MINUTE: "4",
      MAX_SSE_PER_USER: "2",
    });
  });
  afterAll(async () => {
    await app?.stop();
    await rest?.close();
  });

  it("streams a reply whose store commands went over REST, and holds no command connection", async () => {
    const before = { ...rest.requests };
    const client = await ApiClient.guest(app.baseUrl);
    const sent = await client.send("/mock tokens=30 tps=300\nover REST");
    const { events } = await client.readSse(sent.streamUrl);
    expect(events.find(isEnd(sent.assistantMessageId))?.event).toBe("done");
    const { body } = await client.json<{ content: string; status: string }>(
      `/api/chat/status/${sent.sessionId}/${sent.assistantMessageId}`,
    );
    expect(body.status).toBe("completed");
    expect(textOf(events, sent.assistantMessageId)).toBe(body.content);
    const requests = (path: string) => (rest.requests[path] ?? 0) - (before[path] ?? 0);
    expect(requests("/") + requests("/pipeline")).toBeGreaterThan(0);
    // TCP for what needs it (the producer, the subscriber): no connection for commands.
    const names = await connectionNamesOf(app.pids().web ?? 0);
    expect(names).toContain("backchannel-subscriber");
    expect(names).not.toContain("backchannel-command");
    const health = await fetch(`${app.baseUrl}/api/health`);
    expect(((await health.json()) as { redis: string }).redis).toBe("ok");
  });

  it("counts sends against the per-user limit over REST", async () => {
    const client = await ApiClient.guest(app.baseUrl);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const { status } = await client.json("/api/chat/messages", {
        method: "POST",
        body: JSON.stringify({ content: `/mock tokens=1\nsend ${i}`, clientMessageId: crypto.randomUUID() }),
      });
      statuses.push(status);
    }
    expect(statuses).toEqual([202, 202, 202, 202, 429]);
  });

  it("closes a user's oldest stream with reconnect superseded, the slots kept over REST", async () => {
    const client = await ApiClient.guest(app.baseUrl);
    const first = await openSse(client, "/api/chat/stream", 60_000);
    const second = await openSse(client, "/api/chat/stream", 60_000);
    const third = await openSse(client, "/api/chat/stream", 60_000);
    const ended = await first.ended;
    expect(ended.at(-1)).toEqual({ event: "reconnect", id: undefined, data: { reason: "superseded" } });
    second.abort();
    third.abort();
  });

  it("answers 503 when the REST endpoint refuses it, and the rest of the deployment is unharmed", async () => {
    const client = await ApiClient.guest(app.baseUrl);
    // An app whose token the endpoint refuses (401, as Upstash answers a wrong token): every
    // command fails, and the app answers its contract's 503, never another 5xx.
    const outage = await startApp(
      "redis",
      { UPSTASH_REDIS_REST_URL: rest.url, UPSTASH_REDIS_REST_TOKEN: "wrong" },
      { waitUntilHealthy: false },
    );
    try {
      const health = await fetch(`${outage.baseUrl}/api/health`);
      expect(health.status).toBe(503);
      expect(((await health.json()) as { redis: string }).redis).toBe("error");
      const guest = await ApiClient.guest(outage.baseUrl);
      const { status, body } = await guest.json<{ error: { code: string } }>("/api/chat/messages", {
        method: "POST",
        body: JSON.stringify({ content: "/mock tokens=1\nrefused", clientMessageId: crypto.randomUUID() }),
      });
      // Stored, not queued (as with a Redis that is down): the same clientMessageId sent again later enqueues it.
      expect(status).toBe(503);
      expect(body.error.code).toBe("queue_unavailable");
      const streams = await guest.json<{ error: { code: string } }>("/api/chat/active-streams");
      expect(streams.status).toBe(503);
      expect(streams.body.error.code).toBe("store_unavailable");
      expect(outage.output().join("\n")).not.toContain("refused");
    } finally {
      await outage.stop();
    }
    const sent = await client.send("/mock tokens=3\nstill served");
    const { events } = await client.readSse(sent.streamUrl);
    expect(events.find(isEnd(sent.assistantMessageId))?.event).toBe("done");
  });
});
