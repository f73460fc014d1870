import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { preparingEverything } from "../../lib/db/client";
import { TEST_POSTGRES_URL } from "../support/services";

// drizzle runs a statement not built with .prepare() unprepared, and postgres-js then asks the
// server to describe it before binding its parameters: two round trips. The app's client prepares
// every statement with parameters instead, so each later run is one.

const client = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
afterAll(() => client.end({ timeout: 5 }));

/** The statements prepared on the client's one connection. */
async function preparedStatements(): Promise<string[]> {
  const rows = await client.unsafe<Array<{ statement: string }>>("select statement from pg_prepared_statements");
  return rows.map((row) => row.statement);
}

describe("Postgres statements", () => {
  it("are prepared once on the connection and reused, raw SQL and built queries alike", async () => {
    const db = drizzle(preparingEverything(client));
    const marker = `prepared_${Date.now()}`;
    for (const n of [1, 2, 3]) {
      const rows = await db.execute<{ n: number; tag: string }>(sql`select ${n}::int as n, ${marker}::text as tag`);
      expect([...rows]).toEqual([{ n, tag: marker }]);
    }
    const matching = (await preparedStatements()).filter((statement) => statement.includes("$2::text as tag"));
    expect(matching).toHaveLength(1);
  });

  it("without the wrapper, drizzle's statements are not prepared (what the wrapper fixes)", async () => {
    const db = drizzle(client);
    await db.execute(sql`select ${1}::int as unwrapped_probe`);
    const statements = await preparedStatements();
    expect(statements.some((statement) => statement.includes("unwrapped_probe"))).toBe(false);
  });

  it("runs a statement without parameters as a simple query", async () => {
    const db = drizzle(preparingEverything(client));
    const rows = await db.execute<{ one: number }>(sql`select 1 as one`);
    expect([...rows]).toEqual([{ one: 1 }]);
  });
});
