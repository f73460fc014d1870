import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getDb } from "../../lib/db/client";
import * as queries from "../../lib/db/queries";
import { createDatabase, type RunningApp, startApp } from "../support/app";
import { ApiClient } from "../support/client";
import { pointDatabaseAt } from "../support/database";

// Guests idle for GUEST_TTL_DAYS are deleted with their chats: the query on PGlite and on
// Postgres, and the worker's sweep doing it in a running app.

async function embedded() {
  const dir = mkdtempSync(path.join(tmpdir(), "bc-guests-"));
  await pointDatabaseAt({ DATA_DIR: dir });
  return async () => {
    await closeDb();
    rmSync(dir, { recursive: true, force: true });
  };
}

async function production() {
  const database = await createDatabase();
  await pointDatabaseAt({ DATABASE_URL: database.url });
  return async () => {
    await closeDb();
    await database.drop();
  };
}

/** A guest with one chat (one turn), signed up and last active `daysAgo` days ago. */
async function guestWithChat(daysAgo: { signedUp: number; active: number }) {
  const user = await queries.createGuestUser({ name: "g" });
  const turn = await queries.createTurn({
    userId: user.id,
    sessionId: null,
    title: "t",
    content: "hello",
    clientMessageId: crypto.randomUUID(),
    correlationId: crypto.randomUUID(),
    runningCap: 10,
  });
  const db = await getDb();
  await db.execute(
    sql`update users set created_at = now() - make_interval(days => ${daysAgo.signedUp}::int) where id = ${user.id}`,
  );
  await db.execute(
    sql`update chat_sessions set updated_at = now() - make_interval(days => ${daysAgo.active}::int) where user_id = ${user.id}`,
  );
  return { userId: user.id, sessionId: turn?.sessionId ?? "" };
}

async function exists(userId: string) {
  const db = await getDb();
  const result = (await db.execute(sql`select
      (select count(*)::int from users where id = ${userId}) as users,
      (select count(*)::int from messages where user_id = ${userId}) as messages`)) as unknown as
    | Array<{ users: number; messages: number }>
    | { rows: Array<{ users: number; messages: number }> };
  return (Array.isArray(result) ? result : result.rows)[0];
}

describe.each([
  ["PGlite", embedded],
  ["Postgres", production],
])("deleting idle guests (%s)", (_name, open) => {
  let close: () => Promise<void>;
  beforeAll(async () => {
    close = await open();
  });
  afterAll(() => close?.());

  it("deletes guests idle past the TTL with their chats, and keeps the rest", async () => {
    const idle = await guestWithChat({ signedUp: 40, active: 31 });
    const activeLately = await guestWithChat({ signedUp: 40, active: 2 });
    const newcomer = await guestWithChat({ signedUp: 1, active: 1 });
    const idleToo = await guestWithChat({ signedUp: 35, active: 35 });
    expect(await queries.deleteIdleGuests({ ttlDays: 30, limit: 1 })).toBe(1);
    expect(await queries.deleteIdleGuests({ ttlDays: 30, limit: 100 })).toBe(1);
    expect(await queries.deleteIdleGuests({ ttlDays: 30, limit: 100 })).toBe(0);
    expect(await exists(idle.userId)).toEqual({ users: 0, messages: 0 });
    expect(await exists(idleToo.userId)).toEqual({ users: 0, messages: 0 });
    expect(await exists(activeLately.userId)).toEqual({ users: 1, messages: 2 });
    expect(await exists(newcomer.userId)).toEqual({ users: 1, messages: 2 });
  });
});

describe("the worker's guest sweep (redis mode)", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp("redis", { GUEST_SWEEP_INTERVAL_MS: "300", GUEST_TTL_DAYS: "30" });
  });
  afterAll(() => app?.stop());

  it("deletes an idle guest's account and chats; its cookie then gets 401 on a send", async () => {
    const idle = await ApiClient.guest(app.baseUrl);
    const kept = await ApiClient.guest(app.baseUrl);
    const idleTurn = await idle.send("/mock tokens=2 tps=0\nold chat");
    await idle.readSse(idleTurn.streamUrl);
    const keptTurn = await kept.send("/mock tokens=2 tps=0\nfresh chat");
    await kept.readSse(keptTurn.streamUrl);
    const pg = postgres(app.env.DATABASE_URL ?? "", { max: 1, onnotice: () => {} });
    try {
      await pg`update users set created_at = now() - interval '31 days'
        where id = (select user_id from chat_sessions where id = ${idleTurn.sessionId})`;
      await pg`update chat_sessions set updated_at = now() - interval '31 days' where id = ${idleTurn.sessionId}`;
      await expect
        .poll(
          async () => (await pg`select count(*)::int as n from chat_sessions where id = ${idleTurn.sessionId}`)[0]?.n,
          {
            timeout: 15_000,
          },
        )
        .toBe(0);
      const keptRows = await pg`select count(*)::int as n from chat_sessions where id = ${keptTurn.sessionId}`;
      expect(keptRows[0]?.n).toBe(1);
    } finally {
      await pg.end({ timeout: 5 });
    }
    const refused = await idle.json("/api/chat/messages", {
      method: "POST",
      body: JSON.stringify({ content: "still there?", clientMessageId: crypto.randomUUID() }),
    });
    expect(refused).toMatchObject({ status: 401, body: { error: { code: "unauthorized" } } });
    expect((await idle.json("/api/chat/sessions")).body).toEqual({ sessions: [], nextCursor: null });
  });
});
