import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningApp, startApp } from "../support/app";
import { ApiClient } from "../support/client";
import { expectOneFinishedReply, oneReplyDone, sample, scrape, scrapeWhen } from "../support/prometheus";
import { type OwnRedis, startOwnRedis } from "../support/redis-server";
import { holdTableLock } from "../support/table-lock";

// The standalone worker's HTTP server (WORKER_HTTP_PORT): /healthz as the platform's health check
// sees it, /metrics after one reply, and Bull Board behind METRICS_TOKEN. The worker runs on a
// Redis of its own, which the last test shuts down.

const TOKEN = "w0rker-token";

interface Health {
  ok: boolean;
  redis: string;
  db: string;
  worker: string;
  reason?: string;
}

async function health(app: RunningApp): Promise<{ status: number; body: Health }> {
  const response = await fetch(`${app.workerUrl}/healthz`);
  return { status: response.status, body: (await response.json()) as Health };
}

/** Asks until `ok` holds of the answer (the worker notices an outage at its next probe), or gives up. */
async function healthUntil(app: RunningApp, ok: (status: number) => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await health(app).catch(() => null);
    if (answer && ok(answer.status)) return answer;
    if (Date.now() > deadline) throw new Error(`/healthz did not change: ${JSON.stringify(answer)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The worker's /metrics once `ready` holds of it (a counter goes up just after the reply's end is published). */
describe("the worker's HTTP server (redis mode, its own Redis)", () => {
  let redis: OwnRedis;
  let app: RunningApp;
  let client: ApiClient;
  let admin: postgres.Sql;

  beforeAll(async () => {
    redis = await startOwnRedis();
    app = await startApp("redis", { REDIS_URL: redis.url, METRICS_TOKEN: TOKEN });
    client = await ApiClient.guest(app.baseUrl);
    admin = postgres(app.env.DATABASE_URL ?? "", { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await admin?.end();
    await app?.stop();
    await redis?.stop();
  });

  it("answers /healthz 200 with Redis, Postgres and a worker taking jobs", async () => {
    const answer = await healthUntil(app, (status) => status === 200);
    expect(answer.body).toEqual({ ok: true, redis: "ok", db: "ok", worker: "running" });
  });

  it("serves the worker's series on /metrics after one reply, behind the token", async () => {
    expect((await scrape(`${app.workerUrl}/metrics`)).status).toBe(401);
    const sent = await client.send("/mock tokens=30 tps=30\nmeasure me");
    const { events } = await client.readSse(sent.streamUrl, { lastEventId: `${sent.assistantMessageId}:0:0` });
    expect(events.at(-1)?.event).toBe("done");

    const text = await scrapeWhen(`${app.workerUrl}/metrics`, TOKEN, oneReplyDone);
    expectOneFinishedReply(text);
    expect(sample(text, 'backchannel_model_tokens_total{direction="input"}')).toBeGreaterThan(0);
    expect(sample(text, "backchannel_reply_takeovers_total")).toBe(0);
    expect(text).toMatch(/^# TYPE backchannel_reply_retries_total counter$/m);
    expect(text).toMatch(/^# TYPE backchannel_reply_continuations_total counter$/m);
    // The queue, read at the scrape (nothing waits now, as checked above), could be read.
    expect(sample(text, "backchannel_queue_readable")).toBe(1);
    // The process's own (default) metrics.
    expect(text).toMatch(/^backchannel_process_cpu_seconds_total /m);

    // The web's registry: its readers, the store's events and the delivery of the live chunks.
    const web = await scrape(`${app.baseUrl}/api/metrics`, TOKEN);
    expect(web.status).toBe(200);
    expect(sample(web.text, "backchannel_sse_delivery_seconds_count")).toBeGreaterThan(0);
    expect(sample(web.text, 'backchannel_store_events_received_total{type="chunk"}')).toBeGreaterThan(0);
    expect(sample(web.text, 'backchannel_sse_events_total{type="done"}')).toBe(1);
    expect(sample(web.text, 'backchannel_queue_jobs{state="active"}')).toBe(0);
    expect(sample(web.text, "backchannel_sse_connections")).toBe(0);
    // The model's series are the worker's alone in the Redis mode.
    expect(web.text).not.toMatch(/backchannel_replies_total/);
  });

  it("mounts Bull Board at /admin/queues behind the token, listing the chat queue", async () => {
    const board = `${app.workerUrl}/admin/queues`;
    expect((await fetch(board)).status).toBe(401);
    expect((await fetch(`${board}?token=wrong`, { redirect: "manual" })).status).toBe(401);
    expect((await fetch(`${board}/api/queues`)).status).toBe(401);

    const page = await fetch(board, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    const api = await fetch(`${board}/api/queues`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(api.status).toBe(200);
    const { queues } = (await api.json()) as { queues: Array<{ name: string }> };
    expect(queues.map((queue) => queue.name)).toEqual(["chat"]);

    // A browser: ?token= once sets a cookie and drops the token from the address.
    const entry = await fetch(`${board}?token=${TOKEN}`, { redirect: "manual" });
    expect(entry.status).toBe(303);
    expect(entry.headers.get("location")).toBe("/admin/queues");
    const cookie = entry.headers.get("set-cookie")?.split(";")[0] ?? "";
    expect(entry.headers.get("set-cookie")).toMatch(/HttpOnly/i);
    expect((await fetch(`${board}/api/queues`, { headers: { cookie } })).status).toBe(200);
    // The page's scripts load with the cookie alone, from under the base the page names.
    const html = await (await fetch(board, { headers: { cookie } })).text();
    const base = /<base href="([^"]+)"/.exec(html)?.[1] ?? "";
    const script = /<script[^>]* src="(static\/js\/main[^"]+)"/.exec(html)?.[1] ?? "";
    const asset = await fetch(new URL(script, new URL(base, app.workerUrl)), { headers: { cookie } });
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toMatch(/javascript/);
  });

  it("answers /healthz 503 while Postgres does not answer, and 200 again after", async () => {
    // The probe reads a row of `messages`: a lock on it stalls the probe as an outage would.
    const release = await holdTableLock(admin, "messages");
    try {
      const down = await healthUntil(app, (status) => status === 503);
      expect(down.body).toMatchObject({ ok: false, db: "error", redis: "ok", worker: "running" });
      expect(down.body.reason).toMatch(/Postgres/);
    } finally {
      await release();
    }
    await healthUntil(app, (status) => status === 200);
  });

  it("answers /healthz 503 once its Redis is gone", async () => {
    await redis.shutdown();
    const down = await healthUntil(app, (status) => status === 503);
    expect(down.body).toMatchObject({ ok: false, redis: "error", db: "ok" });
    expect(down.body.reason).toMatch(/Redis/);
    await redis.start();
  });
});

describe("the worker's /healthz during a graceful shutdown (redis mode)", () => {
  let app: RunningApp;

  beforeAll(async () => {
    // A grace long enough to ask /healthz while the worker waits for its running reply.
    app = await startApp("redis", { SHUTDOWN_GRACE_MS: "20000" });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it("without METRICS_TOKEN: /metrics is open and Bull Board is not mounted", async () => {
    await healthUntil(app, (status) => status === 200);
    expect((await scrape(`${app.workerUrl}/metrics`)).status).toBe(200);
    expect((await fetch(`${app.workerUrl}/admin/queues`)).status).toBe(404);
  });

  it("answers 503, the worker stopped, from SIGTERM on while its reply finishes", async () => {
    const client = await ApiClient.guest(app.baseUrl);
    const sent = await client.send("/mock tokens=100 tps=20\na long one");
    // The reply runs (its first chunk was written) before the signal.
    const { events } = await client.readSse(sent.streamUrl, {
      lastEventId: `${sent.assistantMessageId}:0:0`,
      until: (event) => event.event === "chunk",
    });
    expect(events.some((event) => event.event === "chunk")).toBe(true);
    process.kill(app.pids().worker ?? 0, "SIGTERM");
    const stopping = await healthUntil(app, (status) => status === 503);
    expect(stopping.body).toMatchObject({ ok: false, redis: "ok", db: "ok", worker: "stopped" });
    expect(stopping.body.reason).toMatch(/does not take jobs/);
  });
});
