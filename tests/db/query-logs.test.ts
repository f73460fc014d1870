import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { closeDb, getDb } from "../../lib/db/client";
import * as queries from "../../lib/db/queries";
import { createLogger, describeError, withLogContext } from "../../lib/log";
import { createDatabase } from "../support/app";
import { pointDatabaseAt } from "../support/database";

// What the database side writes to the log, on PGlite and on Postgres: a failed statement is
// described by its SQLSTATE and its verb and tables, never its parameters (drizzle's own message
// lists them, a message's content among them); a statement slower than SLOW_QUERY_MS is a warning
// with its name and duration, in a transaction too, and carries the log context's ids.

const lines: Array<Record<string, unknown>> = [];
const collector = { write: (line: string) => void lines.push(JSON.parse(line)) };

function useLogger(slowQueryMs: number) {
  Object.assign(process.env, { LOG_LEVEL: "info", SLOW_QUERY_MS: String(slowQueryMs) });
  (globalThis as { __backchannelEnv?: unknown }).__backchannelEnv = undefined;
  (globalThis as { __backchannelLogger?: unknown }).__backchannelLogger = createLogger("info", collector);
}

async function failureOf(statement: PromiseLike<unknown>): Promise<Error> {
  try {
    await statement;
  } catch (error) {
    return error as Error;
  }
  throw new Error("the statement did not fail");
}

const drivers = {
  pglite: async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bc-query-logs-"));
    await pointDatabaseAt({ DATA_DIR: dir });
    return async () => {
      await closeDb();
      rmSync(dir, { recursive: true, force: true });
    };
  },
  postgres: async () => {
    const database = await createDatabase();
    await pointDatabaseAt({ DATABASE_URL: database.url });
    return async () => {
      await closeDb();
      await database.drop();
    };
  },
};

describe.each(Object.keys(drivers) as Array<keyof typeof drivers>)("query logs (%s)", (driver) => {
  let cleanup: () => Promise<void>;
  const secret = `zebra-quartz-${driver}-${Date.now()}`;

  beforeAll(async () => {
    cleanup = await drivers[driver]();
  });
  afterAll(async () => {
    (globalThis as { __backchannelLogger?: unknown }).__backchannelLogger = undefined;
    delete process.env.SLOW_QUERY_MS;
    await cleanup?.();
  });
  afterEach(() => {
    lines.length = 0;
  });

  it("describes a failed statement by its SQLSTATE and tables, without its parameters", async () => {
    const db = await getDb();
    // Postgres's own message quotes the value here ("invalid input syntax for type uuid: …").
    const failure = await failureOf(db.execute(sql`select id from messages where id = ${secret}::uuid`));
    expect(String(failure.message)).toContain(secret);
    const described = describeError(failure);
    expect(described).toBe("DatabaseError 22P02 in select messages");

    // A statement the schema does not fit is told with Postgres's message: it names identifiers only.
    const unknownColumn = await failureOf(db.execute(sql`select nope from messages where id = ${secret}`));
    expect(describeError(unknownColumn)).toBe('DatabaseError 42703 (column "nope" does not exist) in select messages');

    // A second user with the same id breaks the primary key; the name is among the parameters.
    const user = await queries.createGuestUser({ name: "g" });
    const duplicate = await failureOf(db.execute(sql`insert into users (id, name) values (${user.id}, ${secret})`));
    expect(String(duplicate.message)).toContain(secret);
    expect(describeError(duplicate)).toBe("DatabaseError 23505 (users_pkey) in insert users");
  });

  it("warns of a statement slower than SLOW_QUERY_MS by name and duration, in a transaction too", async () => {
    const db = await getDb();
    const user = await queries.createGuestUser({ name: "g" });
    useLogger(20);
    const correlationId = crypto.randomUUID();
    await withLogContext({ correlationId, userId: user.id }, async () => {
      await db.execute(sql`select pg_sleep(0.05), ${secret}::text as marker`);
      await db.transaction(async (tx) => {
        await tx.execute(sql`select pg_sleep(0.05), ${secret}::text as in_transaction`);
      });
    });
    const slow = lines.filter((line) => line.msg === "slow query");
    expect(slow).toHaveLength(2);
    for (const line of slow) {
      expect(line).toMatchObject({ level: "warn", statement: "select", correlationId, userId: user.id });
      expect(line.durationMs).toBeGreaterThan(20);
      expect(Object.keys(line).sort()).toEqual([
        "correlationId",
        "durationMs",
        "level",
        "msg",
        "statement",
        "time",
        "userId",
      ]);
    }
    expect(JSON.stringify(lines)).not.toContain(secret);
  });

  it("names a prepared statement of lib/db by its name", async () => {
    useLogger(0);
    const user = await queries.createGuestUser({ name: "g" });
    await queries.getSessionById({ id: crypto.randomUUID(), userId: user.id });
    expect(lines.filter((line) => line.msg === "slow query").map((line) => line.statement)).toContain(
      "session_of_user",
    );
    expect(JSON.stringify(lines)).not.toContain(user.id);
  });

  it("says nothing of statements under the threshold", async () => {
    useLogger(60_000);
    const user = await queries.createGuestUser({ name: "g" });
    await queries.getSessionById({ id: crypto.randomUUID(), userId: user.id });
    expect(lines).toEqual([]);
  });
});
