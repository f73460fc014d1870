import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { Queue } from "bullmq";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE_ENV, freePort, launch, NEXT_BIN, type RunningApp, startApp, stopChild } from "../support/app";
import { ApiClient } from "../support/client";
import { TEST_REDIS_URL } from "../support/services";

// On Vercel (VERCEL set) the web is a serverless function: nothing of the worker may run in it,
// and the embedded mode, whose worker, queue and store live in the process, refuses to start.

/** Starts the built web app with `env`, asks it once, and resolves with its exit code and output. */
async function startUntilExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), "bc-vercel-"));
  let output = "";
  const logTo = new PassThrough().on("data", (data: Buffer) => {
    output += String(data);
  });
  const web = launch(
    process.execPath,
    [NEXT_BIN, "start", "-p", String(port), "-H", "127.0.0.1"],
    { ...BASE_ENV, PORT: String(port), DATA_DIR: dataDir, ...env },
    "web:vercel",
    logTo,
  );
  const exited = new Promise<number | null>((resolve) => web.once("exit", resolve));
  try {
    // Whether the server prepares its instrumentation at start or at its first request, it is asked.
    await fetch(`http://127.0.0.1:${port}/api/health`, { signal: AbortSignal.timeout(20_000) }).catch(() => {});
    const code = await Promise.race([exited, new Promise<"alive">((resolve) => setTimeout(resolve, 20_000, "alive"))]);
    return { code: code === "alive" ? -1 : code, output };
  } finally {
    await stopChild(web);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

describe("the web on Vercel refuses the embedded mode", () => {
  it("exits with a sentence naming the variables to set when REDIS_URL and DATABASE_URL are unset", async () => {
    const { code, output } = await startUntilExit({ VERCEL: "1", REDIS_URL: "", DATABASE_URL: "", AUTH_SECRET: "" });
    expect(code).toBe(1);
    expect(output).toContain(
      "Backchannel does not run in the embedded mode on Vercel: set REDIS_URL, DATABASE_URL, AUTH_SECRET and ANTHROPIC_API_KEY",
    );
    expect(output).toContain("(missing: REDIS_URL, DATABASE_URL, AUTH_SECRET)");
  }, 60_000);

  it("exits naming DATABASE_URL when only it is missing", async () => {
    const { code, output } = await startUntilExit({ VERCEL: "1", REDIS_URL: TEST_REDIS_URL, DATABASE_URL: "" });
    expect(code).toBe(1);
    expect(output).toContain("(missing: DATABASE_URL)");
  }, 60_000);

  it("starts the same embedded app when VERCEL is unset", async () => {
    const app = await startApp("embedded", { VERCEL: "", REDIS_URL: "", DATABASE_URL: "", AUTH_SECRET: "" });
    try {
      const { body } = await (await ApiClient.guest(app.baseUrl)).json<{ mode: string }>("/api/health");
      expect(body.mode).toBe("embedded");
    } finally {
      await app.stop();
    }
  }, 60_000);
});

describe("the web on Vercel in the Redis mode runs nothing of the worker", () => {
  let app: RunningApp;
  let queue: Queue;
  let sql: postgres.Sql;

  beforeAll(async () => {
    // No worker: startApp starts one only once the web is healthy, and this web never is without one.
    app = await startApp("redis", { VERCEL: "1", GUEST_SWEEP_INTERVAL_MS: "200" }, { waitUntilHealthy: false });
    queue = new Queue("chat", { connection: { url: TEST_REDIS_URL }, prefix: app.env.BULLMQ_PREFIX });
    sql = postgres(app.env.DATABASE_URL ?? "", { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await queue?.close();
    await sql?.end();
    await app?.stop();
  });

  it("leaves a send queued and an idle guest in place until a separate worker starts", async () => {
    const client = await ApiClient.guest(app.baseUrl);
    // A guest idle past GUEST_TTL_DAYS: the guest sweep (every 200 ms here) deletes it wherever it runs.
    const idle = await ApiClient.guest(app.baseUrl);
    await sql`update users set created_at = now() - interval '60 days' where id = ${idle.userId}`;
    const sent = await client.send("/mock tokens=10 tps=200\nwaits for a worker");

    // Two sweep intervals and more of watching the reply's stream: no text, no end, and the job
    // still waiting in BullMQ with no worker connection on its queue.
    const watching = new AbortController();
    setTimeout(() => watching.abort(), 3_000);
    const { events } = await client.readSse(sent.streamUrl, { signal: watching.signal });
    expect(events.filter((e) => e.event !== "status").map((e) => e.event)).toEqual([]);
    expect(await queue.getJobState(sent.assistantMessageId)).toBe("waiting");
    expect(await queue.getWorkers()).toEqual([]);
    const { body: status } = await client.json<{ status: string }>(sent.statusUrl);
    expect(status.status).toBe("queued");
    expect(await sql`select id from users where id = ${idle.userId}`).toHaveLength(1);

    await app.startWorker();
    const { events: answered } = await client.readSse(sent.streamUrl, {
      lastEventId: `${sent.assistantMessageId}:0:0`,
      timeoutMs: 30_000,
    });
    expect(answered.at(-1)?.event).toBe("done");
    expect((await queue.getWorkers()).length).toBeGreaterThan(0);
    await expect
      .poll(async () => (await sql`select id from users where id = ${idle.userId}`).length, { timeout: 15_000 })
      .toBe(0);
  }, 90_000);
});
