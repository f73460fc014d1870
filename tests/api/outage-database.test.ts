import { randomUUID } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningApp, startApp } from "../support/app";
import { ApiClient } from "../support/client";
import { holdTableLock } from "../support/table-lock";

// A stalled database answers as an outage: while another session holds an ACCESS EXCLUSIVE lock
// on `messages`, a send gives up after DB_LOCK_TIMEOUT_MS with 503 database_unavailable (never a
// hang, never a 500) and /api/health says the database is not ok; after the lock goes, both
// answer as before.

const LOCK_TIMEOUT_MS = 500;
const STATEMENT_TIMEOUT_MS = 1_500;

type ErrorBody = { error: { code: string; message: string } };

describe("a lock on the messages table (redis mode, Postgres)", () => {
  let app: RunningApp;
  let client: ApiClient;
  let admin: postgres.Sql;

  beforeAll(async () => {
    app = await startApp("redis", {
      DB_LOCK_TIMEOUT_MS: String(LOCK_TIMEOUT_MS),
      DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
    });
    client = await ApiClient.guest(app.baseUrl);
    admin = postgres(app.env.DATABASE_URL ?? "", { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await admin?.end();
    await app?.stop();
  });

  it("answers a send with 503 within the lock timeout and reports the database in /api/health", async () => {
    // The lock is held until the test lets it go (the brief's 10 s lock, without waiting 10 s).
    const release = await holdTableLock(admin, "messages");

    const clientMessageId = randomUUID();
    const send = { method: "POST", body: JSON.stringify({ content: "during the lock", clientMessageId }) };
    try {
      const startedAt = performance.now();
      const refused = await client.json<ErrorBody>("/api/chat/messages", send);
      const sendMs = Math.round(performance.now() - startedAt);
      expect(refused.status).toBe(503);
      expect(refused.body.error.code).toBe("database_unavailable");
      expect(refused.headers.get("retry-after")).toMatch(/^\d+$/);
      expect(JSON.stringify(refused.body)).not.toMatch(/lock|timeout|SQL|select|messages|stack/i);
      // The lock timeout and the request around it; nowhere near the lock's own length.
      expect(sendMs).toBeGreaterThanOrEqual(LOCK_TIMEOUT_MS - 50);
      expect(sendMs).toBeLessThan(LOCK_TIMEOUT_MS + 2_000);

      const healthAt = performance.now();
      const health = await client.json<Record<string, unknown>>("/api/health");
      const healthMs = Math.round(performance.now() - healthAt);
      expect(health).toMatchObject({ status: 503, body: { ok: false, db: "error" } });
      console.info(`during the lock: send 503 in ${sendMs} ms, health 503 in ${healthMs} ms`);
    } finally {
      await release();
    }

    const health = await client.json<Record<string, unknown>>("/api/health");
    expect(health).toMatchObject({ status: 200, body: { ok: true, db: "ok" } });
    // Nothing of the refused send was stored: the same send now goes through, once.
    const accepted = await client.json<{ assistantMessageId: string }>("/api/chat/messages", send);
    expect(accepted.status).toBe(202);
  });
});
