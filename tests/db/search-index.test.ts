import { randomUUID } from "node:crypto";
import { Placeholder } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { searchMessagesQuery } from "../../lib/db/queries/search";
import { createDatabase } from "../support/app";

// The search statement runs prepared, so after a few runs Postgres may plan it once for every
// query text (a generic plan). That plan must still find the matches through the partial GIN
// index: its expression and its predicate (constant statuses) are written into the statement.

let database: Awaited<ReturnType<typeof createDatabase>>;
let client: postgres.Sql;
const userId = randomUUID();

beforeAll(async () => {
  database = await createDatabase();
  client = postgres(database.url, { max: 1, onnotice: () => {} });
  await migrate(drizzle(client), { migrationsFolder: "drizzle" });
  // Twenty users with 500 finished messages each in 20 chats; a running reply of the first.
  await client`insert into users (id, name) values (${userId}, 'searcher')`;
  await client`insert into users (name) select 'other ' || n from generate_series(1, 19) n`;
  await client`insert into chat_sessions (user_id, title) select u.id, 'chat ' || n from users u, generate_series(1, 20) n`;
  await client`
    insert into messages (session_id, user_id, correlation_id, role, status, content)
    select s.id, s.user_id, gen_random_uuid(), 'assistant', 'completed', 'words about topic ' || n || ' and more words'
    from chat_sessions s, generate_series(1, 25) n`;
  await client`
    insert into messages (session_id, user_id, correlation_id, role, status, content)
    select id, user_id, gen_random_uuid(), 'assistant', 'generating', 'a topic 7 being written'
    from chat_sessions where user_id = ${userId} limit 1`;
  await client`analyze messages`;
  await client`set plan_cache_mode = force_generic_plan`;
});
afterAll(async () => {
  await client?.end();
  await database?.drop();
});

describe("the search statement", () => {
  it("finds ended messages through messages_search_idx in a generic plan", async () => {
    const query = searchMessagesQuery(drizzle(client)).toSQL();
    const values: Record<string, unknown> = { userId, words: "topic 7", prefix: "", limit: 20 };
    const params = query.params.map((param) => (param instanceof Placeholder ? values[param.name] : param));
    await client.unsafe(`prepare search_generic as ${query.sql}`);
    const literals = params.map((value) => `'${String(value).replaceAll("'", "''")}'`).join(", ");
    // drizzle reads the columns by position: the headline is the fourth.
    const rows = await client.unsafe(`execute search_generic(${literals})`).values();
    // Each of the user's 20 chats says "topic 7" once: 20 ended messages, the running reply left out.
    expect(rows).toHaveLength(20);
    expect(rows.map((row) => row[3])).toEqual(
      Array(20).fill("words about \u0002topic\u0003 \u00027\u0003 and more words"),
    );
    const plan = await client.unsafe<Array<{ "QUERY PLAN": string }>>(`explain execute search_generic(${literals})`);
    expect(plan.map((row) => row["QUERY PLAN"]).join("\n")).toContain("messages_search_idx");
  });
});
